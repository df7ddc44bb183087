/**
 * The `volume set` keys glusterts supports: one typed schema (src/xlator/options.ts) that
 * validates `volume set`, drives volfile generation (volfiles.ts), answers `volume get` and
 * documents itself (docs/mgmt.md's table is printed from it). Keys, types, ranges and refusal
 * texts are stock glusterd 10.3's; every key of stock's option groups (groups.ts) is here.
 * Keys marked `noop` are accepted and stored but glusterts gives them no effect (yet); a few
 * other spellings GlusterFS users type are accepted as aliases. Unknown keys are refused.
 */
import { validAddressList } from './address-list.js';
import { OptionError, parseOption, parseSize, type OptionSpec } from '../xlator/options.js';

/**
 * How stock words a refused value: `xlator` the translator option table's texts (naming the
 * translator option), `time` its time-option texts, `toggle` the bare text glusterd gives for
 * keys that add or remove a translator, `glusterd-bool` glusterd's own boolean check,
 * `glusterts` our wording (keys stock does not have).
 */
export type RefusalWording = 'xlator' | 'time' | 'toggle' | 'glusterd-bool' | 'glusterts';

export type VolumeOptionSpec = OptionSpec & {
  /** What `volume get` prints while the key is unset, as stock 10.3 does ("(DEFAULT)": the translator's own default). */
  unset: string;
  /** Stock's wording for a refused value; `xlator` when absent. */
  refuse?: RefusalWording;
  /** The translator option stock's refusals name, when it is not the key's last part. */
  xlator?: string;
  /** Accepted and stored, shown by `volume get`, but no effect in glusterts (the description says why). */
  noop?: true;
};

/** An `ssl.*` key: a transport.socket.ssl-* option written into the brick and client volfiles. */
function tlsOption(xlator: string, what: string) {
  return {
    type: 'string',
    default: '',
    unset: '(null) (DEFAULT)',
    xlator,
    description: `TLS: ${what}`,
  } as const;
}

/** The `ssl.*` keys with the transport option each becomes, in the order glusterd writes them. */
export const TLS_VOLFILE_OPTIONS: readonly (readonly [VolumeOptionKey, string])[] = [
  ['ssl.ec-curve', 'transport.socket.ssl-ec-curve'],
  ['ssl.dh-param', 'transport.socket.ssl-dh-param'],
  ['ssl.cipher-list', 'transport.socket.ssl-cipher-list'],
  ['ssl.certificate-depth', 'transport.socket.ssl-cert-depth'],
  ['ssl.crl-path', 'transport.socket.ssl-crl-path'],
  ['ssl.ca-list', 'transport.socket.ssl-ca-list'],
  ['ssl.private-key', 'transport.socket.ssl-private-key'],
  ['ssl.own-cert', 'transport.socket.ssl-own-cert'],
];

