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

/**
 * Writes a record; returns `write()`'s verdict: false means wait for 'drain'. `written` runs
 * once the whole record has left for the kernel, or failed to.
 */
export function writeRecord(
  out: Writable,
  head: Buffer,
  payload: readonly Buffer[] | undefined,
  written?: (err?: Error | null) => void,
): boolean {
  const chunks = payload?.filter((c) => c.length > 0) ?? [];
  if (chunks.length === 0) return written ? out.write(head, written) : out.write(head);
  out.cork();
  let ok = out.write(head);
  for (const [i, chunk] of chunks.entries())
    ok = written && i === chunks.length - 1 ? out.write(chunk, written) : out.write(chunk);
  out.uncork();
  return ok;
}
