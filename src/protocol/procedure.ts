/**
 * How a GlusterFS RPC program is described: each procedure names its argument and
 * result codecs, once. Clients, servers, fixtures and fuzzers all work from these
 * descriptions, so no procedure's layout is written down twice.
 */
import { XdrError, type Codec, type XdrReader, type XdrWriter } from '../xdr/index.js';

/**
 * Raw bytes that follow the XDR part of a record with no length and no padding:
 * WRITE data in calls, READ data in replies. Decoded payloads are a view of the
 * received record; encoders take one buffer or several (scatter-gather).
 */
export type Payload = Buffer | readonly Buffer[];

export interface ProcDef<A = any, R = any> {
  readonly name: string;
  readonly proc: number;
  readonly args: Codec<A>;
  readonly results: Codec<R>;
}

export interface ProgramDef {
  readonly name: string;
  readonly prog: number;
  readonly vers: number;
  /** Indexed by procedure number. */
  readonly procs: ReadonlyMap<number, ProcDef>;
}

export function defineProgram(
  name: string,
  id: { prog: number; vers: number },
  procs: Record<string, { proc: number; args: Codec<any>; results: Codec<any> }>,
): ProgramDef {
  const byNumber = new Map<number, ProcDef>();
  for (const [procName, def] of Object.entries(procs)) {
    if (byNumber.has(def.proc)) throw new Error(`${name}: procedure ${def.proc} defined twice`);
    byNumber.set(def.proc, { name: procName, ...def });
  }
  return { name, prog: id.prog, vers: id.vers, procs: byNumber };
}

/** Marks a codec whose values carry a trailing raw payload in `payload`. */
export interface PayloadCodec<T> extends Codec<T & { payload: Payload }> {
  readonly hasPayload: true;
}

/**
 * Wraps a struct codec so that the bytes after it become `payload`. `expectedLength`
 * says how long the payload must be, from the decoded fields (WRITE: `size`; READ
 * reply: `op_ret`); anything else is malformed. Writing emits only the XDR part:
 * the caller sends `payloadChunks(value)` after it.
 */
export function withPayload<T>(inner: Codec<T>, expectedLength: (v: T) => number): PayloadCodec<T> {
  return {
    hasPayload: true,
    read(r: XdrReader) {
      const v = inner.read(r);
      const at = r.offset;
      const payload = r.rest();
      const want = expectedLength(v);
      if (payload.length !== want) {
        throw new XdrError('XDR_BAD_VALUE', `payload of ${payload.length} bytes, header says ${want}`, at);
      }
      return Object.assign(v as object, { payload }) as T & { payload: Payload };
    },
    write(w: XdrWriter, v) {
      inner.write(w, v);
    },
  };
}

export function hasPayload(codec: Codec<unknown>): boolean {
  return (codec as Partial<PayloadCodec<unknown>>).hasPayload === true;
}

export function payloadChunks(p: Payload): readonly Buffer[] {
  return Buffer.isBuffer(p) ? [p] : (p as readonly Buffer[]);
}

export function payloadLength(p: Payload): number {
  if (Buffer.isBuffer(p)) return p.length;
  let n = 0;
  for (const c of p as readonly Buffer[]) n += c.length;
  return n;
}
