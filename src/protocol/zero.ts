/**
 * The zero value of a codec: what it decodes from the shortest run of zero bytes it
 * accepts. All-zero bytes are a valid encoding of every field type (0, empty string,
 * empty dict, empty list, zeroed iatt), so this gives, for any procedure, the reply
 * stock servers send on failure (zeroed iatts) without a hand-written template per FOP.
 */
import { XdrError, XdrReader, type Codec } from '../xdr/index.js';

const MAX_ZERO_ENCODING = 4096;

export function zeroEncoding(codec: Codec<unknown>): Buffer | undefined {
  for (let len = 0; len <= MAX_ZERO_ENCODING; len += 4) {
    const zeros = Buffer.alloc(len);
    try {
      const r = new XdrReader(zeros);
      codec.read(r);
      r.finish();
      return zeros;
    } catch (e) {
      if (!(e instanceof XdrError)) throw e;
    }
  }
  return undefined;
}

/** A fresh zero value of `codec` (decoded anew each call, so callers may modify it). */
export function zeroValue<T>(codec: Codec<T>): T {
  const bytes = zeroEncoding(codec as Codec<unknown>);
  if (!bytes) throw new Error('codec has no all-zero encoding');
  return codec.read(new XdrReader(bytes));
}
