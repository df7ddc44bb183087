/**
 * One index heal of a replica set: list every gfid the up bricks have indexed, heal
 * directories first (their entry heal creates the names the files need), then files, a few
 * at a time, and go round again while rounds make progress (a file created during an outage
 * can only be healed after its directory was).
 */
import { gfidToString } from '../protocol/gfid.js';
import type { HealIo } from './bricks.js';
import { healed, healInode, inSplitBrain, type InodeHeal } from './engine.js';
import { pendingGfids, purgeIndexEntries, type IndexEntry } from './index-crawl.js';
import type { HealOptions } from './outcome.js';
import { pool } from './pool.js';

export interface PassReport {
  rounds: number;
  healed: number;
  splitBrain: string[];
  failed: string[];
  /** gfids still indexed after the last round. */
  remaining: number;
}

export interface PassOptions extends HealOptions {
  /** Files healed at once (default 4). */
  concurrency?: number;
  maxRounds?: number;
  onInode?: (h: InodeHeal) => void;
}

export async function indexHealPass(io: HealIo, opts: PassOptions = {}): Promise<PassReport> {
  const report: PassReport = { rounds: 0, healed: 0, splitBrain: [], failed: [], remaining: 0 };
  const maxRounds = opts.maxRounds ?? 8;
  let previous = -1;
  for (;;) {
    if (opts.signal?.aborted) break;
    const pending = [...(await pendingGfids(io)).values()];
    report.remaining = pending.length;
    if (!pending.length || report.rounds >= maxRounds) break;
    report.rounds++;
    let progress = 0;
    const sb = new Set<string>();
    const failed = new Set<string>();
    const heal = async (e: IndexEntry) => {
      const h = await healInode(io, e.gfid, opts).catch((err: Error): InodeHeal => ({
        gfid: e.gfid,
        state: 'done',
        outcomes: [{ kind: 'data', result: 'failed', reason: err.message }],
      }));
      opts.onInode?.(h);
      const key = gfidToString(e.gfid);
      // No brick has the inode any more (removed while a brick was away): unindex it.
      if (h.state === 'gone')
        await purgeIndexEntries(io, e.gfid).then(
          () => progress++,
          () => undefined,
        );
      else if (healed(h)) progress++;
      else if (inSplitBrain(h)) sb.add(key);
      else if (h.state === 'done') failed.add(key);
    };
    await pool(
      pending.filter((e) => e.isDirectory),
      1,
      heal,
    );
    await pool(
      pending.filter((e) => !e.isDirectory),
      opts.concurrency ?? 4,
      heal,
    );
    report.healed += progress;
    report.splitBrain = [...sb];
    report.failed = [...failed];
    // Done when nothing moved (what is left needs a brick, a policy or an administrator).
    if (progress === 0 || (pending.length === previous && progress === 0)) {
      report.remaining = (await pendingGfids(io)).size;
      break;
    }
    previous = pending.length;
  }
  return report;
}
