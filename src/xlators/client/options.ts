/**
 * protocol/client's options, as GlusterFS volfiles give them (client.c `options[]`),
 * plus a few glusterts extras whose names end in `-ms`. Options stock glusterd writes
 * that change nothing here are declared too, so a generated volfile parses in full and
 * its values still reach SETVOLUME as stock sends them.
 */
import { OptionError } from '../../xlator/options.js';

const accepted = (def: string, description: string) =>
  ({ type: 'string', default: def, description: `${description}; accepted, not acted on` }) as const;

const tlsFile = (what: string, file: string) =>
  ({ type: 'string', default: '', description: `TLS: ${what} (empty = /etc/ssl/${file})` }) as const;

export const clientOptions = {
  'remote-host': { type: 'required-string', description: 'Host of the brick (or of glusterd, for portmap).' },
  'remote-port': {
    type: 'int',
    default: 0,
    min: 0,
    max: 65535,
    description:
      'Port to connect to first; 0 = 24007. If that peer lists Portmap in DUMP it is glusterd and ' +
      'the brick port comes from PORTBYBRICK; otherwise it is the brick itself.',
  },
  'remote-subvolume': {
    type: 'required-string',
    description: 'The brick export name (its path), sent in PORTBYBRICK and SETVOLUME.',
  },
  'transport-type': {
    type: 'enum',
    default: 'tcp',
    values: ['tcp', 'socket', 'rdma', 'tcp,rdma', 'unix'],
    description: 'tcp (= socket); rdma and unix are refused.',
  },
  'transport.address-family': {
    type: 'enum',
    default: 'inet',
    values: ['inet', 'inet6', 'inet/inet6', 'unix', 'inet-sdp'],
    description: 'inet or inet6: which address family remote-host resolves to.',
  },
  'ping-timeout': {
    type: 'int',
    default: 42,
    min: 0,
    max: 1013,
    description:
      'Seconds. While calls are outstanding a PING goes out every ping-timeout; a PING unanswered ' +
      'with nothing else received for ping-timeout drops the connection. 0 disables.',
  },
  'frame-timeout': {
    type: 'int',
    default: 1800,
    min: 0,
    max: 86400,
    description: 'Seconds a call may stay unanswered before it fails with ENOTCONN; 0 = no limit.',
  },
  username: { type: 'string', default: '', description: 'Sent in SETVOLUME (auth.login).' },
  password: { type: 'string', default: '', description: 'Sent in SETVOLUME (auth.login).' },
  'send-gids': {
    type: 'bool',
    default: true,
    description: "Send the caller's supplementary groups in the credential.",
  },
  'strict-locks': {
    type: 'bool',
    default: false,
    description:
      'Stock: do not re-open fds that held POSIX locks; accepted (glusterts never re-acquires locks).',
  },
  'filter-O_DIRECT': {
    type: 'bool',
    default: false,
    description: 'Clear O_DIRECT from OPEN and CREATE flags before sending them.',
  },
  'transport.socket.ssl-enabled': {
    type: 'bool',
    default: false,
    description:
      'TLS to the brick (docs/tls.md); the connection to glusterd on 24007 uses TLS only with secure-access, as stock.',
  },
  'client.ssl': { type: 'bool', default: false, description: 'Alias of transport.socket.ssl-enabled.' },
  'transport.socket.source-addr': {
    type: 'string',
    default: '',
    description: 'Local address the connections to glusterd and the brick are made from; empty = any.',
  },
  'transport.socket.keepalive': { type: 'bool', default: true, description: 'TCP keepalive on the socket.' },
  'transport.socket.keepalive-time': {
    type: 'int',
    default: 20,
    min: 0,
    description: 'Seconds of idle before the first keepalive probe.',
  },
  'transport.socket.keepalive-interval': accepted(
    '2',
    'Seconds between keepalive probes (kernel default used)',
  ),
  'transport.socket.keepalive-count': accepted('9', 'Keepalive probes before the kernel gives up'),
  'transport.tcp-user-timeout': accepted('0', 'TCP_USER_TIMEOUT'),
  'transport.socket.nodelay': accepted('on', 'TCP_NODELAY (always on)'),
  'transport.listen-backlog': accepted('1024', 'Server-side backlog'),
  'transport.socket.ssl-own-cert': tlsFile('certificate chain', 'glusterfs.pem'),
  'transport.socket.ssl-private-key': tlsFile('private key', 'glusterfs.key'),
  'transport.socket.ssl-ca-list': tlsFile('trusted CA certificates', 'glusterfs.ca'),
  'transport.socket.ssl-crl-path': {
    type: 'string',
    default: '',
    description: 'TLS: CRL directory; loaded by clients but checked only by servers, as stock',
  },
  'transport.socket.ssl-cert-depth': {
    type: 'int',
    default: 1,
    min: 0,
    description: 'TLS: intermediate CAs allowed in the brick certificate chain',
  },
  'transport.socket.ssl-cipher-list': {
    type: 'string',
    default: '',
    description: "TLS: OpenSSL cipher list for TLS 1.2 (empty = stock's default)",
  },
  'transport.socket.ssl-dh-param': tlsFile('DH parameters, when the file exists', 'dhparam.pem'),
  'transport.socket.ssl-ec-curve': {
    type: 'string',
    default: '',
    description: 'TLS: the ECDH curve (empty = prime256v1, as stock)',
  },
  'client-bind-insecure': accepted('on', 'Bind an unprivileged source port'),
  'tcp-window-size': accepted('', 'Socket buffer size'),
  'event-threads': accepted('2', 'Epoll threads (Node has one event loop)'),
  'volume-id': {
    type: 'string',
    default: '',
    description: 'The volume uuid; sent in SETVOLUME, where a brick of another volume refuses it.',
  },
  'volfile-key': {
    type: 'string',
    default: '',
    description: 'The volfile id the graph came from; sent in SETVOLUME (stock fills it from the mount).',
  },
  'process-name': {
    type: 'string',
    default: 'glusterts',
    description: 'Sent in SETVOLUME as process-name (stock gfapi: "gfapi.<program>").',
  },
  'reconnect-interval-ms': {
    type: 'int',
    default: 3000,
    min: 10,
    max: 3_600_000,
    description: 'glusterts: milliseconds between connection attempts after a failure (stock: 3 s).',
  },
  'reconnect-wait-ms': {
    type: 'int',
    default: 10_000,
    min: 0,
    max: 86_400_000,
    description:
      'glusterts: how long a fop issued while the brick is not up waits for it; 0 = fail at once ' +
      'with ENOTCONN, as stock protocol/client does.',
  },
  'handshake-timeout-ms': {
    type: 'int',
    default: 0,
    min: 0,
    max: 86_400_000,
    description:
      'glusterts: bound on connect and on each handshake call (DUMP, PORTBYBRICK, SETVOLUME, re-opens); ' +
      '0 = ping-timeout, or frame-timeout when ping-timeout is 0.',
  },
} as const;

export type ClientOptionSchema = typeof clientOptions;

/** glusterts-only keys: not sent to the brick in SETVOLUME. */
export const LOCAL_ONLY_KEYS: ReadonlySet<string> = new Set([
  'reconnect-interval-ms',
  'reconnect-wait-ms',
  'handshake-timeout-ms',
  'process-name',
]);

/** Refuses what glusterts cannot do, with a message saying so. */
export function checkSupported(name: string, o: { [K in keyof ClientOptionSchema]: unknown }): void {
  const t = o['transport-type'];
  if (t !== 'tcp' && t !== 'socket') {
    throw new OptionError(
      `volume ${name}: transport-type ${String(t)} is not implemented by glusterts (tcp only)`,
    );
  }
  const family = o['transport.address-family'];
  if (family === 'unix' || family === 'inet-sdp') {
    throw new OptionError(`volume ${name}: transport.address-family ${String(family)} is not implemented`);
  }
}
