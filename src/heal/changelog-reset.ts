/**
 * After a heal of one transaction type: every brick forgets the counters that were observed
 * under the heal locks (XATTROP ADD_ARRAY with the negated values, stock's post-op), so the
 * index entries go away. Counters that grew since the observation stay positive and ask for
 * another heal. Only done when every sink was healed.
 */
import type { TxnType, Counters } from '../xlators/replicate/index.js';
import type { BrickState, HealIo } from './bricks.js';
import type { GfxDict } from '../protocol/dict.js';

const only = (type: TxnType, n: number): Counters => {
  const c: [number, number, number] = [0, 0, 0];
  c[type] = n;
  return c;
};

export async function resetChangelog(
  io: HealIo,
  gfid: Buffer,
  types: readonly TxnType[],
  states: readonly BrickState[],
  which: readonly number[],
  xdata: GfxDict = null,
): Promise<void> {
  for (const i of which) {
    const cl = states[i]?.changelog;
    if (!cl) continue;
    const sum = (c: Counters): Counters => {
      const out: [number, number, number] = [0, 0, 0];
      for (const t of types) out[t] = only(t, -c[t])[t];
      return out;
    };
    const dirty = sum(cl.dirty);
    const pending = cl.pending.map(sum);
    const nothing = [dirty, ...pending].every((c) => c[0] === 0 && c[1] === 0 && c[2] === 0);
    if (nothing && !xdata) continue;
    await io.xattrop(i, gfid, dirty, pending, xdata);
  }
}
