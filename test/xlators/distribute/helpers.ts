/**
 * cluster/distribute over real storage: N storage/posix bricks on temp directories, named
 * as glusterd names a volume's clients (`<vol>-client-<i>`, which is what linkto files
 * and the layout's name order use), and a client-side view: path walks, file I/O and
 * listings through the DHT, plus what each brick holds on disk.
 */
import { mkdir as fsMkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gfuuidValue, type GfxDict } from '../../../src/protocol/dict.js';
import type { FopName } from '../../../src/protocol/fops.js';
import { ROOT_GFID, randomGfid, type Gfid } from '../../../src/protocol/gfid.js';
import type { Iatt } from '../../../src/protocol/iatt.js';
import type { DirentPlus } from '../../../src/protocol/structs.js';
import { lgetxattr } from '../../../src/sys/index.js';
import {
  FdTable,
  Graph,
  OpenFd,
  parseVolfile,
  type FopContext,
  type FopReply,
  type FopRequest,
} from '../../../src/xlator/index.js';
import { distribute, parseDiskLayout, type DiskLayout } from '../../../src/xlators/distribute/index.js';
import { posix } from '../../../src/xlators/posix/index.js';

export const registry = new Map<string, any>([
  [posix.type, posix],
  [distribute.type, distribute],
]);

export function context(): FopContext {
  return {
    caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.alloc(8) },
    session: { id: 'dht-test', fds: new FdTable() },
  };
}

export function volfile(volume: string, dirs: readonly string[], dhtOptions: Record<string, string> = {}) {
  const bricks = dirs.map(
    (d, i) => `volume ${volume}-client-${i}\n type storage/posix\n option directory ${d}\nend-volume\n`,
  );
  const opts = Object.entries(dhtOptions)
    .map(([k, v]) => ` option ${k} ${v}\n`)
    .join('');
  const names = dirs.map((_, i) => `${volume}-client-${i}`).join(' ');
  return `${bricks.join('\n')}\nvolume ${volume}-dht\n type cluster/distribute\n${opts} subvolumes ${names}\nend-volume\n`;
}

export interface Dist {
  dirs: string[];
  graph: Graph;
  ctx: FopContext;
  call<N extends FopName>(fop: N, req: FopRequest<N>): Promise<FopReply<N>>;
  /** A fresh graph (no remembered layouts or locations) on the same bricks. */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/** `n` fresh bricks under /var/tmp (trusted xattrs), or the given directories (kept). */
export async function makeDist(
  n: number,
  opts: { dirs?: string[]; volume?: string; dhtOptions?: Record<string, string> } = {},
): Promise<Dist> {
  const own = !opts.dirs;
  const base = own ? await mkdtemp(join('/var/tmp', 'glusterts-dht-')) : '';
  const dirs = opts.dirs ?? Array.from({ length: n }, (_, i) => join(base, `b${i}`));
  if (own) for (const dir of dirs) await fsMkdir(dir);
  const build = () =>
    Graph.build(parseVolfile(volfile(opts.volume ?? 'dv', dirs, opts.dhtOptions)), registry);
  let graph = await build();
  const ctx = context();
  return {
    dirs,
    get graph() {
      return graph;
    },
    ctx,
    call: (fop, req) => graph.top.call(fop, req, ctx),
    async reopen() {
      await graph.fini();
      graph = await build();
    },
    async close() {
      await graph.fini();
      if (own) await rm(base, { recursive: true, force: true });
    },
  };
}

export function gfidReq(gfid: Gfid = randomGfid()): GfxDict {
  return new Map([['gfid-req', gfuuidValue(gfid)]]);
}

export async function lookup(d: Dist, parent: Gfid, name: string): Promise<Iatt> {
  const r = await d.call('LOOKUP', {
    gfid: Buffer.alloc(16),
    pargfid: parent,
    flags: 0,
    bname: name,
    xdata: null,
  });
  return r.prestat;
}

/** Walks a slash path from the root by named LOOKUPs, as a client does. */
export async function walk(d: Dist, path: string): Promise<Iatt> {
  let st = (
    await d.call('LOOKUP', { gfid: ROOT_GFID, pargfid: Buffer.alloc(16), flags: 0, bname: '', xdata: null })
  ).prestat;
  for (const part of path.split('/').filter(Boolean)) st = await lookup(d, st.gfid, part);
  return st;
}

export async function mkdir(d: Dist, parent: Gfid, name: string): Promise<Gfid> {
  const gfid = randomGfid();
  await d.call('MKDIR', { pargfid: parent, mode: 0o755, umask: 0o022, bname: name, xdata: gfidReq(gfid) });
  return gfid;
}

export async function writeFile(d: Dist, parent: Gfid, name: string, data: Buffer | string): Promise<Gfid> {
  const gfid = randomGfid();
  const fd = new OpenFd(gfid, 0o102, false);
  await d.call('CREATE', {
    pargfid: parent,
    flags: 0o102,
    mode: 0o644,
    umask: 0o022,
    bname: name,
    xdata: gfidReq(gfid),
    fd,
  });
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  await d.call('WRITE', {
    gfid,
    fd,
    offset: 0,
    size: payload.length,
    flag: 0,
    xdata: null,
    payload,
  } as never);
  await d.call('RELEASE', { gfid, fd, xdata: null });
  return gfid;
}

export async function readAll(d: Dist, gfid: Gfid, size = 1 << 20): Promise<Buffer> {
  const fd = new OpenFd(gfid, 0, false);
  await d.call('OPEN', { gfid, flags: 0, xdata: null, fd });
  try {
    const r = (await d.call('READ', {
      gfid,
      fd,
      offset: 0,
      size,
      flag: 0,
      xdata: null,
    })) as FopReply<'READ'> & {
      payload: Buffer;
    };
    return r.payload;
  } finally {
    await d.call('RELEASE', { gfid, fd, xdata: null });
  }
}

/** Every entry of a directory through the DHT, page by page (`size` bytes per page). */
export async function listAll(
  d: Dist,
  gfid: Gfid,
  size = 4096,
): Promise<{ entries: DirentPlus[]; pages: number }> {
  const fd = new OpenFd(gfid, 0, true);
  await d.call('OPENDIR', { gfid, fd, xdata: null });
  const entries: DirentPlus[] = [];
  let pages = 0;
  try {
    let offset = 0n;
    for (;;) {
      const r = await d.call('READDIRP', { gfid, fd, offset, size, xdata: null });
      pages++;
      entries.push(...r.entries);
      if (r.entries.length === 0) break;
      offset = r.entries[r.entries.length - 1]!.off;
      if (pages > 10_000) throw new Error('listing does not end');
    }
  } finally {
    await d.call('RELEASEDIR', { gfid, fd, xdata: null });
  }
  return { entries, pages };
}

/** A directory's layout on each brick (null where it has none). */
export async function brickLayouts(dirs: readonly string[], rel: string): Promise<(DiskLayout | null)[]> {
  return Promise.all(
    dirs.map((b) =>
      lgetxattr(join(b, rel), 'trusted.glusterfs.dht').then(
        (v) => parseDiskLayout(v),
        () => null,
      ),
    ),
  );
}

export async function close(d: Dist | undefined): Promise<void> {
  await d?.close();
}
