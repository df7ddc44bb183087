/**
 * Volfile generation, in the shape stock glusterd 10.3 writes (checked against the
 * captured GETSPEC replies in test/fixtures/wire):
 *
 * client (GETSPEC key `<vol>`), bottom to top
 *     <vol>-client-N  protocol/client  one per brick; clients ask portmap for the port
 *                     (remote-port is written only when the daemon is not on 24007, and
 *                     then names the daemon's port: clients send DUMP there, see Portmap
 *                     listed, and ask PORTBYBRICK as they would on 24007)
 *     <vol>-replicate-K  cluster/replicate over replica set K (replicated volumes only)
 *     <vol>-dht       cluster/distribute over the replica sets, or over the clients
 *                     (present even for one brick, as glusterd does)
 *     <vol>-shard     features/shard with features.shard (kept under client.trimmed)
 *     <vol>-utime, -write-behind, -read-ahead, -readdir-ahead, -io-cache, -open-behind,
 *     -quick-read, -nl-cache, -md-cache, -io-threads
 *                     each with its volume option (read-ahead, readdir-ahead, io-cache and
 *                     nl-cache off by default); all gone with client.trimmed
 *     <vol>           debug/io-stats, the top
 *
 * self-heal daemon (GETSPEC key `shd/<vol>`, replicated volumes only)
 *     the same <vol>-client-N and <vol>-replicate-K (with iam-self-heal-daemon, the
 *     shd-only keys such as heal-timeout, and the heal switches glusterd forces on), and
 *     <vol> (debug/io-stats) over every replica set: no distribute, no performance layers
 *
 * brick (GETSPEC key `<vol>.<host>.<dashed path>`, and the file the brick process loads)
 *     <vol>-posix → [<vol>-arbiter] → <vol>-locks → [<vol>-failed-writes] → [<vol>-rejoin-guard] →
 *     [<vol>-heal-ranges] → [<vol>-index] →
 *     <brick path> (debug/io-stats: clients name it in remote-subvolume) → <vol>-server
 *     (protocol/server); the bracketed ones on replicated volumes only (arbiter: on arbiter
 *     bricks; failed-writes, rejoin-guard and heal-ranges, glusterts's own, on the others)
 */
import { printVolfile, type VolumeDecl } from '../xlator/volfile.js';
import {
  REPLICATE_VOLFILE_OPTIONS,
  SHD_VOLFILE_OPTIONS,
  TLS_VOLFILE_OPTIONS,
  resolveVolumeOptions,
  type VolumeOptionKey,
  type VolumeOptionValues,
} from './options.js';
import {
  isArbiterBrick,
  isReplicated,
  replicaLayout,
  replicaSets,
  type VolumeBrick,
  type VolumeRecord,
} from './volume.js';

function decl(
  name: string,
  type: string,
  options: [string, string][],
  subvolumes: string[] = [],
): VolumeDecl {
  return { name, type, options: new Map(options), subvolumes };
}

const onOff = (b: boolean) => (b ? 'on' : 'off');

/** `[option, value]` for each key the volume has set, as typed, in the order given (glusterd's). */
function setOptions(
  vol: VolumeRecord,
  keys: readonly (readonly [VolumeOptionKey, string])[],
): [string, string][] {
  return keys.filter(([k]) => Object.hasOwn(vol.options, k)).map(([k, name]) => [name, vol.options[k]!]);
}

/** Where clients find the management daemon, when it is not the default. */
export interface ClientVolfileOptions {
  /** The daemon's TCP port; other than 24007 it is written as remote-port. */
  mgmtPort?: number;
}

export { GLUSTERD_PORT } from '../protocol/portmap.js';
import { GLUSTERD_PORT } from '../protocol/portmap.js';

function clientDecl(
  vol: VolumeRecord,
  index: number,
  opts: VolumeOptionValues,
  where: ClientVolfileOptions,
): VolumeDecl {
  const brick = vol.bricks[index]!;
  const port: [string, string][] =
    where.mgmtPort !== undefined && where.mgmtPort !== GLUSTERD_PORT
      ? [['remote-port', String(where.mgmtPort)]]
      : [];
  return decl(`${vol.name}-client-${index}`, 'protocol/client', [
    ['send-gids', 'true'],
    ['strict-locks', 'off'],
    ['transport.socket.keepalive-count', '9'],
    ['transport.socket.keepalive-interval', '2'],
    ['transport.socket.keepalive-time', '20'],
    ['transport.tcp-user-timeout', '0'],
    ...setOptions(vol, [
      ['client.event-threads', 'event-threads'],
      ['network.remote-dio', 'filter-O_DIRECT'],
    ]),
    ...setOptions(vol, TLS_VOLFILE_OPTIONS),
    ['transport.socket.ssl-enabled', vol.options['client.ssl'] ?? 'off'],
    ['transport.address-family', 'inet'],
    ['transport-type', 'tcp'],
    ['remote-subvolume', brick.path],
    ['remote-host', brick.host],
    ...port,
    ['ping-timeout', String(opts['network.ping-timeout'])],
  ]);
}

