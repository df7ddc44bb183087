/**
 * QEMU's gluster URI syntax (block/gluster.c):
 * `gluster[+tcp|+unix|+rdma]://[host[:port]]/volume/path[?socket=/path]`.
 * `gluster` and `gluster+tcp` are TCP with port 24007 by default; `+unix` takes no host
 * and exactly `?socket=`; `+rdma` falls back to TCP, as QEMU 7.2 does. The volume is the
 * first path component; the rest is the path inside it ("/" when absent: unlike QEMU,
 * which needs an image, a directory or the volume root may be named here).
 */
import { GlusterError } from './errors.js';
import { GLUSTERD_PORT, type VolfileServer } from './mgmt.js';
import { Volume, type ConnectOptions } from './volume.js';

export interface GlusterUrl {
  server: VolfileServer;
  volume: string;
  /** Absolute, inside the volume. */
  path: string;
}

export function isGlusterUrl(s: string): boolean {
  return /^gluster(\+(tcp|unix|rdma))?:\/\//i.test(s);
}

export function parseGlusterUrl(s: string): GlusterUrl {
  const bad = (why: string): never => {
    throw new GlusterError('EINVAL', 'gluster_parse_uri', s, { detail: why });
  };
  const m = /^gluster(?:\+(tcp|unix|rdma))?:\/\/([^/?#]*)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(s);
  if (!m) return bad('expected gluster[+tcp|+unix]://[host[:port]]/volume/path');
  const transport = (m[1] ?? 'tcp').toLowerCase();
  const authority = m[2] ?? '';
  const rawPath = m[3] ?? '';
  const query = new URLSearchParams(m[4] ?? '');
  const parts = rawPath.split('/').filter((p) => p !== '');
  const volume = parts[0] !== undefined ? decodeURIComponent(parts[0]) : bad('no volume name');
  const path = '/' + parts.slice(1).map(decodeURIComponent).join('/');
  let server: VolfileServer;
  if (transport === 'unix') {
    if (authority !== '') bad('gluster+unix takes no host or port');
    const socket = query.get('socket');
    if (!socket || [...query.keys()].length !== 1) bad('gluster+unix needs exactly ?socket=PATH');
    server = { socket: socket! };
  } else {
    if ([...query.keys()].length > 0) bad('only gluster+unix takes a query');
    const hm = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(authority);
    if (!hm) return bad('bad host[:port]');
    const host = hm[1] ?? (hm[2] || 'localhost');
    const port = hm[3] === undefined ? GLUSTERD_PORT : Number(hm[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`bad port ${hm[3]}`);
    server = { host, port };
  }
  return { server, volume, path };
}

/** Connects to the volume a gluster:// URL names (its one server, its volume). */
export function connectUrl(
  url: string | GlusterUrl,
  opts: Omit<ConnectOptions, 'volume' | 'servers'> = {},
): Promise<Volume> {
  const u = typeof url === 'string' ? parseGlusterUrl(url) : url;
  return Volume.connect({ ...opts, volume: u.volume, servers: [u.server] });
}
