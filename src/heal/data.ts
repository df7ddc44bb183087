/**
 * Data heal of one file, as stock's shd does it on the wire, plus changed ranges:
 * 1. INODELK `<afr>:self-heal` 0/0 for the whole heal (one healer per file);
 * 2. INODELK `<afr>` 0/0 only long enough to read every brick's changelog and decide;
 * 3. truncate the sinks to the source's size;
 * 4. per 128 KiB chunk, under INODELK `<afr>` [off, 128 KiB] so guest IO on the rest of the
 *    image keeps flowing: copy the chunk if the source's changed-ranges record names it, or —
 *    without a usable record — if RCHECKSUM differs between source and sink;
 * 5. under `<afr>` 0/0 again: sizes made equal, then the observed counters are undone.
 */
import type { OpenFd } from '../xlator/fd.js';
import { TxnType } from '../xlators/replicate/index.js';
import { flagged, notAllAnswered, type BrickState, type HealIo } from './bricks.js';
import { resetChangelog } from './changelog-reset.js';
import { decide, needsHeal } from './decide.js';
import type { HealOptions, HealOutcome } from './outcome.js';
import { chunksToHeal, decodeHealRanges, HEAL_RANGES_KEY } from './ranges.js';

export const CHUNK = 128 * 1024;
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
      const chunks = chunksToHeal(ranges, size, CHUNK);
      const total = chunks.length * CHUNK;
      let done = 0;
      opts.onProgress?.({ gfid, done, total });
      for (const off of chunks) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const range = { kind: 'inode' as const, gfid, start: off, len: BigInt(CHUNK) };
        await io.withLock(r.domain, range, [source, ...dataSinks], async () => {
          let targets = dataSinks;
          if (!ranges) {
            const sums = await Promise.all(
              [source, ...dataSinks].map((i) => io.checksum(i, fds.get(i)!, off, CHUNK)),
            );
            compared += CHUNK * sums.length;
            targets = dataSinks.filter((_, k) => sums[k + 1] !== sums[0]);
          }
          if (!targets.length) return;
          const bytes = await io.read(source, fds.get(source)!, off, CHUNK);
          for (const i of targets) {
            if (bytes.length) await io.write(i, fds.get(i)!, off, bytes);
            copied += bytes.length;
          }
        });
        done += CHUNK;
        opts.onProgress?.({ gfid, done, total });
      }
      await io.withLock(r.domain, whole(gfid), locked, async () => {
        // Writers may have truncated or extended the file meanwhile; end with equal sizes.
        const now = (await io.fstat(source, fds.get(source)!)).size;
        for (const i of dataSinks) {
          const fd = fds.get(i)!;
          if ((await io.fstat(i, fd)).size !== now) await io.truncate(i, fd, BigInt(now));
        }
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
      bytesCompared: compared,
      ranges: ranged ? 'record' : 'checksum',
    } satisfies HealOutcome;
  });
}
