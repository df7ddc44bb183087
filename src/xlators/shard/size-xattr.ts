/**
 * The two xattrs stock's shard keeps on a base file, byte for byte:
 *
 * - `trusted.glusterfs.shard.block-size`: 8 bytes, big-endian u64, the shard size the file
 *   was created with (it never changes, whatever the volume option says later). A file
 *   without it is not sharded.
 * - `trusted.glusterfs.shard.file-size`: 32 bytes, four big-endian 64-bit words: [logical
 *   size, 0, allocated 512-byte blocks summed over all shards, 0]. Updated only by XATTROP
 *   ADD_ARRAY64 with signed deltas in the same layout, which the brick adds atomically.
 */

export const BLOCK_SIZE_XATTR = 'trusted.glusterfs.shard.block-size';
export const FILE_SIZE_XATTR = 'trusted.glusterfs.shard.file-size';
export const FILE_SIZE_LENGTH = 32;

/** XATTROP flags value of GF_XATTROP_ADD_ARRAY64. */
export const ADD_ARRAY64 = 1;

export interface FileSize {
  /** Logical size in bytes. */
  size: number;
  /** Allocated 512-byte blocks over the base file and every shard. */
  blocks: number;
}

export function encodeBlockSize(blockSize: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(blockSize));
  return b;
}

/** The block size, or undefined when the value is not 8 bytes (not a shard xattr). */
export function decodeBlockSize(value: Uint8Array | undefined): number | undefined {
  if (!value || value.length !== 8) return undefined;
  return Number(Buffer.from(value.buffer, value.byteOffset, 8).readBigUInt64BE(0));
}

/**
 * The 32-byte value; also the delta an ADD_ARRAY64 adds (words are written as signed
 * 64-bit, so negative deltas come out as two's complement, as stock sends them).
 */
export function encodeFileSize(v: FileSize): Buffer {
  const b = Buffer.alloc(FILE_SIZE_LENGTH);
  b.writeBigInt64BE(BigInt(v.size), 0);
  b.writeBigInt64BE(BigInt(v.blocks), 16);
  return b;
}

/** The size and blocks, or undefined when the value is not 32 bytes. */
export function decodeFileSize(value: Uint8Array | undefined): FileSize | undefined {
  if (!value || value.length < FILE_SIZE_LENGTH) return undefined;
  const b = Buffer.from(value.buffer, value.byteOffset, FILE_SIZE_LENGTH);
  return { size: Number(b.readBigUInt64BE(0)), blocks: Number(b.readBigUInt64BE(16)) };
}
