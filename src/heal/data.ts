/**
 * Data heal of one file, as stock's shd does it on the wire, plus changed ranges:
 * 1. INODELK `<afr>:self-heal` 0/0 for the whole heal (one healer per file);
 * 2. INODELK `<afr>` 0/0 only long enough to read every brick's changelog and decide;
 * 3. truncate the sinks to the source's size;
 * 4. in batches, each under INODELK `<afr>` on its own span (and as its own lock owner) so
 *    guest IO keeps flowing, up to IN_FLIGHT batches at once: with the source's changed-ranges
 *    record, exactly the recorded ranges (ranges.ts `piecesToCopy`), nearby small ones
 *    batched (≤ 128 KiB, ≤ 32 ranges within 64 MiB: one lock, one vectored READ and one
 *    vectored WRITE per sink for many scattered 4 KiB writes, src/protocol/vector-io.ts);
 *    without a usable record, one 128 KiB chunk per batch, copied where RCHECKSUM differs
 *    between source and sink;
 * 5. FSYNC of the sinks (stock's ensure-durability);
 * 6. under `<afr>` 0/0 again: sizes made equal, the source's mtime and pre-heal atime set
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
export const IN_FLIGHT = 32;
/** A batch: at most CHUNK bytes in at most this many ranges, within MAX_SPAN. */
const BATCH_PIECES = 32;
const MAX_SPAN = 64 << 20;
/** Gaps between recorded ranges up to this size may be copied with them (within 2× changed). */
const MAX_GAP = 16 * 1024;
const allTypes = [TxnType.DATA, TxnType.METADATA, TxnType.ENTRY] as const;
const NONE = [0, 0, 0] as const;
const whole = (gfid: Buffer) => ({ kind: 'inode' as const, gfid, start: 0n, len: 0n });

