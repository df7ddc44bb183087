/**
 * The changed-ranges record a brick keeps while an inode's dirty or pending counters are
 * non-zero (virtual GETXATTR `glusterts.heal-ranges`, served by the brick): which byte ranges
 * were written, discarded, zeroed or truncated there. Heal reads it from the source and copies
 * only those ranges, so its cost follows what changed, not the file's size.
 *
 * Value (big-endian): u8 version = 1, u8 flags (bit 0: the record is complete), u16 0, u32
 * count, then count × (u64 offset, u64 length), sorted and merged. Anything else — no record,
 * another version, an incomplete or malformed one — means "unknown": heal compares checksums
 * over the whole file instead.
 */
export const HEAL_RANGES_KEY = 'glusterts.heal-ranges';
const HEADER = 8;
const ENTRY = 16;
const COMPLETE = 1;

export interface ByteRange {
  offset: bigint;
  length: bigint;
}

/** The ranges of a complete version-1 record, or undefined when it cannot be trusted. */
export function decodeHealRanges(value: Buffer | undefined): ByteRange[] | undefined {
  if (!value || value.length < HEADER) return undefined;
  if (value[0] !== 1 || (value[1]! & COMPLETE) === 0) return undefined;
  const count = value.readUInt32BE(4);
  if (value.length !== HEADER + count * ENTRY) return undefined;
  const out: ByteRange[] = [];
  let end = -1n;
  for (let k = 0; k < count; k++) {
    const offset = value.readBigUInt64BE(HEADER + k * ENTRY);
    const length = value.readBigUInt64BE(HEADER + k * ENTRY + 8);
    if (length === 0n || offset < end) return undefined; // not sorted and merged: damaged
    out.push({ offset, length });
    end = offset + length;
  }
  return out;
}

export function encodeHealRanges(ranges: readonly ByteRange[], complete = true): Buffer {
  const out = Buffer.alloc(HEADER + ranges.length * ENTRY);
  out[0] = 1;
  out[1] = complete ? COMPLETE : 0;
  out.writeUInt32BE(ranges.length, 4);
  ranges.forEach((r, k) => {
    out.writeBigUInt64BE(r.offset, HEADER + k * ENTRY);
    out.writeBigUInt64BE(r.length, HEADER + k * ENTRY + 8);
  });
  return out;
}

export interface CopyPlanOptions {
  /** The largest piece: one lock, one READ and one WRITE per sink (a writer waits at most that). */
  maxPiece: number;
  /** Gaps up to this size between two ranges may be copied too, to save a piece's round trips. */
  maxGap: number;
}

/**
 * The pieces a data heal copies from a complete record: its ranges cut at EOF (`size`, the
 * source's size; a truncate recorded past it is the sinks' truncate, not a copy), merged
 * where they overlap or touch, the smallest gaps between them bridged while every bridged
 * byte is matched by a changed one (so at most 2× what changed is read) and the bridged run
 * stays within one piece, then cut into pieces of at most `maxPiece`.
 */
export function piecesToCopy(
  ranges: readonly ByteRange[],
  size: bigint,
  { maxPiece, maxGap }: CopyPlanOptions,
): ByteRange[] {
  const runs: { start: bigint; end: bigint }[] = [];
  for (const r of [...ranges].sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0))) {
    const end = r.offset + r.length < size ? r.offset + r.length : size;
    if (end <= r.offset) continue; // zero-length, or wholly past EOF
    const last = runs[runs.length - 1];
    if (last && r.offset <= last.end) last.end = end > last.end ? end : last.end;
    else runs.push({ start: r.offset, end });
  }
  let budget = runs.reduce((n, r) => n + (r.end - r.start), 0n);
  // Bridge gaps smallest first; `head[k]` is the first run of the bridged group holding run k.
  const head = runs.map((_, k) => k);
  const find = (k: number): number => (head[k] === k ? k : (head[k] = find(head[k]!)));
  const groupEnd = runs.map((r) => r.end);
  const gaps = runs
    .slice(1)
    .map((r, k) => ({ k, len: r.start - runs[k]!.end }))
    .filter((g) => g.len <= BigInt(maxGap))
    .sort((a, b) => (a.len < b.len ? -1 : a.len > b.len ? 1 : 0));
  for (const g of gaps) {
    if (g.len > budget) break;
    const left = find(g.k);
    const right = g.k + 1;
    if (groupEnd[right]! - runs[left]!.start > BigInt(maxPiece)) continue;
    head[right] = left;
    groupEnd[left] = groupEnd[right]!;
    budget -= g.len;
  }
  const out: ByteRange[] = [];
  const piece = BigInt(maxPiece);
  runs.forEach((r, k) => {
    if (find(k) !== k) return;
    for (let off = r.start; off < groupEnd[k]!; off += piece) {
      const end = off + piece < groupEnd[k]! ? off + piece : groupEnd[k]!;
      out.push({ offset: off, length: end - off });
    }
  });
  return out;
}

export interface BatchOptions {
  /** Bytes per batch (the copy a guest write into the batch's span may wait for). */
  maxBytes: number;
  maxPieces: number;
  /** From the first piece's start to the last one's end. */
  maxSpan: number;
}

/**
 * Sorted pieces grouped, in file order, into batches healed under one lock over their span:
 * one lock and one unlock for many small scattered ranges instead of one each.
 */
export function batchPieces(pieces: readonly ByteRange[], o: BatchOptions): ByteRange[][] {
  const out: ByteRange[][] = [];
  let batch: ByteRange[] = [];
  let bytes = 0n;
  for (const p of pieces) {
    const first = batch[0];
    if (
      first &&
      (batch.length >= o.maxPieces ||
        bytes + p.length > BigInt(o.maxBytes) ||
        p.offset + p.length - first.offset > BigInt(o.maxSpan))
    ) {
      out.push(batch);
      batch = [];
      bytes = 0n;
    }
    batch.push(p);
    bytes += p.length;
  }
  if (batch.length) out.push(batch);
  return out;
}

/** Every `piece`-sized piece below `size`: what a checksum compare walks without a record. */
export function wholeFilePieces(size: bigint, piece: number): ByteRange[] {
  const c = BigInt(piece);
  const out: ByteRange[] = [];
  for (let off = 0n; off < size; off += c) out.push({ offset: off, length: off + c < size ? c : size - off });
  return out;
}
