/**
 * What features/index and features/heal-ranges share: where the index lives, which changelog
 * keys they watch in XATTROP (the watchlist options, as glusterd writes them into a brick
 * volfile), and when a watched value counts as non-zero (stock index's rule: any byte set,
 * or a value that is not bytes at all).
 */
import { DictType, type DictValue, type GfxDict } from '../../protocol/dict.js';

export const WATCHLIST_OPTIONS = {
  'index-base': { type: 'required-string', description: 'The index folder, <brick>/.glusterfs/indices.' },
  'xattrop-pending-watchlist': {
    type: 'string',
    default: '',
    description: 'Comma-separated key prefixes whose non-zero values index the inode in xattrop/.',
  },
  'xattrop-dirty-watchlist': {
    type: 'string',
    default: '',
    description: 'Comma-separated key prefixes whose non-zero values index the inode in dirty/.',
  },
} as const;

/** A watchlist option's prefixes. */
export const parseWatchlist = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export const watched = (key: string, prefixes: readonly string[]): boolean =>
  prefixes.some((p) => key.startsWith(p));

export function isZero(b: Buffer): boolean {
  for (const byte of b) if (byte !== 0) return false;
  return true;
}

/** A value's bytes, or null when it is not a byte string. */
export function bytesOf(v: DictValue | undefined): Buffer | null {
  return v && (v.type === DictType.PTR || v.type === DictType.STR || v.type === DictType.STR_OLD)
    ? (v.value as Buffer)
    : null;
}

/** For `prefixes`: undefined if the dict has none of them, else whether any value is non-zero. */
export function nonZero(d: GfxDict, prefixes: readonly string[]): boolean | undefined {
  let seen = false;
  for (const [k, v] of d ?? []) {
    if (!watched(k, prefixes)) continue;
    seen = true;
    const b = bytesOf(v);
    if (!b || !isZero(b)) return true;
  }
  return seen ? false : undefined;
}