export async function healData(io: HealIo, gfid: Buffer, opts: HealOptions = {}): Promise<HealOutcome> {
  const r = io.r;
  const up = r.upChildren();
  let mark = performance.now();
  const lap = (): number => {
    const now = performance.now();
    const ms = Math.round(now - mark);
    mark = now;
    return ms;
  };
  return io.withLock(`${r.domain}:self-heal`, whole(gfid), up, async (shLocked) => {
    const locked = flagged(shLocked);
    let states: BrickState[] = [];
    const decision = await io.withLock(r.domain, whole(gfid), locked, async (granted) => {
      states = await io.inspect(gfid);
      if (states.some((s) => !s.ok)) throw notAllAnswered(states, 'data heal');
      const both = granted.map((g, i) => g && shLocked[i]!);
      const d = decide(r, TxnType.DATA, states, both, opts.policy);
      // No counter of any kind anywhere: an index entry left by an operation cut short between
      // its index link and its changelog (stock's shd zeroes those too). An XATTROP adding
      // nothing makes the index drop it; under the lock no client's changelog op runs meanwhile.
      if (d.kind === 'clean' && !allTypes.some((t) => needsHeal(t, states)))
        await Promise.all(
          flagged(both).map((i) =>
            io
              .xattrop(
                i,
                gfid,
                NONE,
                r.cfg.pendingKeys.map(() => NONE),
              )
              .catch(() => undefined),
          ),
        );
      return d;
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
    const timing = { decideMs: lap(), setupMs: 0, copyMs: 0, fsyncMs: 0, resetMs: 0, batches: 0, pieces: 0 };
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
      // Independent calls go together (one round trip each step, not one per brick): the
      // opens; then the source's record, the sinks' truncation and the vector probe.
      const opened = await Promise.allSettled(
        [source, ...dataSinks].map(async (i) => fds.set(i, await io.open(i, gfid))),
      );
      for (const o of opened) if (o.status === 'rejected') throw o.reason;
      const size = BigInt(states[source]!.stat!.size);
      const shorter = dataSinks.filter((i) => BigInt(states[i]!.stat!.size) !== size);
      const truncated = shorter.length > 0;
      // Sent before the record says whether batches will hold several ranges (a stock brick
      // answers it as a READ of nothing); its answer is used only when they do.
      const probes = dataSinks.map((i) => io.servesVectors(i, fds.get(i)!).catch(() => false));
      const [record] = await Promise.all([
        io.getxattr(source, gfid, HEAL_RANGES_KEY).catch(() => undefined),
        ...shorter.map((i) => io.truncate(i, fds.get(i)!, size)),
      ]);
      const ranges = decodeHealRanges(record);
      ranged = ranges !== undefined;
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
      // Several ranges per batch: one vectored READ and one vectored WRITE per sink where the
      // bricks serve them (glusterts bricks; the source's answer says, sinks are asked first).
      let vectorSource = true;
      const vectorSinks = new Set<number>();
      const copyRanges = async (batch: ByteRange[]) => {
        const ranges = batch.map((p) => ({ offset: Number(p.offset), length: Number(p.length) }));
        let data: Buffer[];
        if (vectorSource) {
          const got = await io.readRanges(source, fds.get(source)!, ranges);
          vectorSource = got.vectored;
          data = got.data;
        } else
          data = await Promise.all(
            ranges.map((p) => io.read(source, fds.get(source)!, BigInt(p.offset), p.length)),
          );
        const pieces = ranges.flatMap((p, k) =>
          data[k]!.length ? [{ offset: p.offset, data: data[k]! }] : [],
        );
        read += pieces.reduce((n, p) => n + p.data.length, 0);
        if (!pieces.length) return;
        await Promise.all(
          dataSinks.map((i) =>
            vectorSinks.has(i)
              ? io.writeRanges(i, fds.get(i)!, pieces)
              : Promise.all(pieces.map((p) => io.write(i, fds.get(i)!, BigInt(p.offset), p.data))),
          ),
        );
        copied += pieces.reduce((n, p) => n + p.data.length, 0) * dataSinks.length;
      };
      const healBatch = async (batch: ByteRange[]) => {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const start = batch[0]!.offset;
        const last = batch[batch.length - 1]!;
        const span = { kind: 'inode' as const, gfid, start, len: last.offset + last.length - start };
        // An owner of its own per batch: see HealIo.withNewOwner (guest writes are not starved).
        await io
          .withNewOwner()
          .withLock(r.domain, span, [source, ...dataSinks], () =>
            batch.length > 1 ? copyRanges(batch) : copyPiece(batch[0]!),
          );
        done += batch.reduce((n, p) => n + Number(p.length), 0);
        opts.onProgress?.({ gfid, done, total });
      };
      const batches = batchPieces(pieces, { maxBytes: CHUNK, maxPieces: BATCH_PIECES, maxSpan: MAX_SPAN });
      const served = await Promise.all(probes);
      if (batches.length < pieces.length) dataSinks.forEach((i, k) => served[k] && vectorSinks.add(i));
      Object.assign(timing, { setupMs: lap(), batches: batches.length, pieces: pieces.length });
      await pool(batches, IN_FLIGHT, healBatch);
      timing.copyMs = lap();
      // On disk before the accusations go (stock's shd fsyncs its sinks here too).
      if (copied > 0 || truncated) await Promise.all(dataSinks.map((i) => io.fsync(i, fds.get(i)!)));
      timing.fsyncMs = lap();
      await io.withLock(r.domain, whole(gfid), locked, async () => {
        // Writers may have truncated or extended the file meanwhile; end with equal sizes.
        const [end, ...sinkStats] = await Promise.all(
          [source, ...dataSinks].map((i) => io.fstat(i, fds.get(i)!)),
        );
        await Promise.all(
          dataSinks.map((i, k) =>
            sinkStats[k]!.size !== end!.size ? io.truncate(i, fds.get(i)!, BigInt(end!.size)) : undefined,
          ),
        );
        // The heal's writes made the sinks' mtime "now" and its reads may have moved the
        // source's atime: every brick (other sources too: their own writes' times differ by
        // a clock tick) gets the source's mtime and its atime from before the heal (stock
        // restores the sinks'; its bricks keep client-supplied times, and reads move none).
        const before = states[source]!.stat!;
        const healedTimes = { ...end!, atime: before.atime, atimeNsec: before.atimeNsec };
        await Promise.all(locked.map((i) => io.setTimes(i, gfid, healedTimes)));
        await resetChangelog(io, gfid, [TxnType.DATA], states, locked);
      });
      timing.resetMs = lap();
    } finally {
      await Promise.all([...fds].map(([i, fd]) => io.release(i, fd).catch(() => undefined)));
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
      timing,
    } satisfies HealOutcome;
  });
}
