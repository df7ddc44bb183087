/**
 * Block-aligned memory for O_DIRECT IO. Buffers from Node's allocator are only 8- or
 * 16-byte aligned and O_DIRECT reads and writes with them fail with EINVAL on ext4 and xfs;
 * a brick that honours O_DIRECT does its IO through these.
 */
import { constants } from 'node:buffer';
import { native } from './native.js';

/** A common page size and the usual safe O_DIRECT alignment for memory, offsets and sizes. */
export const DIRECT_ALIGNMENT = 4096;

/**
 * A zero-filled Buffer of `size` bytes whose memory starts at a multiple of `alignment`
 * (a power of two), from posix_memalign and freed when the Buffer is collected. Slices at
 * multiples of `alignment` stay aligned.
 */
export function allocAligned(size: number, alignment: number = DIRECT_ALIGNMENT): Buffer {
  if (typeof size === 'number' && size > constants.MAX_LENGTH) {
    const error = new TypeError(`The "size" argument must be at most ${constants.MAX_LENGTH}`);
    (error as NodeJS.ErrnoException).code = 'ERR_OUT_OF_RANGE';
    throw error;
  }
  const buf = native().allocAligned(size, alignment);
  if (alignment >= DIRECT_ALIGNMENT) directMemory.set(buf.buffer, buf.byteOffset);
  return buf;
}

/**
 * Memory known to start blocks at DIRECT_ALIGNMENT multiples: the ArrayBuffer, and the offset
 * into it of its first aligned byte (isDirectAligned's proof).
 */
const directMemory = new WeakMap<ArrayBufferLike, number>();

/** True if `b` starts at a multiple of DIRECT_ALIGNMENT (O_DIRECT takes it without a copy). */
export function isDirectAligned(b: Buffer): boolean {
  const base = directMemory.get(b.buffer);
  return base !== undefined && (b.byteOffset - base) % DIRECT_ALIGNMENT === 0;
}

/**
 * `size` bytes starting at a DIRECT_ALIGNMENT multiple, zero-filled or not, in memory V8
 * allocates and frees on its own. posix_memalign blocks (allocAligned) cost the event loop
 * far more per MiB: fresh ones fault their pages in on the memset, and each one's release
 * waits for a finalizer after a collection that its external-memory report itself forces.
 * An addon built before `misalignment` existed falls back to allocAligned.
 */
function alignedBlock(size: number, zero: boolean): Buffer {
  const misalignment = native().misalignment;
  if (!misalignment) return allocAligned(size);
  const span = size + DIRECT_ALIGNMENT - 1;
  const block = zero ? Buffer.alloc(span) : Buffer.allocUnsafeSlow(span);
  const start = misalignment(block, DIRECT_ALIGNMENT);
  directMemory.set(block.buffer, block.byteOffset + start);
  return block.subarray(start, start + size);
}

/** Aligned memory is taken from slabs of this size; larger requests get their own. */
const SLAB_BYTES = 1024 * 1024;
const MAX_CARVED = SLAB_BYTES / 4;

/** A slab being carved: regions are never handed out twice, so no caller sees another's bytes. */
interface Slab {
  zero: boolean;
  memory: Buffer | undefined;
  used: number;
}
const zeroedSlab: Slab = { zero: true, memory: undefined, used: 0 };
const rawSlab: Slab = { zero: false, memory: undefined, used: 0 };

/**
 * A zero-filled Buffer of `size` bytes starting at a multiple of DIRECT_ALIGNMENT, like
 * `allocAligned(size)` but carved from a shared 1 MiB slab, so a 4 KiB O_DIRECT IO costs no
 * allocation of its own. A slab is freed when the last view into it is collected.
 */
export function carveAligned(size: number): Buffer {
  return carve(zeroedSlab, size, 0);
}

/**
 * Like carveAligned, but the Buffer *ends* at a multiple of DIRECT_ALIGNMENT: whatever tail of
 * it is a multiple of DIRECT_ALIGNMENT long starts aligned.
 */
export function carveEndAligned(size: number): Buffer {
  return carve(zeroedSlab, size, endPad(size));
}

/**
 * carveAligned without the zero fill (Buffer.allocUnsafe's contract: the bytes are whatever
 * the memory held, maybe another client's data), for buffers the caller fills entirely before
 * anything reads them: a READ's target (only the bytes read are sent), a WRITE's aligned copy.
 */
export function carveAlignedUnsafe(size: number): Buffer {
  return carve(rawSlab, size, 0);
}

/**
 * carveEndAligned without the zero fill: the brick assembles large RPC records in these (every
 * byte is copied in), so a WRITE's payload (the record's tail, 4 KiB multiples from every
 * O_DIRECT client) goes to the disk without being copied again.
 */
export function carveEndAlignedUnsafe(size: number): Buffer {
  return carve(rawSlab, size, endPad(size));
}

function endPad(size: number): number {
  return (DIRECT_ALIGNMENT - (size % DIRECT_ALIGNMENT)) % DIRECT_ALIGNMENT;
}

/** `size` bytes at `pad` bytes into an aligned region of their own. */
function carve(slab: Slab, size: number, pad: number): Buffer {
  const span = Math.max(DIRECT_ALIGNMENT, Math.ceil((pad + size) / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT);
  if (!(span <= MAX_CARVED)) return alignedBlock(pad + size, slab.zero).subarray(pad);
  if (!slab.memory || slab.used + span > SLAB_BYTES) {
    slab.memory = alignedBlock(SLAB_BYTES, slab.zero);
    slab.used = 0;
  }
  const region = slab.memory.subarray(slab.used + pad, slab.used + pad + size);
  slab.used += span;
  return region;
}
