/**
 * Data heal of one file, as stock's shd does it on the wire, plus changed ranges:
 * 1. INODELK `<afr>:self-heal` 0/0 for the whole heal (one healer per file);
 * 2. INODELK `<afr>` 0/0 only long enough to read every brick's changelog and decide;
 * 3. truncate the sinks to the source's size;
 * 4. in batches, each under INODELK `<afr>` on its own span so guest IO on the rest of the
 *    image keeps flowing, up to IN_FLIGHT batches at once: with the source's changed-ranges
 *    record, exactly the recorded ranges (ranges.ts `piecesToCopy`), nearby small ones
 *    batched (≤ 128 KiB, ≤ 32 ranges within 4 MiB: one lock for many scattered 4 KiB
 *    writes); without a usable record, one 128 KiB chunk per batch, copied where RCHECKSUM
 *    differs between source and sink;
 * 5. under `<afr>` 0/0 again: sizes made equal, the source's mtime and pre-heal atime set
 *    on every brick (as stock's shd restores the sinks' times), then the observed counters
 *    are undone.
 */
import type { OpenFd } from '../xlator/fd.js';
import { TxnType } from '../xlators/replicate/index.js';
import { flagged, notAllAnswered, type BrickState, type HealIo } from './bricks.js';
import { resetChangelog } from './changelog-reset.js';
import { decide, needsHeal } from './decide.js';
import type { HealOptions, HealOutcome } from './outcome.js';
import { pool } from './pool.js';
import {
  batchPieces,
  decodeHealRanges,
  HEAL_RANGES_KEY,
  piecesToCopy,
  wholeFilePieces,
  type ByteRange,
} from './ranges.js';

/** The largest piece copied or compared under one lock: a guest write waits at most one piece. */
export const CHUNK = 128 * 1024;
/** Batches in flight at once (each: lock, its reads, its writes to every sink, unlock). */
export const IN_FLIGHT = 8;
/** A batch: at most CHUNK bytes in at most this many ranges, within MAX_SPAN. */
const BATCH_PIECES = 32;
const MAX_SPAN = 4 << 20;
/** Gaps between recorded ranges up to this size may be copied with them (within 2× changed). */
const MAX_GAP = 16 * 1024;
const whole = (gfid: Buffer) => ({ kind: 'inode' as const, gfid, start: 0n, len: 0n });

