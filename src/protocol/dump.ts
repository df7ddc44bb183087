/** GF-DUMP (123451501 v1): program listing and PING, served by glusterd and bricks. */
import { x, type Infer } from '../xdr/index.js';
import { opaqueXdata } from './dict.js';
import { Limits } from './limits.js';
import { defineProgram } from './procedure.js';
import { Program } from './programs.js';

export const progDetail = x.struct({
  progname: x.string(Limits.NAME),
  prognum: x.u64n,
  progver: x.u64n,
});
export type ProgDetail = Infer<typeof progDetail>;

/** `gf_common_rsp`: the PING reply, also used by other management calls. */
export const commonRsp = x.struct({ opRet: x.i32, opErrno: x.i32, xdata: opaqueXdata });

export const DumpProcs = {
  NULL: { proc: 0, args: x.none, results: x.none },
  /** Clients send gfsId 0xcaed; servers answer 0 and their programs. */
  DUMP: {
    proc: 1,
    args: x.struct({ gfsId: x.u64 }),
    results: x.struct({
      gfsId: x.u64,
      opRet: x.i32,
      opErrno: x.i32,
      progs: x.pointerList(progDetail, Limits.DUMP_PROGRAMS),
    }),
  },
  PING: { proc: 2, args: x.none, results: commonRsp },
} as const;

export const DUMP_PROGRAM = defineProgram('GF-DUMP', Program.DUMP, DumpProcs);
