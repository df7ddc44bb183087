/**
 * The server-side twin of callProcedure: wraps a typed function as an RPC handler
 * that decodes the procedure's arguments (GARBAGE_ARGS if they do not decode whole)
 * and encodes its results.
 */
import type { Infer } from '../xdr/index.js';
import type { RpcContext, RpcHandler } from '../rpc/server.js';
import type { Procedure } from './call.js';
import { hasPayload, payloadChunks, type Payload } from './procedure.js';

export function procedureHandler<P extends Procedure, S = unknown>(
  procedure: P,
  fn: (args: Infer<P['args']>, ctx: RpcContext<S>) => Infer<P['results']> | Promise<Infer<P['results']>>,
): RpcHandler<S> {
  return async (ctx) => {
    const args = procedure.args.read(ctx.args);
    ctx.args.finish();
    const results = await fn(args, ctx);
    const payload = hasPayload(procedure.results)
      ? payloadChunks((results as { payload: Payload }).payload)
      : undefined;
    return { results: (w) => procedure.results.write(w, results), ...(payload ? { payload } : {}) };
  };
}
