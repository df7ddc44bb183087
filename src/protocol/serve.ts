/**
 * The server-side twin of callProcedure: wraps a typed function as an RPC handler
 * that decodes the procedure's arguments (GARBAGE_ARGS if they do not decode whole)
 * and encodes its results.
 */
import type { Infer } from '../xdr/index.js';
import type { RpcContext, RpcHandler, RpcProgram, RpcServer } from '../rpc/server.js';
import { DumpProcs } from './dump.js';
import { Program } from './programs.js';
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

/** The reply to PING (GF-DUMP proc 2, handshake proc 3): op_ret 0, empty xdata. */
export const pingResult = () => ({ opRet: 0, opErrno: 0, xdata: Buffer.alloc(0) });

/**
 * GF-DUMP, which every GlusterFS server offers: DUMP lists the server's programs in
 * registration order (clients compare numbers only), PING answers at once. `listed` leaves
 * out programs that are not the server's public face (the glusterts pool's own program).
 */
export function gfDumpProgram<S>(
  server: RpcServer<S>,
  listed: (program: RpcProgram<S>) => boolean = () => true,
): RpcProgram<S> {
  return {
    ...Program.DUMP,
    name: 'GF-DUMP',
    procs: {
      [DumpProcs.NULL.proc]: () => undefined,
      [DumpProcs.DUMP.proc]: procedureHandler(DumpProcs.DUMP, () => ({
        gfsId: 0n,
        opRet: 0,
        opErrno: 0,
        progs: server.programs
          .filter(listed)
          .map((p) => ({ progname: p.name, prognum: p.prog, progver: p.vers })),
      })),
      [DumpProcs.PING.proc]: procedureHandler(DumpProcs.PING, pingResult),
    },
  };
}
