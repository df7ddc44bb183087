/**
 * Typed calls: a procedure description from the tables plus an RpcClient give a
 * promise of decoded results. Arguments and results are encoded and decoded by the
 * procedure's own codecs; WRITE-style payloads travel as separate chunks.
 */
import type { Codec, Infer } from '../xdr/index.js';
import { AUTH_NONE_VERIFIER, type OpaqueAuth } from '../rpc/message.js';
import type { RpcClient } from '../rpc/client.js';
import { hasPayload, payloadChunks, type Payload } from './procedure.js';

export interface Procedure {
  proc: number;
  args: Codec<any>;
  results: Codec<any>;
}

export interface CallOptions {
  cred: OpaqueAuth;
  /** AUTH_NONE unless given (a brick's sign-in token). */
  verf?: OpaqueAuth;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function callProcedure<P extends Procedure>(
  client: RpcClient,
  program: { prog: number; vers: number },
  procedure: P,
  args: Infer<P['args']>,
  opts: CallOptions,
): Promise<Infer<P['results']>> {
  const payload = hasPayload(procedure.args)
    ? payloadChunks((args as { payload: Payload }).payload)
    : undefined;
  const reply = await client.call({
    prog: program.prog,
    vers: program.vers,
    proc: procedure.proc,
    cred: opts.cred,
    verf: opts.verf ?? AUTH_NONE_VERIFIER,
    args: (w) => procedure.args.write(w, args),
    ...(payload ? { payload } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const results = procedure.results.read(reply.results);
  reply.results.finish();
  return results;
}
