/**
 * Entry heal of one directory, as stock's shd does it: ENTRYLK `<afr>:self-heal` then
 * ENTRYLK `<afr>` on the whole directory (empty name); decide from the entry counters; make
 * each sink's names match the source's — a missing name is created with the source's gfid,
 * type, mode and owner (MKNOD/MKDIR/SYMLINK with gfid-req and glusterfs-internal-fop), or
 * hard-linked (LINK) when the sink already holds that gfid under another name, and the source
 * then accuses the sink on a new inode (stock's new-entry marking) so its data and metadata
 * follow; a name the source no longer has is removed (a directory with its contents). The
 * names in entry-changes and the full listings of source and sinks are all compared, so a
 * lost or partial granular index loses nothing. Last, the observed counters are undone with
 * `glusterfs.xattrop-purge-index`, which also drops the entry-changes folder.
 */
import { intValue, type Dict } from '../protocol/dict.js';
import type { Iatt } from '../protocol/iatt.js';
import { newEntryCharge, TxnType, ZERO, type Counters } from '../xlators/replicate/index.js';
import { flagged, notAllAnswered, PURGE_INDEX, type BrickState, type HealIo } from './bricks.js';
import { resetChangelog } from './changelog-reset.js';
import { decide, needsHeal } from './decide.js';
import { entryChanges } from './index-crawl.js';
import type { HealOptions, HealOutcome } from './outcome.js';

const S_IFMT = 0o170000;
const isDir = (s: Iatt) => (s.mode & S_IFMT) === 0o040000;
const ROOT_HIDDEN = new Set(['.glusterfs', '.trashcan']);

export async function healEntry(io: HealIo, gfid: Buffer, opts: HealOptions = {}): Promise<HealOutcome> {
  const r = io.r;
  const dirLock = { kind: 'entry' as const, gfid, name: '' };
  return io.withLock(`${r.domain}:self-heal`, dirLock, r.upChildren(), (shLocked) =>
    io.withLock(r.domain, dirLock, flagged(shLocked), async (granted) => {
      const locked = granted.map((g, i) => g && shLocked[i]!);
      const states: BrickState[] = await io.inspect(gfid);
      if (states.some((s) => !s.ok)) throw notAllAnswered(states, 'entry heal');
      const which = flagged(locked);
      const purge: Dict = new Map([[PURGE_INDEX, intValue(1)]]);
      if (!needsHeal(TxnType.ENTRY, states) && !needsHeal(TxnType.DATA, states)) {
        // Nothing pending: only a leftover entry-changes folder can remain; drop it.
        await resetChangelog(io, gfid, [TxnType.ENTRY], states, which, purge);
        return { kind: 'entry', result: 'clean' } satisfies HealOutcome;
      }
      const decision = decide(r, TxnType.ENTRY, states, locked, opts.policy);
      if (decision.kind === 'split-brain')
        return { kind: 'entry', result: 'split-brain', reason: decision.reason } satisfies HealOutcome;
      if (decision.kind === 'clean') {
        await resetChangelog(io, gfid, [TxnType.ENTRY, TxnType.DATA], states, which, purge);
        return { kind: 'entry', result: 'healed', sinks: [] } satisfies HealOutcome;
      }
      const { source } = decision;
      const sinks = flagged(decision.sinks);
      // The names recorded in entry-changes on every source are looked at first; the listings
      // of source and sinks are then compared in full, since a deletion made by a client that
      // recorded no name (or a damaged index) must not survive on a sink.
      const names = new Set<string>();
      for (const i of flagged(
        decision.sinks.map((_, k) => k !== source && !decision.sinks[k] && locked[k]!),
      ).concat(source))
        for (const n of (await entryChanges(io, i, gfid).catch(() => undefined)) ?? []) names.add(n);
      for (const i of [source, ...sinks]) for (const e of await io.list(i, gfid)) names.add(e.name);
      const isRoot = gfid.equals(Buffer.from('00000000000000000000000000000001', 'hex'));
      for (const name of names) {
        if (isRoot && ROOT_HIDDEN.has(name)) continue;
        await healName(io, gfid, name, source, sinks);
      }
      await resetChangelog(io, gfid, [TxnType.ENTRY, TxnType.DATA], states, which, purge);
      return { kind: 'entry', result: 'healed', source, sinks } satisfies HealOutcome;
    }),
  );
}

async function healName(
  io: HealIo,
  parent: Buffer,
  name: string,
  source: number,
  sinks: number[],
): Promise<void> {
  const want = await io.lookupName(source, parent, name);
  const created: number[] = [];
  for (const i of sinks) {
    const have = await io.lookupName(i, parent, name);
    if (!want) {
      if (have) await io.removeTree(i, parent, name, have);
      continue;
    }
    if (have && have.gfid.equals(want.gfid) && (have.mode & S_IFMT) === (want.mode & S_IFMT)) continue;
    if (have) await io.removeTree(i, parent, name, have);
    // Another name of a file the sink already holds (a hard link): link it, as stock does.
    if (!isDir(want) && (await io.inspect(want.gfid, [i]))[i]!.ok) {
      await io.link(i, want.gfid, parent, name);
      continue;
    }
    const link = (want.mode & S_IFMT) === 0o120000 ? await io.readlink(source, want.gfid) : undefined;
    await io.createLike(i, parent, name, want, link);
    created.push(i);
  }
  if (!want || !created.length) return;
  // The new copies are empty: the source accuses them so data and metadata heal follow.
  const charge = newEntryCharge(isDir(want), true);
  const pending: Counters[] = io.r.cfg.pendingKeys.map((_, j) => (created.includes(j) ? charge : ZERO));
  await io.xattrop(source, want.gfid, ZERO, pending);
}