export const VOLUME_OPTIONS = {
  'performance.write-behind': {
    unset: 'on',
    refuse: 'toggle',
    type: 'bool',
    default: true,
    description: 'performance/write-behind in the client stack',
  },
  'performance.write-behind-window-size': {
    unset: '1MB (DEFAULT)',
    xlator: 'cache-size',
    type: 'size',
    default: 1024 * 1024,
    min: 512 * 1024,
    max: 1024 * 1024 * 1024,
    description: "write-behind's cache-size: bytes of writes it may hold per file",
  },
  'performance.open-behind': {
    unset: 'on',
    refuse: 'toggle',
    type: 'bool',
    default: true,
    description: 'performance/open-behind in the client stack',
  },
  'performance.quick-read': {
    unset: 'on',
    refuse: 'toggle',
    type: 'bool',
    default: true,
    description: 'performance/quick-read in the client stack',
  },
  'performance.stat-prefetch': {
    unset: 'on',
    refuse: 'toggle',
    type: 'bool',
    default: true,
    description: 'performance/md-cache in the client stack (glusterd names it stat-prefetch)',
  },
  'performance.client-io-threads': {
    unset: 'on',
    refuse: 'toggle',
    type: 'bool',
    default: true,
    description: 'performance/io-threads in the client stack',
  },
  'features.ctime': {
    unset: 'on (DEFAULT)',
    refuse: 'glusterd-bool',
    type: 'bool',
    default: true,
    description: 'features/utime in the client stack (consistent times from the client)',
  },
  'ctime.noatime': {
    unset: 'on',
    refuse: 'glusterd-bool',
    type: 'bool',
    default: true,
    description: "features/utime's noatime: reads do not update atime",
  },
  'client.trimmed': {
    unset: 'off',
    refuse: 'glusterts',
    type: 'bool',
    default: false,
    description:
      'glusterts only: the trimmed client stack (protocol/client + distribute + io-stats), ' +
      'overriding the performance and utime keys',
  },
  'network.ping-timeout': {
    unset: '42 (DEFAULT)',
    refuse: 'time',
    type: 'int',
    default: 42,
    min: 0,
    max: 1013,
    description: "protocol/client's ping-timeout in seconds (0 disables pings)",
  },
  'diagnostics.latency-measurement': {
    unset: 'off',
    type: 'bool',
    default: false,
    description: 'io-stats measures per-fop latency (client side)',
  },
  'diagnostics.count-fop-hits': {
    unset: 'off',
    type: 'bool',
    default: false,
    description: 'io-stats counts fops (client side)',
  },
  'auth.allow': {
    unset: '*',
    type: 'string',
    default: '*',
    description:
      "addresses allowed to attach to the bricks (brick's auth.addr.<brick>.allow): addresses, host names, " +
      "CIDR networks, globs, '!' to negate, or per-directory rules /dir(a|b); applied to running bricks",
  },
  'auth.reject': {
    unset: '(null) (DEFAULT)',
    type: 'string',
    default: '',
    description:
      'addresses refused by the bricks (auth.addr.<brick>.reject), same syntax as auth.allow; it wins over ' +
      'auth.allow; applied to running bricks',
  },
  'server.root-squash': {
    unset: 'off (DEFAULT)',
    type: 'bool',
    default: false,
    description: 'the bricks act for uid/gid 0 as server.anonuid/anongid (protocol/server root-squash)',
  },
  'server.all-squash': {
    unset: 'off (DEFAULT)',
    type: 'bool',
    default: false,
    description: 'the bricks act for every uid/gid as server.anonuid/anongid (protocol/server all-squash)',
  },
  'server.anonuid': {
    unset: '65534 (DEFAULT)',
    type: 'int',
    default: 65534,
    min: 0,
    max: 4294967295,
    description: 'the uid squashed callers act as',
  },
  'server.anongid': {
    unset: '65534 (DEFAULT)',
    type: 'int',
    default: 65534,
    min: 0,
    max: 4294967295,
    description: 'the gid squashed callers act as',
  },
  'cluster.quorum-type': {
    unset: 'none (DEFAULT)',
    type: 'enum',
    values: ['none', 'auto', 'fixed'],
    default: 'none',
    description:
      'AFR client quorum (replicate option quorum-type): auto = more than half of a replica set up, or exactly half ' +
      'including its first brick; fixed = cluster.quorum-count. Unset, AFR uses auto for sets of 3 or more bricks',
  },
  'cluster.quorum-count': {
    unset: '(null) (DEFAULT)',
    type: 'int',
    default: 0,
    min: 1,
    max: 64,
    description:
      'bricks of a replica set that must be up when cluster.quorum-type is fixed (1..replica count; 0 = unset)',
  },
  'cluster.self-heal-daemon': {
    unset: 'on (DEFAULT)',
    type: 'bool',
    default: true,
    description: 'the self-heal daemon heals this volume (replicated volumes only)',
  },
  'cluster.favorite-child-policy': {
    unset: 'none (DEFAULT)',
    type: 'enum',
    values: ['none', 'size', 'ctime', 'mtime', 'majority'],
    default: 'none',
    description: 'how heal resolves a split-brain on its own (none: it does not)',
  },
  'cluster.data-self-heal-algorithm': {
    unset: '(null) (DEFAULT)',
    type: 'enum',
    values: ['diff', 'full'],
    default: '',
    description:
      'stock data heal: diff (compare checksums per block) or full (copy); unset, AFR picks per file. The glusterts ' +
      'heal copies the ranges the bricks recorded, or compares checksums when a record is damaged',
  },
  'cluster.heal-timeout': {
    unset: '600 (DEFAULT)',
    type: 'int',
    default: 600,
    min: 5,
    max: 2147483647,
    description:
      "seconds between the self-heal daemon's periodic index crawls (it also crawls when a brick comes back); " +
      'in the self-heal daemon volfile only, as glusterd writes it',
  },
  'cluster.self-heal-window-size': {
    unset: '8 (DEFAULT)',
    xlator: 'data-self-heal-window-size',
    type: 'int',
    default: 1,
    min: 1,
    max: 1024,
    description:
      "AFR's data-self-heal-window-size (128 KiB blocks healed at once by stock's heal); written to the volfile, " +
      'the glusterts heal copies one 128 KiB chunk at a time whatever it says',
  },
  'cluster.heal-wait-queue-length': {
    unset: '128 (DEFAULT)',
    type: 'int',
    default: 128,
    min: 0,
    description:
      "AFR's queue of client-side heals waiting to start; written to the volfile, glusterts clients never heal",
  },
  'cluster.eager-lock': {
    unset: 'on (DEFAULT)',
    type: 'bool',
    default: true,
    description: 'AFR keeps its inode lock and pre-op across consecutive writes (eager lock)',
  },
  'cluster.granular-entry-heal': {
    unset: 'no (DEFAULT)',
    type: 'bool',
    default: false,
    description:
      'AFR records which names changed in a directory (entry-changes index); set on at create for replicated ' +
      'volumes, as glusterd does; cannot change while the volume is started',
  },
  'cluster.locking-scheme': {
    type: 'enum',
    values: ['full', 'granular'],
    default: 'full',
    unset: 'full (DEFAULT)',
    description:
      "AFR's locking-scheme (granular: stock's heal takes finer locks); written to the volfile, the glusterts " +
      'replicate takes whole-file locks whatever it says',
  },
  'cluster.shd-max-threads': {
    type: 'int',
    default: 1,
    min: 1,
    max: 64,
    unset: '1 (DEFAULT)',
    description:
      "files stock's self-heal daemon heals at once per brick (replicated volumes only); written to the volfiles, " +
      'the glusterts self-heal daemon keeps its own pace',
  },
  'cluster.shd-wait-qlength': {
    type: 'int',
    default: 1024,
    min: 1,
    max: 655536,
    unset: '1024 (DEFAULT)',
    description:
      "files stock's self-heal daemon queues beyond shd-max-threads; written to the volfiles, no effect in glusterts",
  },
  'cluster.choose-local': {
    type: 'bool',
    default: true,
    unset: 'true (DEFAULT)',
    description: 'AFR reads from a brick on the client host when it has one (off: spread reads over the set)',
  },
  'cluster.lookup-optimize': {
    type: 'bool',
    default: true,
    unset: 'on (DEFAULT)',
    description:
      "distribute's lookup-optimize: a miss on the hashed subvolume is final when the parent layout is committed " +
      '(off: look on every subvolume)',
  },
  'cluster.server-quorum-type': {
    type: 'enum',
    values: ['none', 'server'],
    default: 'none',
    unset: 'off',
    noop: true,
    description:
      "glusterd's server quorum (bricks stop when too few peers of the pool are up); no effect in glusterts yet: " +
      'a glusterts daemon is one host (it takes effect with the pool of hosts)',
  },
  'features.shard': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'toggle',
    description:
      'features/shard in the client stack, right above distribute: files are stored as shard-block-size pieces ' +
      'under /.shard (kept under client.trimmed too, since it is the data layout)',
  },
  'features.shard-block-size': {
    type: 'size',
    default: 64 * 1024 * 1024,
    min: 4 * 1024 * 1024,
    max: 4 * 1024 ** 4,
    unset: '64MB (DEFAULT)',
    description:
      "features/shard's shard-block-size: the size of each piece of a file created from now on (existing files " +
      'keep the size recorded in their trusted.glusterfs.shard.block-size)',
  },
  'features.cache-invalidation': {
    type: 'bool',
    default: false,
    unset: 'off',
    noop: true,
    description:
      "stock bricks' features/upcall tells clients when cached metadata changes; no effect in glusterts " +
      '(its bricks send no upcalls; its clients cache no metadata)',
  },
  'features.cache-invalidation-timeout': {
    type: 'int',
    default: 60,
    unset: '60 (DEFAULT)',
    noop: true,
    description: "seconds stock bricks' upcall keeps a client's interest; no effect in glusterts (no upcall)",
  },
  'network.remote-dio': {
    type: 'bool',
    default: false,
    unset: 'disable (DEFAULT)',
    xlator: 'filter-O_DIRECT',
    description:
      "protocol/client's filter-O_DIRECT: enable = clients drop O_DIRECT from OPEN/CREATE, so bricks use their " +
      'page cache',
  },
  'network.inode-lru-limit': {
    type: 'int',
    default: 16384,
    min: 0,
    max: 1048576,
    unset: '16384 (DEFAULT)',
    noop: true,
    description: "inodes stock's brick keeps cached (protocol/server); no effect in glusterts bricks",
  },
  'performance.read-ahead': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'toggle',
    description: 'performance/read-ahead in the client stack (a pass-through in the TS client)',
  },
  'performance.readdir-ahead': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'toggle',
    description: 'performance/readdir-ahead in the client stack (a pass-through in the TS client)',
  },
  'performance.parallel-readdir': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'glusterd-bool',
    description:
      'moves readdir-ahead below distribute, one per subvolume, as stock (the TS client passes readdir-ahead ' +
      'through; stock clients read the subvolumes in parallel)',
  },
  'performance.rda-request-size': {
    type: 'size',
    default: 131072,
    min: 4096,
    max: 131072,
    unset: '131072',
    description: "readdir-ahead's rda-request-size: bytes asked per READDIRP it sends ahead (stock clients)",
  },
  'performance.rda-cache-limit': {
    type: 'size',
    default: 10 * 1024 * 1024,
    min: 0,
    unset: '10MB',
    description:
      "readdir-ahead's rda-cache-limit: entries it may hold in all (stock clients); with parallel-readdir, " +
      'glusterd splits it between the subvolumes',
  },
  'performance.rda-low-wmark': {
    type: 'size',
    default: 4096,
    min: 0,
    max: 10 * 1024 * 1024,
    unset: '4096 (DEFAULT)',
    description:
      "readdir-ahead's rda-low-wmark: cached bytes under which it reads ahead again (stock clients)",
  },
  'performance.rda-high-wmark': {
    type: 'size',
    default: 128 * 1024,
    min: 0,
    max: 100 * 1024 * 1024,
    unset: '128KB (DEFAULT)',
    description:
      "readdir-ahead's rda-high-wmark: cached bytes over which it stops reading ahead (stock clients)",
  },
  'performance.io-cache': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'toggle',
    description: 'performance/io-cache in the client stack (a pass-through in the TS client)',
  },
  'performance.nl-cache': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'toggle',
    description: 'performance/nl-cache in the client stack (a pass-through in the TS client)',
  },
  'performance.nl-cache-timeout': {
    type: 'int',
    default: 60,
    min: 0,
    unset: '60 (DEFAULT)',
    refuse: 'time',
    description:
      "nl-cache's nl-cache-timeout in seconds; written to the volfile, the TS client caches nothing",
  },
  'performance.md-cache-timeout': {
    type: 'int',
    default: 1,
    min: 0,
    max: 600,
    unset: '1 (DEFAULT)',
    description:
      "md-cache's md-cache-timeout in seconds; written to the volfile, the TS client caches nothing",
  },
  'performance.cache-invalidation': {
    type: 'bool',
    default: false,
    unset: 'false (DEFAULT)',
    description:
      "md-cache's cache-invalidation (trust upcalls); written to the volfile, the TS client caches nothing",
  },
  'performance.cache-samba-metadata': {
    type: 'bool',
    default: false,
    unset: 'false (DEFAULT)',
    description: "md-cache's cache-samba-metadata; written to the volfile, the TS client caches nothing",
  },
  'performance.read-after-open': {
    type: 'bool',
    default: true,
    unset: 'yes (DEFAULT)',
    description: "open-behind's read-after-open; written to the volfile, the TS client opens at once",
  },
  'performance.strict-o-direct': {
    type: 'bool',
    default: false,
    unset: 'off (DEFAULT)',
    xlator: 'strict-O_DIRECT',
    description:
      "write-behind's strict-O_DIRECT: writes on an O_DIRECT fd are not held back; the TS client holds no write back",
  },
  'performance.io-thread-count': {
    type: 'int',
    default: 16,
    min: 1,
    max: 64,
    unset: '16 (DEFAULT)',
    xlator: 'thread-count',
    description:
      "io-threads' thread-count; written to the volfiles, the TS client's io-threads is a pass-through",
  },
  'performance.high-prio-threads': {
    type: 'int',
    default: 16,
    min: 1,
    max: 64,
    unset: '16 (DEFAULT)',
    description: "io-threads' high-prio-threads; written to the volfiles, no effect in glusterts",
  },
  'performance.normal-prio-threads': {
    type: 'int',
    default: 16,
    min: 1,
    max: 64,
    unset: '16 (DEFAULT)',
    description: "io-threads' normal-prio-threads; written to the volfiles, no effect in glusterts",
  },
  'performance.low-prio-threads': {
    type: 'int',
    default: 16,
    min: 1,
    max: 64,
    unset: '16 (DEFAULT)',
    description: "io-threads' low-prio-threads; written to the volfiles, no effect in glusterts",
  },
  'performance.least-prio-threads': {
    type: 'int',
    default: 1,
    min: 1,
    max: 64,
    unset: '1 (DEFAULT)',
    description: "io-threads' least-prio-threads; written to the volfiles, no effect in glusterts",
  },
  'client.event-threads': {
    type: 'int',
    default: 2,
    min: 1,
    max: 32,
    unset: '2 (DEFAULT)',
    noop: true,
    description:
      "epoll threads of stock clients (protocol/client's event-threads, written to the client volfile for them); " +
      'no effect on glusterts programs (one event loop)',
  },
  'server.event-threads': {
    type: 'int',
    default: 2,
    min: 1,
    max: 1024,
    unset: '2 (DEFAULT)',
    noop: true,
    description: 'epoll threads of stock bricks; no effect in glusterts bricks (one event loop)',
  },
  'server.tcp-user-timeout': {
    type: 'int',
    default: 42,
    min: 0,
    max: 1013,
    unset: '42 (DEFAULT)',
    refuse: 'time',
    xlator: 'transport.tcp-user-timeout',
    noop: true,
    description: "stock bricks' TCP_USER_TIMEOUT on client connections; no effect in glusterts bricks yet",
  },
  'server.keepalive-time': {
    type: 'int',
    default: 20,
    min: 0,
    unset: '20',
    noop: true,
    description:
      "stock bricks' TCP keepalive idle time (s) on client connections; no effect in glusterts bricks yet",
  },
  'server.keepalive-interval': {
    type: 'int',
    default: 2,
    min: 0,
    unset: '2',
    noop: true,
    description: "stock bricks' TCP keepalive probe interval (s); no effect in glusterts bricks yet",
  },
  'server.keepalive-count': {
    type: 'int',
    default: 9,
    min: 0,
    unset: '9',
    noop: true,
    description:
      "stock bricks' TCP keepalive probes before a connection is dropped; no effect in glusterts bricks yet",
  },
  'server.allow-insecure': {
    type: 'bool',
    default: true,
    unset: 'on (DEFAULT)',
    xlator: 'rpc-auth-allow-insecure',
    noop: true,
    description:
      'stock bricks accept clients from ports above 1023; no effect in glusterts, whose bricks accept any port',
  },
  'server.ssl': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'glusterd-bool',
    xlator: 'transport.socket.ssl-enabled',
    description:
      "TLS on the bricks' listeners (protocol/server's transport.socket.ssl-enabled; docs/tls.md); applies when bricks start",
  },
  'client.ssl': {
    type: 'bool',
    default: false,
    unset: 'off',
    refuse: 'glusterd-bool',
    xlator: 'transport.socket.ssl-enabled',
    description:
      "TLS from clients to the bricks (protocol/client's transport.socket.ssl-enabled; docs/tls.md)",
  },
  'auth.ssl-allow': {
    type: 'string',
    default: '*',
    unset: '*',
    xlator: 'ssl-allow',
    description:
      'certificate CNs (comma-separated globs) a TLS client needs to reach the bricks (auth.login.<brick>.ssl-allow); running bricks apply it at once',
  },
  'ssl.own-cert': tlsOption(
    'transport.socket.ssl-own-cert',
    'certificate chain file (default /etc/ssl/glusterfs.pem)',
  ),
  'ssl.private-key': tlsOption(
    'transport.socket.ssl-private-key',
    'private key file (default /etc/ssl/glusterfs.key)',
  ),
  'ssl.ca-list': tlsOption(
    'transport.socket.ssl-ca-list',
    'trusted CA certificates file (default /etc/ssl/glusterfs.ca)',
  ),
  'ssl.crl-path': tlsOption(
    'transport.socket.ssl-crl-path',
    'directory of CRLs the bricks check client certificates against',
  ),
  'ssl.certificate-depth': {
    type: 'int',
    default: 1,
    min: 0,
    unset: '(null) (DEFAULT)',
    xlator: 'transport.socket.ssl-cert-depth',
    description: 'TLS: intermediate CAs allowed in a peer certificate chain (default 1)',
  },
  'ssl.cipher-list': tlsOption(
    'transport.socket.ssl-cipher-list',
    "OpenSSL cipher list for TLS 1.2 (default stock's)",
  ),
  'ssl.dh-param': tlsOption(
    'transport.socket.ssl-dh-param',
    'DH parameters file (default /etc/ssl/dhparam.pem, when present)',
  ),
  'ssl.ec-curve': tlsOption('transport.socket.ssl-ec-curve', 'ECDH curve (default prime256v1)'),
  'user.cifs': {
    type: 'bool',
    default: true,
    unset: 'enable',
    refuse: 'glusterd-bool',
    noop: true,
    description:
      "stock's hook scripts export the volume over Samba while enabled; no effect in glusterts (it runs no hooks)",
  },
} as const satisfies Readonly<Record<string, VolumeOptionSpec>>;

