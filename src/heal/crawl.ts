/**
 * One index heal of a replica set: list every gfid the up bricks have indexed, heal
 * directories first (their entry heal creates the names the files need), then files, a few
 * at a time, and go round again while rounds heal something (a file created during an outage
 * can only be healed after its directory was).
 *
 * An entry a client's write has in flight (its pre-op indexed it, nobody is accused) or that
 * turned out clean is neither progress nor work left: the pass reports it as in flight, for
 * the daemon to look at again shortly — an accusation may land on it after this look, and
 * the index would not show a new name for it.
 */
import { gfidToString } from '../protocol/gfid.js';
import type { HealIo } from './bricks.js';
import { didWork, healed, healInode, inSplitBrain, type InodeHeal } from './engine.js';
import { listPending, purgeIndexEntries, type IndexEntry } from './index-crawl.js';
import type { HealOptions } from './outcome.js';
import { pool } from './pool.js';

export interface PassReport {
  rounds: number;
  /** Inodes a heal put right (entries found clean or in flight are not counted). */
  healed: number;
  splitBrain: string[];
  failed: string[];
  /** gfids still indexed after the last round (in-flight ones included). */
  remaining: number;
  /** Of those, the ones in flight or clean at their last look: look again shortly, no backoff. */
  inFlight: string[];
  /** The up bricks' xattrop entries (`<brick>:<gfid>`) at the last listing, after every judgement. */
  accusations: Set<string>;
}

export interface PassOptions extends HealOptions {
  /** Files healed at once (default 4). */
  concurrency?: number;
  maxRounds?: number;
  /** Only these gfids (a re-check of in-flight entries); the listing is still the whole index. */
  only?: ReadonlySet<string>;
  onInode?: (h: InodeHeal) => void;
}

export async function indexHealPass(io: HealIo, opts: PassOptions = {}): Promise<PassReport> {
  const report: PassReport = {
    rounds: 0,
    healed: 0,
    splitBrain: [],
    failed: [],
    remaining: 0,
    inFlight: [],
    accusations: new Set(),
  };
  const maxRounds = opts.maxRounds ?? 8;
  /** Judged in flight or clean in the last round. */
  let quiet = new Set<string>();
  /** Judged at all in the last round. */
  let judged = new Set<string>();
  const list = async (): Promise<Map<string, IndexEntry>> => {
    const { entries, accusations } = await listPending(io);
    report.accusations = accusations;
    if (opts.only) for (const key of entries.keys()) if (!opts.only.has(key)) entries.delete(key);
    report.remaining = entries.size;
    report.inFlight = [...entries.keys()].filter((k) => quiet.has(k));
    return entries;
  };
  let listed = await list();
  while (listed.size && report.rounds < maxRounds && !opts.signal?.aborted) {
    report.rounds++;
    let progress = 0;
    quiet = new Set();
    judged = new Set(listed.keys());
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
      else if (h.state === 'in-flight') quiet.add(key);
      else if (didWork(h)) progress++;
      else if (healed(h)) quiet.add(key);
      else if (inSplitBrain(h)) sb.add(key);
      else if (h.state === 'done') failed.add(key);
      // 'missing', 'unreachable': left for a brick or a directory's heal.
    };
    const entries = [...listed.values()];
    await pool(
      entries.filter((e) => e.isDirectory),
      1,
      heal,
    );
    await pool(
      entries.filter((e) => !e.isDirectory),
      opts.concurrency ?? 4,
      heal,
    );
    report.healed += progress;
    report.splitBrain = [...sb];
    report.failed = [...failed];
    listed = await list();
    // Nothing healed: what is left needs a brick, a policy, an administrator or the end of a
    // client's operation — unless something new was indexed meanwhile: go round for it.
    if (progress === 0 && [...listed.keys()].every((k) => judged.has(k))) break;
  }
  return report;
}
