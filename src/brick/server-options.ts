/**
 * The options a brick's protocol/server volume may carry, and nothing else: a brick fails
 * closed. An option it does not know, or a security option it cannot enforce, stops it
 * with a ConfigurationError naming the option, instead of serving without what the volfile
 * asked for (stock ignores unknown keys). The daemon does not restart a brick that stopped
 * for that reason (supervisor.ts); `volume status` shows it offline and why.
 *
 * The `limits.*` keys bound what clients may cost the brick; docs/limits.md explains them.
 */
import { GraphError, parseOptions, type OptionSchema, type OptionsOf } from '../xlator/index.js';
import { DEFAULT_ADMISSION, DEFAULT_PRE_AUTH, type AdmissionLimits } from '../rpc/admission.js';

/** A configuration the brick will not run with: restarting cannot help. */
export class ConfigurationError extends GraphError {}

const MiB = 1024 * 1024;

/**
 * Open fds in one session: QEMU holds one per disk image (a few more while it reopens), a
 * FUSE mount one per file its processes keep open; 65,536 is far above either.
 */
export const DEFAULT_FDS_PER_SESSION = 65_536;

export const SERVER_OPTIONS = {
  'transport.socket.listen-port': {
    type: 'int',
    default: 0,
    min: 0,
    max: 65535,
    description: 'TCP port to listen on (0: any free port; the brick signs it in to the daemon)',
  },
  'transport.socket.bind-address': {
    type: 'string',
    default: '0.0.0.0',
    description: 'address to listen on',
  },
  'transport-type': { type: 'enum', default: 'tcp', values: ['tcp', 'socket'], description: 'TCP only' },
  'transport.address-family': {
    type: 'enum',
    default: 'inet',
    values: ['inet', 'inet6'],
    description: 'accepted; the bind address decides the family',
  },
  // What stock glusterd writes into every brick's protocol/server, so that a brick volfile
  // from a stock installation starts: auth-path names the export the auth.* keys refer to
  // (the subvolume, here); the rest tune stock's socket and threads and change nothing a
  // client is allowed to do (glusterts's connections and event loop take their defaults).
  'auth-path': { type: 'string', default: '', description: 'the export auth.* options name (stock)' },
  'transport.listen-backlog': { type: 'int', default: 1024, min: 0, description: 'no effect (stock tuning)' },
  'transport.socket.keepalive': { type: 'bool', default: true, description: 'no effect (stock tuning)' },
  'transport.socket.keepalive-count': {
    type: 'int',
    default: 9,
    min: 0,
    description: 'no effect (stock tuning)',
  },
  'transport.socket.keepalive-interval': {
    type: 'int',
    default: 2,
    min: 0,
    description: 'no effect (stock tuning)',
  },
  'transport.socket.keepalive-time': {
    type: 'int',
    default: 20,
    min: 0,
    description: 'no effect (stock tuning)',
  },
  'transport.tcp-user-timeout': { type: 'int', default: 0, min: 0, description: 'no effect (stock tuning)' },
  'event-threads': {
    type: 'int',
    default: 1,
    min: 1,
    description: 'no effect: one event loop (stock tuning)',
  },
  'inode-lru-limit': { type: 'int', default: 16384, min: 0, description: 'no effect (stock tuning)' },
  'rpc-auth-allow-insecure': {
    type: 'bool',
    default: true,
    description: 'clients from any source port (glusterts never checks it; off is refused, not enforced)',
  },
  'limits.max-connections': {
    type: 'int',
    default: DEFAULT_ADMISSION.maxConnections,
    min: 1,
    description: 'client connections open at once; more are closed at accept',
  },
  'limits.max-connections-per-peer': {
    type: 'int',
    default: DEFAULT_ADMISSION.maxConnectionsPerPeer,
    min: 1,
    description: 'connections from one address at once',
  },
  'limits.max-bytes-per-connection': {
    type: 'size',
    default: DEFAULT_ADMISSION.maxBytesPerConnection,
    min: MiB,
    description:
      'request and reply bytes one connection may hold before reading pauses (one larger call runs alone)',
  },
  'limits.max-bytes': {
    type: 'size',
    default: DEFAULT_ADMISSION.maxBytesTotal,
    min: MiB,
    description: 'request and reply bytes all connections together may hold',
  },
  'limits.pre-auth-max-record': {
    type: 'size',
    default: DEFAULT_PRE_AUTH.maxRecord,
    min: 4096,
    max: 64 * MiB,
    description: 'largest record before SETVOLUME succeeds; a larger record mark closes the connection',
  },
  'limits.pre-auth-idle-timeout': {
    type: 'int',
    default: DEFAULT_PRE_AUTH.idleMs / 1000,
    min: 0,
    description: 'seconds an unauthenticated connection may stay silent (0: no limit)',
  },
  'limits.setvolume-timeout': {
    type: 'int',
    default: DEFAULT_PRE_AUTH.deadlineMs / 1000,
    min: 0,
    description: 'seconds from connect to a successful SETVOLUME (0: no limit)',
  },
  'limits.max-fds-per-session': {
    type: 'int',
    default: DEFAULT_FDS_PER_SESSION,
    min: 1,
    description: 'open fds one client session may hold; OPEN/CREATE/OPENDIR beyond get EMFILE',
  },
  'limits.max-fds': {
    type: 'int',
    default: 0,
    min: 0,
    description:
      "open fds all sessions together may hold (0: the process's fd limit less 2,048 for sockets and files)",
  },
} as const satisfies OptionSchema;