/**
 * The AFR keys, in the order glusterd writes them into a cluster/replicate volume when
 * set (reverse of its option table), each with the replicate option it becomes.
 * cluster.heal-timeout and cluster.self-heal-daemon are not among them: glusterd writes
 * them into the self-heal daemon's volfile only (SHD_VOLFILE_OPTIONS).
 */
export const REPLICATE_VOLFILE_OPTIONS: readonly (readonly [VolumeOptionKey, string])[] = [
  ['cluster.granular-entry-heal', 'granular-entry-heal'],
  ['cluster.locking-scheme', 'locking-scheme'],
  ['cluster.shd-wait-qlength', 'shd-wait-qlength'],
  ['cluster.shd-max-threads', 'shd-max-threads'],
  ['cluster.favorite-child-policy', 'favorite-child-policy'],
  ['cluster.heal-wait-queue-length', 'heal-wait-queue-length'],
  ['cluster.choose-local', 'choose-local'],
  ['cluster.quorum-count', 'quorum-count'],
  ['cluster.quorum-type', 'quorum-type'],
  ['cluster.eager-lock', 'eager-lock'],
  ['cluster.data-self-heal-algorithm', 'data-self-heal-algorithm'],
  ['cluster.self-heal-window-size', 'data-self-heal-window-size'],
];

