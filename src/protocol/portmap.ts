/** Portmap (34123456 v1), glusterd only: brick path → port, and brick sign-in/out. */
import { x } from '../xdr/index.js';
import { Limits } from './limits.js';
import { defineProgram } from './procedure.js';
import { Program } from './programs.js';

const brick = x.string(Limits.PATH);
const status = x.struct({ opRet: x.i32, opErrno: x.i32 });

/** The management daemon's (glusterd's) well-known TCP port: GETSPEC, portmap, volfile fetches. */
export const GLUSTERD_PORT = 24007;

export const PortmapProcs = {
  NULL: { proc: 0, args: x.none, results: x.none },
  /** Success: {0, 0, 0, port}; unknown brick: {-1, 0, 0, 0}. */
  PORTBYBRICK: {
    proc: 1,
    args: x.struct({ brick }),
    results: x.struct({ opRet: x.i32, opErrno: x.i32, status: x.i32, port: x.i32 }),
  },
  BRICKBYPORT: {
    proc: 2,
    args: x.struct({ port: x.i32 }),
    results: x.struct({ opRet: x.i32, opErrno: x.i32, status: x.i32, brick }),
  },
  SIGNIN: { proc: 4, args: x.struct({ brick, port: x.i32, pid: x.i32 }), results: status },
  SIGNOUT: { proc: 5, args: x.struct({ brick, port: x.i32, rdmaPort: x.i32 }), results: status },
} as const;

export const PORTMAP_PROGRAM = defineProgram('Gluster Portmap', Program.PORTMAP, PortmapProcs);
