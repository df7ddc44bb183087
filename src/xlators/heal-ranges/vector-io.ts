/**
 * The brick side of glusterts's vectored READ and WRITE (src/protocol/vector-io.ts): one
 * call from the self-heal daemon becomes one plain READ or WRITE per range, sent on as the
 * client would have sent them one by one (same fd, caller and lock owner), so every
 * translator below sees ordinary calls. A vectored READ of no ranges is the probe: it
 * answers nothing but the reply key.
 */
import { ptrValue } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import type { FopReply, FopRequest, Next } from '../../xlator/translator.js';
import {
  decodeIoRanges,
  encodeReadCounts,
  READ_VECTOR_KEY,
  vectorValue,
  withoutKey,
  WRITE_VECTOR_KEY,
} from '../../protocol/vector-io.js';

const chunks = (p: Buffer | readonly Buffer[]): readonly Buffer[] => (Buffer.isBuffer(p) ? [p] : p);

/** A vectored READ's reply, or undefined when `req` is a plain READ. */
export async function vectoredRead(
  req: FopRequest<'READ'>,
  next: Next<'READ'>,
): Promise<FopReply<'READ'> | undefined> {
  const value = vectorValue(req.xdata, READ_VECTOR_KEY);
  if (!value) return undefined;
  const ranges = decodeIoRanges(value, READ_VECTOR_KEY);
  const xdata = withoutKey(req.xdata, READ_VECTOR_KEY);
  if (!ranges.length) {
    const reply = await next({ ...req, size: 0, xdata });
    return {
      ...reply,
      opRet: 0,
      size: 0,
      payload: [],
      xdata: new Map([[READ_VECTOR_KEY, ptrValue(Buffer.alloc(0))]]),
    };
  }
  const replies = await Promise.all(
    ranges.map((r) => next({ ...req, offset: r.offset, size: r.length, xdata })),
  );
  const counts = replies.map((r) => chunks(r.payload).reduce((n, c) => n + c.length, 0));
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    ...replies[replies.length - 1]!,
    opRet: total,
    size: total,
    payload: replies.flatMap((r) => chunks(r.payload)),
    xdata: new Map([[READ_VECTOR_KEY, ptrValue(encodeReadCounts(counts))]]),
  };
}

/**
 * A vectored WRITE's reply, or undefined when `req` is a plain WRITE. `writeOne` is the
 * translator's own WRITE (so its bookkeeping sees every range).
 */
export async function vectoredWrite(
  req: FopRequest<'WRITE'>,
  writeOne: (req: FopRequest<'WRITE'>) => Promise<FopReply<'WRITE'>>,
): Promise<FopReply<'WRITE'> | undefined> {
  const value = vectorValue(req.xdata, WRITE_VECTOR_KEY);
  if (!value) return undefined;
  const ranges = decodeIoRanges(value, WRITE_VECTOR_KEY);
  const data = Buffer.concat(chunks(req.payload));
  const total = ranges.reduce((n, r) => n + r.length, 0);
  if (!ranges.length || total !== data.length || total !== req.size)
    throw FopError.of(
      'EINVAL',
      `${WRITE_VECTOR_KEY}: ${ranges.length} ranges of ${total} bytes, payload ${data.length}`,
    );
  const xdata = withoutKey(req.xdata, WRITE_VECTOR_KEY);
  let at = 0;
  const pieces = ranges.map((r) => {
    const payload = data.subarray(at, (at += r.length));
    return { ...req, offset: r.offset, size: r.length, payload, xdata };
  });
  const replies = await Promise.all(pieces.map(writeOne));
  const written = replies.reduce((n, r, k) => n + (r.opRet ?? pieces[k]!.size), 0);
  if (written !== total)
    throw FopError.of('EIO', `${WRITE_VECTOR_KEY}: ${written} of ${total} bytes written`);
  return {
    ...replies[replies.length - 1]!,
    opRet: written,
    xdata: new Map([[WRITE_VECTOR_KEY, ptrValue(Buffer.alloc(0))]]),
  };
}