/** The keys only the self-heal daemon's volfile carries, after the others, as glusterd. */
export const SHD_VOLFILE_OPTIONS: readonly (readonly [VolumeOptionKey, string])[] = [
  ['cluster.heal-timeout', 'heal-timeout'],
];

/** The translator option a key becomes, which glusterd's refusals name. */
function xlatorOptionName(key: VolumeOptionKey): string {
  const spec: VolumeOptionSpec = VOLUME_OPTIONS[key];
  return spec.xlator ?? key.slice(key.indexOf('.') + 1);
}

/**
 * What glusterd stores for a new replicated volume (shown under "Options Reconfigured"):
 * granular entry heal on, and no io-threads in the client stack.
 */
export const REPLICATED_VOLUME_DEFAULTS: Readonly<Record<string, string>> = {
  'cluster.granular-entry-heal': 'on',
  'performance.client-io-threads': 'off',
};

/** Keys `volume reset NAME [all]` leaves in place, as glusterd does. */
export const KEPT_BY_RESET_ALL: ReadonlySet<string> = new Set(['cluster.granular-entry-heal']);

export type VolumeOptionKey = keyof typeof VOLUME_OPTIONS;

/** Other names GlusterFS users know for the same settings. */
export const OPTION_ALIASES: Readonly<Record<string, VolumeOptionKey>> = {
  'features.utime': 'features.ctime',
  'performance.md-cache': 'performance.stat-prefetch',
  'performance.io-threads': 'performance.client-io-threads',
  'performance.cache-size-write-behind': 'performance.write-behind-window-size',
};

