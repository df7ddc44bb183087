/**
 * Putting one record on the wire: the header (record mark, RPC header, XDR body) is
 * one buffer, the payload chunks (WRITE data, READ replies) follow it uncopied. Corking
 * lets a net.Socket hand all of them to one writev.
 */
import type { Writable } from 'node:stream';

export function payloadLength(payload: readonly Buffer[] | undefined): number {
  let n = 0;
  if (payload) for (const chunk of payload) n += chunk.length;
  return n;
}

/** Writes a record; returns `write()`'s verdict: false means wait for 'drain'. */
export function writeRecord(out: Writable, head: Buffer, payload: readonly Buffer[] | undefined): boolean {
  if (!payload || payload.length === 0) return out.write(head);
  out.cork();
  let ok = out.write(head);
  for (const chunk of payload) if (chunk.length > 0) ok = out.write(chunk);
  out.uncork();
  return ok;
}