/**
 * `<vol>-replicate-K` over replica set K. afr-pending-xattr names the clients by their
 * index in the whole volume, so the on-disk changelog keys (`trusted.afr.<vol>-client-N`)
 * are the same on every replica. The AFR volume options follow only when set, as glusterd
 * writes them.
 */
function replicateDecl(vol: VolumeRecord, set: readonly number[], k: number, forShd = false): VolumeDecl {
  const clients = set.map((i) => `${vol.name}-client-${i}`);
  const { arbiter } = replicaLayout(vol);
  const options: [string, string][] = [
    ...(forShd ? [['iam-self-heal-daemon', 'yes'] as [string, string]] : []),
    ['use-anonymous-inode', 'yes'],
    ['use-compound-fops', 'off'],
  ];
  options.push(
    ...setOptions(
      vol,
      forShd ? [...REPLICATE_VOLFILE_OPTIONS, ...SHD_VOLFILE_OPTIONS] : REPLICATE_VOLFILE_OPTIONS,
    ),
  );
  if (forShd) options.push(...shdForcedOptions(vol));
  if (arbiter > 0) options.push(['arbiter-count', String(arbiter)]);
  options.push(['volume-id', vol.id], ['afr-pending-xattr', clients.join(',')]);
  return decl(`${vol.name}-replicate-${k}`, 'cluster/replicate', options, clients);
}

/**
 * What glusterd sets on every replica set of the self-heal daemon's graph: self-heal-daemon
 * as stored (else `enable`), the heal switches on whatever is stored.
 */
const shdForcedOptions = (vol: VolumeRecord): [string, string][] => [
  ['self-heal-daemon', vol.options['cluster.self-heal-daemon'] ?? 'enable'],
  ['entry-self-heal', 'on'],
  ['data-self-heal', 'on'],
  ['metadata-self-heal', 'on'],
  ['background-self-heal-count', '0'],
];

/** The client volfile's translator stack as declarations, bottom first. */
export function clientGraph(vol: VolumeRecord, where: ClientVolfileOptions = {}): VolumeDecl[] {
  const opts = resolveVolumeOptions(vol.options);
  const clients = vol.bricks.map((_, i) => clientDecl(vol, i, opts, where));
  const replicas = isReplicated(vol) ? replicaSets(vol).map((set, k) => replicateDecl(vol, set, k)) : [];
  const volumes: VolumeDecl[] = [...clients, ...replicas];
  let subvolumes = (replicas.length ? replicas : clients).map((c) => c.name);
  if (opts['performance.parallel-readdir'] && !opts['client.trimmed']) {
    const ahead = parallelReaddirAhead(vol, opts['performance.readdir-ahead'], subvolumes);
    volumes.push(...ahead);
    subvolumes = ahead.map((d) => d.name);
  }
  let below = `${vol.name}-dht`;
  volumes.push(
    decl(
      below,
      'cluster/distribute',
      [
        ['force-migration', 'off'],
        ['lock-migration', 'off'],
        ...setOptions(vol, [['cluster.lookup-optimize', 'lookup-optimize']]),
      ],
      subvolumes,
    ),
  );
  const push = (suffix: string, type: string, options: [string, string][] = []) => {
    const name = `${vol.name}-${suffix}`;
    volumes.push(decl(name, type, options, [below]));
    below = name;
  };
  // The data layout, so it stays under client.trimmed too.
  if (opts['features.shard'])
    push('shard', 'features/shard', setOptions(vol, [['features.shard-block-size', 'shard-block-size']]));
  if (!opts['client.trimmed']) {
    if (opts['features.ctime']) push('utime', 'features/utime', [['noatime', onOff(opts['ctime.noatime'])]]);
    if (opts['performance.write-behind'])
      push(
        'write-behind',
        'performance/write-behind',
        setOptions(vol, [
          ['performance.strict-o-direct', 'strict-O_DIRECT'],
          ['performance.write-behind-window-size', 'cache-size'],
        ]),
      );
    if (opts['performance.read-ahead']) push('read-ahead', 'performance/read-ahead');
    // With parallel-readdir, readdir-ahead sits below distribute instead (above).
    if (opts['performance.readdir-ahead'] && !opts['performance.parallel-readdir'])
      push('readdir-ahead', 'performance/readdir-ahead', [
        ...readdirAheadLimits(vol, 1),
        ['parallel-readdir', 'off'],
      ]);
    if (opts['performance.io-cache']) push('io-cache', 'performance/io-cache');
    if (opts['performance.open-behind'])
      push(
        'open-behind',
        'performance/open-behind',
        setOptions(vol, [['performance.read-after-open', 'read-after-open']]),
      );
    if (opts['performance.quick-read']) push('quick-read', 'performance/quick-read');
    if (opts['performance.nl-cache'])
      push('nl-cache', 'performance/nl-cache', [
        ...setOptions(vol, [['performance.nl-cache-timeout', 'nl-cache-timeout']]),
        ['nl-cache-limit', '10MB'],
      ]);
    if (opts['performance.stat-prefetch'])
      push(
        'md-cache',
        'performance/md-cache',
        setOptions(vol, [
          ['performance.cache-invalidation', 'cache-invalidation'],
          ['performance.cache-samba-metadata', 'cache-samba-metadata'],
          ['performance.md-cache-timeout', 'md-cache-timeout'],
        ]),
      );
    if (opts['performance.client-io-threads'])
      push(
        'io-threads',
        'performance/io-threads',
        setOptions(vol, [
          ['performance.least-prio-threads', 'least-prio-threads'],
          ['performance.low-prio-threads', 'low-prio-threads'],
          ['performance.normal-prio-threads', 'normal-prio-threads'],
          ['performance.high-prio-threads', 'high-prio-threads'],
          ['performance.io-thread-count', 'thread-count'],
        ]),
      );
  }
  volumes.push(
    decl(
      vol.name,
      'debug/io-stats',
      [
        ['global-threading', 'off'],
        ['count-fop-hits', onOff(opts['diagnostics.count-fop-hits'])],
        ['latency-measurement', onOff(opts['diagnostics.latency-measurement'])],
        ['threads', '16'],
        ['log-level', 'INFO'],
      ],
      [below],
    ),
  );
  return volumes;
}

