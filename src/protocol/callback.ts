/**
 * Callback program (52743234 v1): calls a server makes to its clients on their own
 * connection. Clients never answer them, so every result codec is empty.
 */
import { x, type XdrReader, type XdrWriter } from '../xdr/index.js';
import { decodeLegacyDict, encodeLegacyDict, legacyDict, legacyString, opaqueXdata } from './dict.js';
import { legacyIatt } from './iatt.js';
import { Limits } from './limits.js';
import { defineProgram } from './procedure.js';
import { Program } from './programs.js';
import { flock, gfid } from './structs.js';

const noBody = { args: x.none, results: x.none };

export const CallbackProcs = {
  NULL: { proc: 0, ...noBody },
  /** glusterd → mgmt clients: the volfile changed, GETSPEC again. */
  FETCHSPEC: { proc: 1, ...noBody },
  INO_FLUSH: { proc: 2, ...noBody },
  EVENT_NOTIFY: { proc: 3, args: x.struct({ op: x.i32, dict: opaqueXdata }), results: x.none },
  GET_SNAPS: { proc: 4, ...noBody },
  CACHE_INVALIDATION: {
    proc: 5,
    args: x.struct({
      gfid: x.string(64),
      eventType: x.u32,
      flags: x.u32,
      expireTimeAttr: x.u32,
      stat: legacyIatt,
      parentStat: legacyIatt,
      oldparentStat: legacyIatt,
      xdata: opaqueXdata,
    }),
    results: x.none,
  },
  CHILD_UP: { proc: 6, ...noBody },
  CHILD_DOWN: { proc: 7, ...noBody },
  RECALL_LEASE: {
    proc: 8,
    args: x.struct({ gfid, leaseType: x.u32, tid: gfid, xdata: opaqueXdata }),
    results: x.none,
  },
  STATEDUMP: { proc: 9, args: x.struct({ pid: x.u32 }), results: x.none },
  INODELK_CONTENTION: {
    proc: 10,
    args: x.struct({ gfid, flock, pid: x.u32, domain: x.string(Limits.LOCK_DOMAIN), xdata: opaqueXdata }),
    results: x.none,
  },
  ENTRYLK_CONTENTION: {
    proc: 11,
    args: x.struct({
      gfid,
      type: x.u32,
      pid: x.u32,
      name: x.string(Limits.NAME_FIELD),
      domain: x.string(Limits.LOCK_DOMAIN),
      xdata: opaqueXdata,
    }),
    results: x.none,
  },
} as const;

export const CALLBACK_PROGRAM = defineProgram('GlusterFS Callback', Program.CALLBACK, CallbackProcs);

/**
 * glusterts's own EVENT_NOTIFY callback from the management daemon to its self-heal daemons:
 * a brick of their volume signed in to portmap (it serves now), so they connect to it at
 * once instead of at their next reconnect-interval retry. The dict (legacy-serialized, as
 * stock's gf_event_notify_req) carries `brick` (the path) and `port`. Stock's management
 * callback program takes EVENT_NOTIFY and ignores it; the daemon sends it only to
 * connections that fetched a self-heal daemon volfile anyway.
 */
export const EVENT_BRICK_SIGNIN = 0x67747301;

export function writeBrickSignin(w: XdrWriter, brick: string, port: number): void {
  CallbackProcs.EVENT_NOTIFY.args.write(w, {
    op: EVENT_BRICK_SIGNIN,
    dict: encodeLegacyDict(legacyDict({ brick, port: String(port) })),
  });
}

/** The brick and port of a brick-signin EVENT_NOTIFY; undefined for any other event. */
export function readBrickSignin(r: XdrReader): { brick: string; port: number } | undefined {
  const { op, dict } = CallbackProcs.EVENT_NOTIFY.args.read(r);
  if (op !== EVENT_BRICK_SIGNIN) return undefined;
  const d = decodeLegacyDict(Buffer.from(dict));
  const brick = legacyString(d, 'brick');
  return brick === undefined ? undefined : { brick, port: Number(legacyString(d, 'port') ?? 0) };
}
