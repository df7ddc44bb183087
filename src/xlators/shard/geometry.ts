/**
 * Where a byte of a sharded file lives. Block 0 is the base file itself; block N ≥ 1 is
 * the file `/.shard/<base gfid>.<N>` (N in decimal). Offsets inside a shard are relative
 * to its start, `N * blockSize`. Pure arithmetic, no I/O.
 */
import { gfidToString } from '../../protocol/gfid.js';

/** Stock's limits for `shard-block-size` (shard.h): 4 MiB to 4 TiB. */
export const MIN_BLOCK_SIZE = 4 * 1024 * 1024;
export const MAX_BLOCK_SIZE = 4 * 1024 * 1024 * 1024 * 1024;

/** One shard's part of a byte range. */
export interface Piece {
  /** The shard number (0 = the base file). */
  block: number;
  /** Offset inside that shard. */
  offset: number;
  length: number;
  /** Offset of this piece inside the caller's range (where its bytes go in a buffer). */
  at: number;
}

/** The shard holding byte `offset`. */
export function blockOf(offset: number, blockSize: number): number {
  return Math.floor(offset / blockSize);
}

/**
 * The pieces of [offset, offset + length), one per shard, in order. An empty range has
 * no pieces.
 */
export function pieces(offset: number, length: number, blockSize: number): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  while (at < length) {
    const pos = offset + at;
    const block = blockOf(pos, blockSize);
    const inShard = pos - block * blockSize;
    const n = Math.min(blockSize - inShard, length - at);
    out.push({ block, offset: inShard, length: n, at });
    at += n;
  }
  return out;
}

/**
 * The highest shard number a file of `size` bytes can have data in (0 for an empty file
 * or one that fits the base file): what deletion and truncation walk up to.
 */
export function lastBlock(size: number, blockSize: number): number {
  return size <= 0 ? 0 : blockOf(size - 1, blockSize);
}

/** The name of shard `block` ≥ 1 inside `/.shard`. */
export function shardName(baseGfid: Uint8Array, block: number): string {
  return `${gfidToString(baseGfid)}.${block}`;
}