/**
 * parallel-readdir as glusterd 10.3 writes it: one readdir-ahead per distribute subvolume
 * (`<vol>-readdir-ahead-<i>`), whether or not performance.readdir-ahead is on.
 */
function parallelReaddirAhead(
  vol: VolumeRecord,
  readdirAheadOn: boolean,
  subvolumes: string[],
): VolumeDecl[] {
  const limits = readdirAheadLimits(vol, readdirAheadOn ? subvolumes.length : 1);
  return subvolumes.map((child, i) =>
    decl(
      `${vol.name}-readdir-ahead-${i}`,
      'performance/readdir-ahead',
      [...limits, ['parallel-readdir', 'on'], ['performance.readdir-ahead', 'on']],
      [child],
    ),
  );
}

/**
 * readdir-ahead's cache limit and request size as glusterd writes them: the stored text (or
 * glusterd's defaults, 10MB and 131072) for one instance; split between `shares` instances,
 * the limit is divided (in bytes, "B" suffix) and the request size cut to fit it, never
 * below 4 KiB. The watermarks follow when set.
 */
function readdirAheadLimits(vol: VolumeRecord, shares: number): [string, string][] {
  const opts = resolveVolumeOptions(vol.options);
  let cache = vol.options['performance.rda-cache-limit'] ?? '10MB';
  let request = vol.options['performance.rda-request-size'] ?? '131072';
  if (shares > 1) {
    const share = Math.floor(opts['performance.rda-cache-limit'] / shares);
    const floor = 4096;
    const cacheBytes = share < opts['performance.rda-request-size'] && share < floor ? floor : share;
    if (share < opts['performance.rda-request-size']) request = `${Math.max(share, floor)}B`;
    cache = `${cacheBytes}B`;
  }
  // glusterd's order: the option names sorted.
  return [
    ['rda-cache-limit', cache],
    ...setOptions(vol, [
      ['performance.rda-high-wmark', 'rda-high-wmark'],
      ['performance.rda-low-wmark', 'rda-low-wmark'],
    ]),
    ['rda-request-size', request],
  ];
}

export function clientVolfile(vol: VolumeRecord, where: ClientVolfileOptions = {}): string {
  return printVolfile({ volumes: clientGraph(vol, where) });
}

/**
 * The self-heal daemon's graph (`<vol>-shd.vol`, GETSPEC `shd/<vol>`), as glusterd 10.3
 * writes it: the clients (without send-gids), each replica set with the shd's options, and
 * io-stats over all the sets. Empty for a volume that is not replicated.
 */
