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
  return native().allocAligned(size, alignment);
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
  const span = Math.max(DIRECT_ALIGNMENT, Math.ceil(size / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT);
  if (!(span <= MAX_CARVED)) return allocAligned(size);
  if (!slab || slabUsed + span > SLAB_BYTES) {
    slab = allocAligned(SLAB_BYTES);
    slabUsed = 0;
  }
  const region = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += span;
  return region;
}
