/**
 * The `volume set` keys glusterts supports: one typed schema (src/xlator/options.ts) that
 * validates `volume set`, drives volfile generation (volfiles.ts) and documents itself
 * (docs/mgmt.md's table is printed from it). Keys are glusterd's own names; a few other
 * spellings GlusterFS users type are accepted as aliases. Unknown keys are refused.
 */
import { OptionError, parseOption, type OptionSchema, type OptionSpec } from '../xlator/options.js';

export const VOLUME_OPTIONS = {
  'performance.write-behind': {
    type: 'bool',
    default: true,
    description: 'performance/write-behind in the client stack',
  },
  'performance.write-behind-window-size': {
    type: 'size',
    default: 1024 * 1024,
    min: 512 * 1024,
    max: 1024 * 1024 * 1024,
    description: "write-behind's cache-size: bytes of writes it may hold per file",
  },
  'performance.open-behind': {
    type: 'bool',
    default: true,
    description: 'performance/open-behind in the client stack',
  },
  'performance.quick-read': {
    type: 'bool',
    default: true,
    description: 'performance/quick-read in the client stack',
  },
  'performance.stat-prefetch': {
    type: 'bool',
    default: true,
    description: 'performance/md-cache in the client stack (glusterd names it stat-prefetch)',
  },
  'performance.client-io-threads': {
    type: 'bool',
    default: true,
    description: 'performance/io-threads in the client stack',
  },
  'features.ctime': {
    type: 'bool',
    default: true,
    description: 'features/utime in the client stack (consistent times from the client)',
  },
  'ctime.noatime': {
    type: 'bool',
    default: true,
    description: "features/utime's noatime: reads do not update atime",
  },
  'client.trimmed': {
    type: 'bool',
    default: false,
    description:
      'glusterts only: the trimmed client stack (protocol/client + distribute + io-stats), ' +
      'overriding the performance and utime keys',
  },
  'network.ping-timeout': {
    type: 'int',
    default: 42,
    min: 0,
    max: 1013,
    description: "protocol/client's ping-timeout in seconds (0 disables pings)",
  },
  'diagnostics.latency-measurement': {
    type: 'bool',
    default: false,
    description: 'io-stats measures per-fop latency (client side)',
  },
  'diagnostics.count-fop-hits': {
    type: 'bool',
    default: false,
    description: 'io-stats counts fops (client side)',
  },
  'auth.allow': {
    type: 'string',
    default: '*',
    description:
      "addresses allowed to connect to the bricks (brick's auth.addr.<brick>.allow); applies when bricks start",
  },
  'cluster.quorum-type': {
    type: 'enum',
    values: ['none', 'auto', 'fixed'],
    default: 'none',
    description:
      'AFR client quorum (replicate option quorum-type): auto = more than half of a replica set up, or exactly half ' +
      'including its first brick; fixed = cluster.quorum-count. Unset, AFR uses auto for sets of 3 or more bricks',
  },
  'cluster.quorum-count': {
    type: 'int',
    default: 0,
    min: 1,
    max: 64,
    description:
      'bricks of a replica set that must be up when cluster.quorum-type is fixed (1..replica count; 0 = unset)',
  },
  'cluster.self-heal-daemon': {
    type: 'bool',
    default: true,
    description: 'the self-heal daemon heals this volume (replicated volumes only)',
  },
  'cluster.favorite-child-policy': {
    type: 'enum',
    values: ['none', 'size', 'ctime', 'mtime', 'majority'],
    default: 'none',
    description: 'how heal resolves a split-brain on its own (none: it does not)',
  },
  'cluster.data-self-heal-algorithm': {
    type: 'enum',
    values: ['diff', 'full'],
    default: '',
    description:
      'stock data heal: diff (compare checksums per block) or full (copy); unset, AFR picks per file. The glusterts ' +
      'heal copies the ranges the bricks recorded, or compares checksums when a record is damaged',
  },
  'cluster.heal-timeout': {
    type: 'int',
    default: 600,
    min: 5,
    max: 2147483647,
    description:
      "seconds between the self-heal daemon's periodic index crawls (it also crawls when a brick comes back); " +
      'in the self-heal daemon volfile only, as glusterd writes it',
  },
  'cluster.self-heal-window-size': {
    type: 'int',
    default: 1,
    min: 1,
    max: 1024,
    description:
      "AFR's data-self-heal-window-size (128 KiB blocks healed at once by stock's heal); written to the volfile, " +
      'the glusterts heal copies one 128 KiB chunk at a time whatever it says',
  },
  'cluster.heal-wait-queue-length': {
    type: 'int',
    default: 128,
    min: 0,
    description:
      "AFR's queue of client-side heals waiting to start; written to the volfile, glusterts clients never heal",
  },
  'cluster.eager-lock': {
    type: 'bool',
    default: true,
    description: 'AFR keeps its inode lock and pre-op across consecutive writes (eager lock)',
  },
  'cluster.granular-entry-heal': {
    type: 'bool',
    default: false,
    description:
      'AFR records which names changed in a directory (entry-changes index); set on at create for replicated ' +
      'volumes, as glusterd does; cannot change while the volume is started',
  },
} as const satisfies OptionSchema;