export type ServerOptionValues = OptionsOf<typeof SERVER_OPTIONS>;

/**
 * Options named after the export or a user, and enforced by the brick: address allow and
 * reject lists and logins (auth.ts). Anything matching none of these, not in SERVER_OPTIONS
 * and not among the caller's `enforced` keys (boot.ts: squash) stops the brick. Whoever makes
 * the brick enforce a new option adds it here or passes it in.
 */
const ENFORCED_PATTERNS: readonly RegExp[] = [
  /^auth\.(addr|ip)\..+\.(allow|reject)$/,
  /^auth\.login\..+\.allow$/,
  /^auth\.login\..+\.password$/,
  /^auth\.login\..+\.ssl-allow$/,
];

/** Parses protocol/server options; unknown or unenforceable ones are a ConfigurationError. */
export function parseServerOptions(
  volume: string,
  raw: ReadonlyMap<string, string>,
  enforced: readonly string[] = [],
): ServerOptionValues {
  let parsed;
  try {
    parsed = parseOptions(SERVER_OPTIONS, raw);
  } catch (err) {
    throw new ConfigurationError(`brick volfile: ${volume}: ${(err as Error).message}`);
  }
  const refused = parsed.unknown.filter(
    (key) => !enforced.includes(key) && !ENFORCED_PATTERNS.some((p) => p.test(key)),
  );
  if (refused.length > 0) {
    throw new ConfigurationError(
      `brick volfile: ${volume}: option ${refused.join(', ')} is not supported by glusterts; ` +
        'the brick does not start rather than serve without it',
    );
  }
  if (!parsed.options['rpc-auth-allow-insecure']) {
    throw new ConfigurationError(
      `brick volfile: ${volume}: option rpc-auth-allow-insecure off (privileged source ports only) ` +
        'is not supported by glusterts; the brick does not start rather than serve without it',
    );
  }
  return parsed.options;
}

/** The RPC admission bounds the options ask for. */
export function admissionFrom(o: ServerOptionValues): AdmissionLimits {
  return {
    maxConnections: o['limits.max-connections'],
    maxConnectionsPerPeer: o['limits.max-connections-per-peer'],
    maxBytesPerConnection: o['limits.max-bytes-per-connection'],
    maxBytesTotal: o['limits.max-bytes'],
    preAuth: {
      maxRecord: o['limits.pre-auth-max-record'],
      idleMs: o['limits.pre-auth-idle-timeout'] * 1000,
      deadlineMs: o['limits.setvolume-timeout'] * 1000,
    },
  };
}