/** Keys whose value is written into the brick volfile rather than the client's. */
export const BRICK_SIDE_OPTIONS: ReadonlySet<VolumeOptionKey> = new Set([
  'auth.allow',
  'auth.reject',
  'server.root-squash',
  'server.all-squash',
  'server.anonuid',
  'server.anongid',
  'auth.ssl-allow',
]);

/** Brick-side keys a running brick cannot apply: its listener takes them when it next starts. */
export const BRICK_RESTART_OPTIONS: ReadonlySet<VolumeOptionKey> = new Set([
  'server.ssl',
  ...TLS_VOLFILE_OPTIONS.map(([k]) => k),
]);

/** Keys glusterd refuses on a volume that is not replicated, with its message. */
const REPLICATE_ONLY: ReadonlySet<VolumeOptionKey> = new Set(['cluster.shd-max-threads']);

export class VolumeOptionError extends OptionError {}

function isKey(key: string): key is VolumeOptionKey {
  return Object.hasOwn(VOLUME_OPTIONS, key);
}

/** Whether a key exists but has no effect in glusterts. */
export function isNoopOption(key: VolumeOptionKey): boolean {
  const spec: VolumeOptionSpec = VOLUME_OPTIONS[key];
  return spec.noop === true;
}

/**
 * Resolves a key to its canonical name: the key itself, an alias, or (as glusterd) a name
 * without a dot that ends exactly one key (`shard` → `features.shard`). Unknown keys
 * are refused.
 */
