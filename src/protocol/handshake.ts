/**
 * Handshake (14398633 v2). Bricks serve SETVOLUME (the session handshake) and PING;
 * glusterd serves GETSPEC (client volfiles), EVENT_NOTIFY and GET_VOLUME_INFO.
 */
import { x } from '../xdr/index.js';
import { legacyDictField } from './dict.js';
import { commonRsp } from './dump.js';
import { Limits } from './limits.js';
import { defineProgram } from './procedure.js';
import { Program } from './programs.js';

const status = { opRet: x.i32, opErrno: x.i32 };
const errstr = x.string(Limits.ERRSTR);

export const HandshakeProcs = {
  NULL: { proc: 0, args: x.none, results: x.none },
  /** The client's option dict in; ERROR, process-uuid, volume-id, child_up out. */
  SETVOLUME: {
    proc: 1,
    args: x.struct({ dict: legacyDictField }),
    results: x.struct({ ...status, dict: legacyDictField }),
  },
  /** op_ret is the volfile's length in bytes; clients use exactly that many. */
  GETSPEC: {
    proc: 2,
    args: x.struct({ flags: x.u32, key: x.string(Limits.PATH), xdata: legacyDictField }),
    results: x.struct({ ...status, spec: x.string(Limits.VOLFILE), xdata: legacyDictField }),
  },
  PING: { proc: 3, args: x.none, results: commonRsp },
  SET_LK_VER: {
    proc: 4,
    args: x.struct({ uid: x.string(Limits.PATH), lkVer: x.i32 }),
    results: x.struct({ ...status, lkVer: x.i32 }),
  },
  EVENT_NOTIFY: {
    proc: 5,
    args: x.struct({ op: x.i32, dict: legacyDictField }),
    results: x.struct({ ...status, dict: legacyDictField }),
  },
  GET_VOLUME_INFO: {
    proc: 6,
    args: x.struct({ dict: legacyDictField }),
    results: x.struct({ ...status, opErrstr: errstr, dict: legacyDictField }),
  },
  GET_SNAPSHOT_INFO: {
    proc: 7,
    args: x.struct({ dict: legacyDictField }),
    results: x.struct({ ...status, opErrstr: errstr, dict: legacyDictField }),
  },
} as const;

export const HANDSHAKE_PROGRAM = defineProgram('GlusterFS Handshake', Program.HANDSHAKE, HandshakeProcs);