/**
 * The AFR keys, in the order glusterd writes them into a cluster/replicate volume when
 * set (reverse of its option table), each with the replicate option it becomes.
 * cluster.heal-timeout and cluster.self-heal-daemon are not among them: glusterd writes
 * them into the self-heal daemon's volfile only (SHD_VOLFILE_OPTIONS).
 */
export const REPLICATE_VOLFILE_OPTIONS: readonly (readonly [VolumeOptionKey, string])[] = [
  ['cluster.granular-entry-heal', 'granular-entry-heal'],
  ['cluster.favorite-child-policy', 'favorite-child-policy'],
  ['cluster.heal-wait-queue-length', 'heal-wait-queue-length'],
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
  const known = [...REPLICATE_VOLFILE_OPTIONS, ...SHD_VOLFILE_OPTIONS].find(([k]) => k === key);
  return known ? known[1] : key.slice(key.indexOf('.') + 1);
}

/**
 * What glusterd stores for a new replicated volume (shown under "Options Reconfigured"):
 * granular entry heal on, and no io-threads in the client stack.
 */
export const REPLICATED_VOLUME_DEFAULTS: Readonly<Record<string, string>> = {
  'cluster.granular-entry-heal': 'on',
  'performance.client-io-threads': 'off',
};

export type VolumeOptionKey = keyof typeof VOLUME_OPTIONS;

/** Other names GlusterFS users know for the same settings. */
export const OPTION_ALIASES: Readonly<Record<string, VolumeOptionKey>> = {
  'features.utime': 'features.ctime',
  'performance.md-cache': 'performance.stat-prefetch',
  'performance.io-threads': 'performance.client-io-threads',
  'performance.cache-size-write-behind': 'performance.write-behind-window-size',
};

/** Keys whose value is written into the brick volfile rather than the client's. */
export const BRICK_SIDE_OPTIONS: ReadonlySet<VolumeOptionKey> = new Set(['auth.allow']);

export class VolumeOptionError extends OptionError {}

function isKey(key: string): key is VolumeOptionKey {
  return Object.hasOwn(VOLUME_OPTIONS, key);
}

/** Resolves an alias to its canonical key; refuses unknown keys. */
export function canonicalKey(key: string): VolumeOptionKey {
  if (isKey(key)) return key;
  const alias = Object.hasOwn(OPTION_ALIASES, key) ? OPTION_ALIASES[key] : undefined;
  if (alias) return alias;
  throw new VolumeOptionError(
    `option ${key} does not exist or is not supported by glusterts ` +
      `(supported: ${Object.keys(VOLUME_OPTIONS).join(', ')})`,
  );
}

/**
 * Validates `volume set KEY VALUE`: returns the canonical key and the value as stored
 * (the text the user typed, as glusterd keeps it). Throws VolumeOptionError.
 */
export function validateVolumeOption(
  key: string,
  value: string,
  volume: { replicaCount?: number } = {},
): { key: VolumeOptionKey; value: string } {
  const canonical = canonicalKey(key);
  const spec: OptionSpec = VOLUME_OPTIONS[canonical];
  if (value.length > 4096 || /[\n\r\0]/.test(value))
    throw new VolumeOptionError(`option ${key}: value must be one line of at most 4096 bytes`);
  if (canonical === 'cluster.quorum-count') {
    // glusterd bounds it by the replica count (1 for a distribute volume).
    const max = volume.replicaCount ?? 1;
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= max))
      throw new VolumeOptionError(`${value} in ${canonical} ${value} is out of range [1 - ${max}]`);
  }
  if (canonical === 'auth.allow' && !/^[\w.*:,/-]+$/.test(value))
    throw new VolumeOptionError(
      `option ${key}: expected comma-separated addresses or patterns (got "${value}")`,
    );
  try {
    parseOption(canonical, spec, value);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    throw new VolumeOptionError(
      canonical.startsWith('cluster.')
        ? stockValueError(xlatorOptionName(canonical), spec, value)
        : err.message,
    );
  }
  return { key: canonical, value: value.trim() };
}

/**
 * glusterd's wording for a value the translator's option table refuses (the AFR keys use
 * it), naming the translator option (`name`); as stock 10.3 printed it.
 */
function stockValueError(name: string, spec: OptionSpec, value: string): string {
  if (spec.type === 'enum')
    return `option ${name} ${value}: '${value}' is not valid (possible options are ${spec.values.join(', ')}.)`;
  if (spec.type === 'bool') return `option ${name} ${value}: '${value}' is not a valid boolean value`;
  if (spec.type === 'int') {
    if (!/^\s*-?\d+\s*$/.test(value)) return `invalid number format "${value}" in option "${name}"`;
    if (spec.max === undefined)
      return `'${value}' in 'option ${name} ${value}' is smaller than minimum value '${spec.min}'`;
    return `'${value}' in 'option ${name} ${value}' is out of range [${spec.min} - ${spec.max}]`;
  }
  return `option ${name} ${value}: invalid value`;
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
