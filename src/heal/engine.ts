/**
 * Heals one inode of one replica set: finds out what it is, then runs the heals it needs —
 * a directory's entries and metadata, a file's metadata and data — each under its own locks
 * (entry.ts, metadata.ts, data.ts). Everything it knows comes from the bricks, so a heal cut
 * short (a crash, a brick lost) is simply done again later.
 */
import { Errno } from '../protocol/errno.js';
import { TxnType, type Counters } from '../xlators/replicate/index.js';
import type { BrickState, HealIo } from './bricks.js';
import { healData } from './data.js';
import { needsHeal } from './decide.js';
import { healEntry } from './entry.js';
import { healMetadata } from './metadata.js';
import type { HealKind, HealOptions, HealOutcome } from './outcome.js';

export interface InodeHeal {
  gfid: Buffer;
  /**
   * 'missing': some bricks do not have the inode yet (its directory's entry heal comes first);
   * 'gone': none has it; 'in-flight': a client's transaction is under way on it and nobody is
   * accused (its pre-op indexed it), so there is nothing to heal now: look again shortly.
   */
  state: 'done' | 'missing' | 'gone' | 'unreachable' | 'in-flight';
  outcomes: HealOutcome[];
}

const S_IFDIR = 0o040000;

/**
 * In flight, as stock's lookup judges "possibly under a transaction": no brick accuses any
 * other, some brick holds a dirty mark, and some brick holds an inodelk in the AFR domain (a
 * client's pre-op marks dirty only under that lock and its post-op clears it before the
 * unlock). Dirty marks with no lock held are an operation cut short: those are healed.
 */
function inFlight(states: readonly BrickState[]): boolean {
  const cl = states.map((s) => s.changelog);
  const marked = (c: Counters) => c.some((n) => n !== 0);
  if (cl.some((c) => c && c.pending.some(marked))) return false;
  return cl.some((c) => c && marked(c.dirty)) && states.some((s) => (s.afrLocks ?? 0) > 0);
}

export async function healInode(io: HealIo, gfid: Buffer, opts: HealOptions = {}): Promise<InodeHeal> {
  const states = await io.inspect(gfid, io.all(), { afrLocks: true });
  if (states.some((s) => !s.ok && s.errno === Errno.ENOTCONN))
    return { gfid, state: 'unreachable', outcomes: [] };
  const present = states.filter((s) => s.ok);
  if (!present.length) return { gfid, state: 'gone', outcomes: [] };
  if (present.length < states.length) return { gfid, state: 'missing', outcomes: [] };
  const isDir = (present[0]!.stat!.mode & 0o170000) === S_IFDIR;
  // A directory's entry operations lock with entrylks, not inodelks: always looked at.
  if (!isDir && inFlight(states)) return { gfid, state: 'in-flight', outcomes: [] };
  const steps: [HealKind, typeof healData][] = isDir
    ? [
        ['entry', healEntry],
        ['metadata', healMetadata],
      ]
    : [
        ['metadata', healMetadata],
        ['data', healData],
      ];
  const outcomes: HealOutcome[] = [];
  for (const [kind, heal] of steps) {
    // A file no brick charges with a metadata change needs no metadata lock round (stock's
    // shd also picks the heals to run from an unlocked look first); under the lock the
    // metadata heal would find it clean. A charge that lands after this look keeps the
    // index entry, so the next crawl heals it.
    if (!isDir && kind === 'metadata' && !needsHeal(TxnType.METADATA, states)) {
      outcomes.push({ kind, result: 'clean' });
      continue;
    }
    try {
      outcomes.push(await heal(io, gfid, opts));
    } catch (err) {
      outcomes.push({ kind, result: 'failed', reason: (err as Error).message });
    }
  }
  return { gfid, state: 'done', outcomes };
}

/** Nothing was wrong or everything was put right. */
export const healed = (h: InodeHeal): boolean =>
  h.state === 'done' && h.outcomes.every((o) => o.result === 'healed' || o.result === 'clean');
/** Something was put right (a heal that found everything clean did no work). */
export const didWork = (h: InodeHeal): boolean => healed(h) && h.outcomes.some((o) => o.result === 'healed');
export const inSplitBrain = (h: InodeHeal): boolean => h.outcomes.some((o) => o.result === 'split-brain');
