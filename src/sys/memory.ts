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
  if (alignment >= DIRECT_ALIGNMENT) directMemory.add(buf.buffer);
  return buf;
}

/** The memory allocAligned handed out with at least DIRECT_ALIGNMENT: isDirectAligned's proof. */
const directMemory = new WeakSet<ArrayBufferLike>();

/** True if `b` starts at a multiple of DIRECT_ALIGNMENT (O_DIRECT takes it without a copy). */
export function isDirectAligned(b: Buffer): boolean {
  return directMemory.has(b.buffer) && b.byteOffset % DIRECT_ALIGNMENT === 0;
}

/** Aligned memory is taken from slabs of this size; larger requests get their own. */
const SLAB_BYTES = 1024 * 1024;
const MAX_CARVED = SLAB_BYTES / 4;
let slab: Buffer | undefined;
let slabUsed = 0;

/**
 * A zero-filled Buffer of `size` bytes starting at a multiple of DIRECT_ALIGNMENT, like
 * `allocAligned(size)` but carved from a shared 1 MiB slab, so a 4 KiB O_DIRECT IO costs no
 * posix_memalign of its own. Regions are never handed out twice (a slab is freed when the
 * last view into it is collected), so no caller sees another's bytes.
 */
export function carveAligned(size: number): Buffer {
  return carve(size, 0);
}

/**
 * Like carveAligned, but the Buffer *ends* at a multiple of DIRECT_ALIGNMENT: whatever tail of
 * it is a multiple of DIRECT_ALIGNMENT long starts aligned. The brick assembles large RPC
 * records in these, so a WRITE's payload (the record's tail, 4 KiB multiples from every
 * O_DIRECT client) goes to the disk without being copied again.
 */
export function carveEndAligned(size: number): Buffer {
  return carve(size, (DIRECT_ALIGNMENT - (size % DIRECT_ALIGNMENT)) % DIRECT_ALIGNMENT);
}

/** `size` bytes at `pad` bytes into an aligned region of their own. */
function carve(size: number, pad: number): Buffer {
  const span = Math.max(DIRECT_ALIGNMENT, Math.ceil((pad + size) / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT);
  if (!(span <= MAX_CARVED)) return allocAligned(pad + size).subarray(pad);
  if (!slab || slabUsed + span > SLAB_BYTES) {
    slab = allocAligned(SLAB_BYTES);
    slabUsed = 0;
  }
  const region = slab.subarray(slabUsed + pad, slabUsed + pad + size);
  slabUsed += span;
  return region;
}
