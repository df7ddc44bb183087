/**
 * Typed translator options. Each translator declares a schema (key, type, default, range,
 * description); the same schema parses volfile `option` lines, validates `volume set`,
 * and documents the option. Value syntax follows GlusterFS (booleans on/off/yes/no/
 * true/false/enable/disable/1/0; sizes with KB/MB/GB/TB suffixes, powers of 1024).
 */
import { Errno, GlusterTsError } from '../errors/index.js';
export type OptionSpec =
  | { type: 'bool'; default: boolean; description: string }
  | { type: 'int'; default: number; min?: number; max?: number; description: string }
  | { type: 'size'; default: number; min?: number; max?: number; description: string }
  | { type: 'string'; default: string; description: string }
  | { type: 'enum'; default: string; values: readonly string[]; description: string }
  | { type: 'required-string'; description: string };

export type OptionSchema = Readonly<Record<string, OptionSpec>>;

type ValueOf<S extends OptionSpec> = S extends { type: 'bool' }
  ? boolean
  : S extends { type: 'int' | 'size' }
    ? number
    : string;

/** The parsed options of a schema: keys as declared, typed by spec. */
export type OptionsOf<S extends OptionSchema> = { [K in keyof S]: ValueOf<S[K]> };

export class OptionError extends GlusterTsError {
  static readonly codes = ['OPTION_INVALID'] as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('OPTION_INVALID', Errno.EINVAL, message, options);
  }
}

const TRUE = new Set(['on', 'yes', 'true', 'enable', '1']);
const FALSE = new Set(['off', 'no', 'false', 'disable', '0']);
const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};

export function parseBool(s: string): boolean | undefined {
  const v = s.trim().toLowerCase();
  return TRUE.has(v) ? true : FALSE.has(v) ? false : undefined;
}

export function parseSize(s: string): number | undefined {
  const m = /^\s*(\d+)\s*([KMGT]?B?)\s*$/i.exec(s);
  if (!m) return undefined;
  const unit = m[2]!.toUpperCase();
  const mult = SIZE_UNITS[unit.length === 1 && unit !== 'B' ? `${unit}B` : unit];
  return mult === undefined ? undefined : Number(m[1]) * mult;
}

/** Parses one value against its spec; throws OptionError naming the key. */
export function parseOption(key: string, spec: OptionSpec, raw: string): boolean | number | string {
  const fail = (why: string): never => {
    throw new OptionError(`option ${key}: ${why} (got "${raw}")`);
  };
  switch (spec.type) {
    case 'bool':
      return parseBool(raw) ?? fail('expected on/off');
    case 'int':
    case 'size': {
      const n = spec.type === 'int' ? (/^\s*-?\d+\s*$/.test(raw) ? Number(raw) : undefined) : parseSize(raw);
      if (n === undefined || !Number.isSafeInteger(n))
        return fail(`expected ${spec.type === 'int' ? 'an integer' : 'a size'}`);
      if (spec.min !== undefined && n < spec.min) fail(`below minimum ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) fail(`above maximum ${spec.max}`);
      return n;
    }
    case 'enum':
      return spec.values.includes(raw) ? raw : fail(`expected one of ${spec.values.join(', ')}`);
    case 'string':
    case 'required-string':
      return raw;
  }
}

/**
 * Parses a translator's raw options (from a volfile) against its schema. Unknown keys
 * are returned separately: GlusterFS volfiles carry many options a translator may
 * ignore, so the caller decides whether they are an error.
 */
export function parseOptions<S extends OptionSchema>(
  schema: S,
  raw: ReadonlyMap<string, string>,
): { options: OptionsOf<S>; unknown: string[] } {
  const options: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = raw.get(key);
    if (value === undefined) {
      if (spec.type === 'required-string') throw new OptionError(`option ${key} is required`);
      options[key] = spec.default;
    } else {
      options[key] = parseOption(key, spec, value);
    }
  }
  const unknown = [...raw.keys()].filter((k) => !(k in schema));
  return { options: options as OptionsOf<S>, unknown };
}

/** Renders a schema as a Markdown table (docs, CLI help). */
export function describeOptions(schema: OptionSchema): string {
  const rows = Object.entries(schema).map(([key, s]) => {
    const def = 'default' in s ? String(s.default) : '(required)';
    const range =
      s.type === 'enum'
        ? s.values.join(' \\| ')
        : 'min' in s || 'max' in s
          ? `${s.min ?? ''}..${s.max ?? ''}`
          : '';
    return `| ${key} | ${s.type} | ${def} | ${range} | ${s.description} |`;
  });
  return ['| option | type | default | range | description |', '|---|---|---|---|---|', ...rows].join('\n');
}