export async function healData(io: HealIo, gfid: Buffer, opts: HealOptions = {}): Promise<HealOutcome> {
  const r = io.r;
  const up = r.upChildren();
  return io.withLock(`${r.domain}:self-heal`, whole(gfid), up, async (shLocked) => {
    const locked = flagged(shLocked);
    let states: BrickState[] = [];
    const decision = await io.withLock(r.domain, whole(gfid), locked, async (granted) => {
      states = await io.inspect(gfid);
      if (states.some((s) => !s.ok)) throw notAllAnswered(states, 'data heal');
      const both = granted.map((g, i) => g && shLocked[i]!);
      return decide(r, TxnType.DATA, states, both, opts.policy);
    });
    if (decision.kind === 'split-brain')
      return { kind: 'data', result: 'split-brain', reason: decision.reason } satisfies HealOutcome;
    if (decision.kind === 'clean') {
      if (!needsHeal(TxnType.DATA, states)) return { kind: 'data', result: 'clean' } satisfies HealOutcome;
      // Only dirty marks everywhere alike (an operation interrupted on every brick): drop them.
      await io.withLock(r.domain, whole(gfid), locked, () =>
        resetChangelog(io, gfid, [TxnType.DATA], states, locked),
      );
      return { kind: 'data', result: 'healed', sinks: [] } satisfies HealOutcome;
    }
    const { source } = decision;
    const sinks = flagged(decision.sinks);
    if ((states[source]!.stat!.mode & 0o170000) !== 0o100000) {
      // Symlinks and devices carry no data: the entry heal made them alike already.
      await io.withLock(r.domain, whole(gfid), locked, () =>
        resetChangelog(io, gfid, [TxnType.DATA], states, locked),
      );
      return { kind: 'data', result: 'healed', source, sinks } satisfies HealOutcome;
    }
    const dataSinks = sinks.filter((i) => !r.isArbiter(i));
    const fds = new Map<number, OpenFd>();
    let copied = 0;
    let compared = 0;
    let read = 0;
    let ranged = false;
    try {
      for (const i of [source, ...dataSinks]) fds.set(i, await io.open(i, gfid));
      const ranges = decodeHealRanges(
        await io.getxattr(source, gfid, HEAL_RANGES_KEY).catch(() => undefined),
      );
      ranged = ranges !== undefined;
      const size = BigInt(states[source]!.stat!.size);
      for (const i of dataSinks)
        if (BigInt(states[i]!.stat!.size) !== size) await io.truncate(i, fds.get(i)!, size);
      const pieces = ranges
        ? piecesToCopy(ranges, size, { maxPiece: CHUNK, maxGap: MAX_GAP })
        : wholeFilePieces(size, CHUNK);
      const total = pieces.reduce((n, p) => n + Number(p.length), 0);
      let done = 0;
      opts.onProgress?.({ gfid, done, total });
      const copyPiece = async ({ offset, length }: ByteRange) => {
        const len = Number(length);
        let targets = dataSinks;
        if (!ranges) {
          const sums = await Promise.all(
            [source, ...dataSinks].map((i) => io.checksum(i, fds.get(i)!, offset, len)),
          );
          compared += len * sums.length;
          targets = dataSinks.filter((_, k) => sums[k + 1] !== sums[0]);
        }
        if (!targets.length) return;
        const bytes = await io.read(source, fds.get(source)!, offset, len);
        read += bytes.length;
        if (!bytes.length) return;
        await Promise.all(targets.map((i) => io.write(i, fds.get(i)!, offset, bytes)));
        copied += bytes.length * targets.length;
      };
      const healBatch = async (batch: ByteRange[]) => {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const start = batch[0]!.offset;
        const last = batch[batch.length - 1]!;
        const span = { kind: 'inode' as const, gfid, start, len: last.offset + last.length - start };
        await io.withLock(r.domain, span, [source, ...dataSinks], () => Promise.all(batch.map(copyPiece)));
        done += batch.reduce((n, p) => n + Number(p.length), 0);
        opts.onProgress?.({ gfid, done, total });
      };
      const batches = batchPieces(pieces, { maxBytes: CHUNK, maxPieces: BATCH_PIECES, maxSpan: MAX_SPAN });
      await pool(batches, IN_FLIGHT, healBatch);
      await io.withLock(r.domain, whole(gfid), locked, async () => {
        // Writers may have truncated or extended the file meanwhile; end with equal sizes.
        const end = await io.fstat(source, fds.get(source)!);
        for (const i of dataSinks) {
          const fd = fds.get(i)!;
          if ((await io.fstat(i, fd)).size !== end.size) await io.truncate(i, fd, BigInt(end.size));
        }
        // The heal's writes made the sinks' mtime "now" and its reads may have moved the
        // source's atime: every brick (other sources too: their own writes' times differ by
        // a clock tick) gets the source's mtime and its atime from before the heal (stock
        // restores the sinks'; its bricks keep client-supplied times, and reads move none).
        const before = states[source]!.stat!;
        const healedTimes = { ...end, atime: before.atime, atimeNsec: before.atimeNsec };
        await Promise.all(locked.map((i) => io.setTimes(i, gfid, healedTimes)));
        await resetChangelog(io, gfid, [TxnType.DATA], states, locked);
      });
    } finally {
      for (const [i, fd] of fds) await io.release(i, fd).catch(() => undefined);
    }
    return {
      kind: 'data',
      result: 'healed',
      source,
      sinks,
      bytesCopied: copied,
      bytesRead: read,
      bytesCompared: compared,
      ranges: ranged ? 'record' : 'checksum',
    } satisfies HealOutcome;
  });
}
