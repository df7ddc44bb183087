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
} as const satisfies OptionSchema;

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
export function validateVolumeOption(key: string, value: string): { key: VolumeOptionKey; value: string } {
  const canonical = canonicalKey(key);
  const spec: OptionSpec = VOLUME_OPTIONS[canonical];
  if (value.length > 4096 || /[\n\r\0]/.test(value))
    throw new VolumeOptionError(`option ${key}: value must be one line of at most 4096 bytes`);
  if (canonical === 'auth.allow' && !/^[\w.*:,/-]+$/.test(value))
    throw new VolumeOptionError(
      `option ${key}: expected comma-separated addresses or patterns (got "${value}")`,
    );
  try {
    parseOption(canonical, spec, value);
  } catch (err) {
    if (err instanceof OptionError) throw new VolumeOptionError(err.message);
    throw err;
  }
  return { key: canonical, value: value.trim() };
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