export function canonicalKey(key: string): VolumeOptionKey {
  if (isKey(key)) return key;
  const alias = Object.hasOwn(OPTION_ALIASES, key) ? OPTION_ALIASES[key] : undefined;
  if (alias) return alias;
  if (/^[\w-]+$/.test(key)) {
    const ends = Object.keys(VOLUME_OPTIONS).filter((k) => k.endsWith(`.${key}`)) as VolumeOptionKey[];
    if (ends.length === 1) return ends[0]!;
    if (ends.length > 1) throw new VolumeOptionError(`option ${key} is ambiguous: ${ends.join(', ')}`);
  }
  throw new VolumeOptionError(
    `option ${key} does not exist or is not supported by glusterts ` +
      `(supported: ${Object.keys(VOLUME_OPTIONS).join(', ')})`,
  );
}

/**
 * Validates `volume set KEY VALUE`: returns the canonical key and the value as stored
 * (the text the user typed, as glusterd keeps it). Throws VolumeOptionError with stock's
 * text. Unlike glusterd, which checks a value only when its translator is in the volume's
 * graph (it takes `cluster.eager-lock bogus` on a distribute volume), every value is checked.
 */
export function validateVolumeOption(
  key: string,
  value: string,
  volume: { replicaCount?: number } = {},
): { key: VolumeOptionKey; value: string } {
  const canonical = canonicalKey(key);
  const spec: VolumeOptionSpec = VOLUME_OPTIONS[canonical];
  if (value.length > 4096 || /[\n\r\0]/.test(value))
    throw new VolumeOptionError(`option ${key}: value must be one line of at most 4096 bytes`);
  if (REPLICATE_ONLY.has(canonical) && (volume.replicaCount ?? 1) <= 1)
    throw new VolumeOptionError(`Cannot set ${canonical} for a non-replicate volume.`);
  if (canonical === 'cluster.quorum-count') {
    // glusterd bounds it by the replica count (1 for a distribute volume).
    const max = volume.replicaCount ?? 1;
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= max))
      throw new VolumeOptionError(`${value} in ${canonical} ${value} is out of range [1 - ${max}]`);
  }
  if ((canonical === 'auth.allow' || canonical === 'auth.reject') && !validAddressList(value))
    throw new VolumeOptionError(
      `option ${canonical === 'auth.allow' ? 'auth.addr.<brick>.allow' : 'auth.addr.<brick>.reject'} ${value}: ` +
        `'${value}' is not a valid internet-address-list`,
    );
  try {
    parseOption(canonical, spec, value);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    const wording = spec.refuse ?? 'xlator';
    throw new VolumeOptionError(
      wording === 'glusterts' ? err.message : stockRefusal(wording, canonical, spec, value),
    );
  }
  return { key: canonical, value: value.trim() };
}

