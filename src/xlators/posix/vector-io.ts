/**
 * The brick side of glusterts's vectored READ and WRITE (src/protocol/vector-io.ts, the
 * self-heal daemon's copy of scattered ranges): all of a call's ranges in one thread-pool
 * hop (src/sys readRanges/writeRanges: the preads or pwrites back to back, one fstat before
 * and after), not one fop and one hop per range. The translators above see one READ or
 * WRITE carrying the ranges; those that track byte ranges (features/heal-ranges,
 * features/failed-writes) read them from the same xdata key.
 *
 * A vectored READ of no ranges is the probe: its reply carries the key, and no data.
 * A vectored WRITE's payload must be exactly its ranges' bytes; an O_APPEND fd (where every
 * write lands at EOF) takes none.
 */
import { constants } from 'node:fs';
import { ptrValue } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import { payloadChunks, payloadLength } from '../../protocol/procedure.js';
import {
  encodeReadCounts,
  READ_VECTOR_KEY,
  WRITE_VECTOR_KEY,
  type IoRange,
} from '../../protocol/vector-io.js';
import { carveAligned, readRanges, writeRanges, type IoSlice } from '../../sys/index.js';
import type { FopReply, FopRequest } from '../../xlator/translator.js';
import type { FdState } from './fdctx.js';
import { iattFromStat } from './iatt.js';

const room = (length: number, direct: boolean) =>
  direct ? carveAligned(length) : Buffer.allocUnsafe(length);

/** Every range of `ranges` read from the open file `s`, in order. */
export async function readVector(
  s: FdState,
  req: FopRequest<'READ'>,
  ranges: readonly IoRange[],
): Promise<FopReply<'READ'>> {
  // One allocation for the batch (each 4 KiB Buffer of its own is an ArrayBuffer of its own).
  const all = room(
    ranges.reduce((n, r) => n + r.length, 0),
    s.direct,
  );
  let at = 0;
  const slices: IoSlice[] = ranges.map((r) => ({
    position: r.offset,
    buffer: all.subarray(at, (at += r.length)),
  }));
  const { bytes, post } = await readRanges(s.fd, slices);
  const total = bytes.reduce((a, b) => a + b, 0);
  const last = ranges[ranges.length - 1];
  const atEof = last !== undefined && last.offset + bytes[bytes.length - 1]! >= Number(post.size);
  return {
    opRet: total,
    // Stock's EOF hint, as a plain READ of the last range would give it.
    opErrno: atEof ? Errno.ENOENT : 0,
    stat: iattFromStat(post, req.fd.gfid),
    size: total,
    xdata: new Map([[READ_VECTOR_KEY, ptrValue(encodeReadCounts(bytes))]]),
    payload: slices.map((x, k) => (x.buffer as Buffer).subarray(0, bytes[k])),
  };
}

/** The payload's bytes written range by range into the open file `s`. */
export async function writeVector(
  s: FdState,
  req: FopRequest<'WRITE'>,
  ranges: readonly IoRange[],
): Promise<FopReply<'WRITE'>> {
  const total = ranges.reduce((n, r) => n + r.length, 0);
  const len = payloadLength(req.payload);
  if (!ranges.length || total !== len || total !== req.size)
    throw FopError.of(
      'EINVAL',
      `${WRITE_VECTOR_KEY}: ${ranges.length} ranges of ${total} bytes, payload ${len}, size ${req.size}`,
    );
  if ((req.fd.flags & constants.O_APPEND) !== 0)
    throw FopError.of('EINVAL', `${WRITE_VECTOR_KEY}: an O_APPEND fd writes only at its end`);
  const chunks = payloadChunks(req.payload);
  const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  let at = 0;
  const slices: IoSlice[] = ranges.map((r) => {
    const piece = data.subarray(at, (at += r.length));
    if (!s.direct) return { position: r.offset, buffer: piece };
    // O_DIRECT takes aligned memory only (unaligned offsets or sizes: the kernel's EINVAL).
    const aligned = carveAligned(r.length);
    piece.copy(aligned);
    return { position: r.offset, buffer: aligned };
  });
  const { pre, post } = await writeRanges(s.fd, slices);
  const gfid = req.fd.gfid;
  return {
    opRet: total,
    prestat: iattFromStat(pre, gfid),
    poststat: iattFromStat(post, gfid),
    xdata: new Map([[WRITE_VECTOR_KEY, ptrValue(Buffer.alloc(0))]]),
  };
}
