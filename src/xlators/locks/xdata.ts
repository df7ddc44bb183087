/**
 * Lock counts a client asks for in a fop's xdata and finds in the reply's (stock's
 * pl_set_xdata_response): AFR uses them to release its eager lock when someone else waits
 * (`glusterfs.inodelk-dom-count` on WRITE) and to judge, at LOOKUP, whether a heal or an
 * entry operation is in progress. Counts are granted plus blocked locks, as INT (int32).
 */
import { dictString, intValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import type { LockManager } from './manager.js';

export const INODELK_COUNT = 'glusterfs.inodelk-count';
/** Request key whose value names the domain; the reply key is INODELK_COUNT. */
export const INODELK_DOM_COUNT = 'glusterfs.inodelk-dom-count';
export const ENTRYLK_COUNT = 'glusterfs.entrylk-count';
export const POSIXLK_COUNT = 'glusterfs.posixlk-count';
export const PARENT_ENTRYLK = 'glusterfs.parent-entrylk';

const KEYS = [INODELK_COUNT, INODELK_DOM_COUNT, ENTRYLK_COUNT, POSIXLK_COUNT, PARENT_ENTRYLK];

export function asksForLockCounts(xdata: GfxDict): boolean {
  return !!xdata && KEYS.some((k) => xdata.has(k));
}

export interface CountTarget {
  /** The inode the fop acted on, when known. */
  gfid?: Buffer;
  /** For `parent-entrylk`: the entry's directory and name. */
  parent?: Buffer;
  name?: string;
}

/** Adds the requested counts to `reply` (a copy when given, else a new dict); null if none apply. */
export function addLockCounts(
  manager: LockManager,
  asked: GfxDict,
  target: CountTarget,
  reply: GfxDict,
): GfxDict {
  if (!asksForLockCounts(asked)) return reply;
  const out: Dict = new Map(reply ?? []);
  const { gfid, parent, name } = target;
  if (gfid && !gfid.every((b) => b === 0)) {
    if (asked!.has(INODELK_COUNT)) out.set(INODELK_COUNT, intValue(manager.inodelkCount(gfid)));
    const domain = dictString(asked, INODELK_DOM_COUNT);
    // Both keys asked: stock keeps the larger count under the one reply key.
    if (domain !== undefined) {
      const prev = out.get(INODELK_COUNT);
      const n = manager.inodelkCount(gfid, domain);
      out.set(INODELK_COUNT, intValue(prev && Number(prev.value) > n ? Number(prev.value) : n));
    }
    if (asked!.has(ENTRYLK_COUNT)) out.set(ENTRYLK_COUNT, intValue(manager.entrylkCount(gfid)));
    if (asked!.has(POSIXLK_COUNT)) out.set(POSIXLK_COUNT, intValue(manager.posixlkCount(gfid)));
  }
  if (parent && name && asked!.has(PARENT_ENTRYLK)) {
    out.set(PARENT_ENTRYLK, intValue(manager.entrylkHeldOn(parent, name) ? 1 : 0));
  }
  return out.size ? out : reply;
}