/** glusterd's text for a refused value, as stock 10.3 printed it (docs/mgmt.md, Volume options). */
function stockRefusal(
  wording: RefusalWording,
  key: VolumeOptionKey,
  spec: OptionSpec,
  value: string,
): string {
  const name = xlatorOptionName(key);
  if (wording === 'toggle') return 'Error, Validation Failed';
  if (wording === 'glusterd-bool')
    return `${value} is not a valid boolean value. ${key} expects a valid boolean value.`;
  if (spec.type === 'enum')
    return `option ${name} ${value}: '${value}' is not valid (possible options are ${spec.values.join(', ')}.)`;
  if (spec.type === 'bool') return `option ${name} ${value}: '${value}' is not a valid boolean value`;
  if (spec.type === 'int' || spec.type === 'size') {
    const n = spec.type === 'int' ? (/^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN) : parseSize(value);
    if (n === undefined || Number.isNaN(n) || (wording === 'time' && n < 0))
      return wording === 'time'
        ? `invalid time format "${value}" in "option ${name}"`
        : `invalid number format "${value}" in option "${name}"`;
    // Sizes are reported in bytes, as glusterd does.
    const shown = spec.type === 'size' ? String(n) : value;
    if (spec.max === undefined)
      return `'${shown}' in 'option ${name} ${value}' is smaller than minimum value '${spec.min}'`;
    return `'${shown}' in 'option ${name} ${value}' is out of range [${spec.min} - ${spec.max}]`;
  }
  return `option ${name} ${value}: invalid value`;
}