export function shdGraph(vol: VolumeRecord, where: ClientVolfileOptions = {}): VolumeDecl[] {
  if (!isReplicated(vol)) return [];
  const opts = resolveVolumeOptions(vol.options);
  const clients = vol.bricks.map((_, i) => {
    const c = clientDecl(vol, i, opts, where);
    c.options.delete('send-gids');
    return c;
  });
  const replicas = replicaSets(vol).map((set, k) => replicateDecl(vol, set, k, true));
  const top = decl(
    vol.name,
    'debug/io-stats',
    [
      ['threads', '16'],
      ['log-level', 'INFO'],
    ],
    replicas.map((r) => r.name),
  );
  return [...clients, ...replicas, top];
}

export function shdVolfile(vol: VolumeRecord, where: ClientVolfileOptions = {}): string {
  return printVolfile({ volumes: shdGraph(vol, where) });
}

/**
 * The brick volfile's stack as declarations, bottom first: posix, access-control, locks, …,
 * io-stats, protocol/server. A replicated volume's bricks
 * also carry what AFR needs on the brick, with stock's names and options:
 * `<vol>-arbiter` (features/arbiter) right above posix on arbiter bricks only, and
 * `<vol>-index` (features/index, the xattrop/dirty/entry-changes indices) below io-stats;
 * on data bricks `<vol>-failed-writes` (docs/replication.md "Stale reads after a failed
 * write"), `<vol>-rejoin-guard` (docs/replication.md "Stale reads after a brick returns")
 * and `<vol>-heal-ranges` (docs/replication.md "Changed ranges"), which stock lacks, right
 * below the index, the latter watching the same keys.
 */
export function brickGraph(vol: VolumeRecord, brick: VolumeBrick): VolumeDecl[] {
  const opts = resolveVolumeOptions(vol.options);
  const posix = decl(`${vol.name}-posix`, 'storage/posix', [
    ['volume-id', vol.id],
    ['directory', brick.path],
  ]);
  const stack: VolumeDecl[] = [posix];
  const push = (name: string, type: string, options: [string, string][] = []) =>
    stack.push(decl(name, type, options, [stack.at(-1)!.name]));
  const index = vol.bricks.findIndex((b) => b.host === brick.host && b.path === brick.path);
  if (isArbiterBrick(vol, index)) push(`${vol.name}-arbiter`, 'features/arbiter');
  // Permission checks for non-root callers, where stock has them (docs/permissions.md).
  push(`${vol.name}-access-control`, 'features/access-control');
  push(`${vol.name}-locks`, 'features/locks');
  if (isReplicated(vol)) {
    const watch: [string, string][] = [
      ['xattrop-pending-watchlist', `trusted.afr.${vol.name}-`],
      ['xattrop-dirty-watchlist', 'trusted.afr.dirty'],
      ['index-base', `${brick.path}/.glusterfs/indices`],
    ];
    // glusterts's own, on bricks that hold data: no reads of what this brick failed to
    // store, none for a reconnected client before its first AFR lock cycle here (stock AFR's
    // stale-read windows), and changed ranges for heal.
    if (!isArbiterBrick(vol, index)) {
      push(`${vol.name}-failed-writes`, 'features/failed-writes');
      push(`${vol.name}-rejoin-guard`, 'features/rejoin-guard');
      push(`${vol.name}-heal-ranges`, 'features/heal-ranges', watch);
    }
    push(`${vol.name}-index`, 'features/index', watch);
  }
  push(brick.path, 'debug/io-stats', [
    ['volume-id', vol.id],
    ['unique-id', brick.path],
  ]);
  const stats = stack.at(-1)!;
  const server = decl(
    `${vol.name}-server`,
    'protocol/server',
    [
      ['transport.socket.listen-port', '0'],
      ...setOptions(vol, [
        ['server.anonuid', 'anonuid'],
        ['server.anongid', 'anongid'],
        ['server.root-squash', 'root-squash'],
        ['server.all-squash', 'all-squash'],
        ['auth.reject', `auth.addr.${brick.path}.reject`],
        ['server.ssl', 'transport.socket.ssl-enabled'],
      ]),
      [`auth.addr.${brick.path}.allow`, opts['auth.allow']],
      ...setOptions(vol, [['auth.ssl-allow', `auth.login.${brick.path}.ssl-allow`]]),
      ...setOptions(vol, TLS_VOLFILE_OPTIONS),
      ['transport.socket.bind-address', brick.host],
      ['transport-type', 'tcp'],
    ],
    [stats.name],
  );
  return [...stack, server];
}

export function brickVolfile(vol: VolumeRecord, brick: VolumeBrick): string {
  return printVolfile({ volumes: brickGraph(vol, brick) });
}