/**
 * `volume get NAME KEY|all` rows: each key with its stored value, or what stock shows while
 * it is unset; ` (no-op)` marks keys that have no effect in glusterts.
 */
export function volumeGetRows(
  vol: { options: Readonly<Record<string, string>>; replicaCount?: number },
  key: string,
): [string, string][] {
  const keys = key === 'all' ? (Object.keys(VOLUME_OPTIONS) as VolumeOptionKey[]) : [canonicalKey(key)];
  return keys.map((k) => {
    const spec: VolumeOptionSpec = VOLUME_OPTIONS[k];
    let shown = Object.hasOwn(vol.options, k) ? vol.options[k]! : spec.unset;
    // AFR's own default for sets of 3 or more bricks, which glusterd shows as set.
    if (k === 'cluster.quorum-type' && shown === spec.unset && (vol.replicaCount ?? 1) >= 3) shown = 'auto';
    return [k, spec.noop ? `${shown} (no-op)` : shown];
  });
}

/** The typed values of a volume's options: stored raw values parsed, defaults elsewhere. */
export type VolumeOptionValues = {
  [K in VolumeOptionKey]: (typeof VOLUME_OPTIONS)[K]['default'] extends boolean
    ? boolean
    : (typeof VOLUME_OPTIONS)[K]['default'] extends number
      ? number
      : string;
};

export function resolveVolumeOptions(stored: Readonly<Record<string, string>>): VolumeOptionValues {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(VOLUME_OPTIONS) as [VolumeOptionKey, OptionSpec][]) {
    const raw = Object.hasOwn(stored, key) ? stored[key] : undefined;
    out[key] = raw === undefined ? ('default' in spec ? spec.default : '') : parseOption(key, spec, raw);
  }
  return out as VolumeOptionValues;
}
