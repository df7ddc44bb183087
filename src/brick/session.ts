/**
 * Per-connection state of a brick: nothing until SETVOLUME succeeds, then a session
 * whose fd table and locks live as long as the connection.
 */
import { AuthFlavor, type Credential } from '../rpc/auth.js';
import { FdTable, type Caller, type FdBudget, type Session } from '../xlator/index.js';
import type { AuthRequest } from './auth.js';

export interface BrickConnectionState {
  /** Set by a successful SETVOLUME; FOPs before it are refused. */
  session?: BrickSession;
}

export interface BrickSession extends Session {
  readonly processUuid: string;
  readonly clientVersion: string;
  /** The login module accepted its credentials (src/brick/auth.ts). */
  readonly trusted: boolean;
  /** What it authenticated with, asked again when the auth options change. */
  readonly auth: AuthRequest;
}

export function newSession(
  processUuid: string,
  connectionId: number,
  clientVersion: string,
  trusted: boolean,
  auth: AuthRequest,
  fds: { maxPerSession: number; budget?: FdBudget } = { maxPerSession: 65536 },
): BrickSession {
  return {
    id: `${processUuid}#${connectionId}`,
    fds: new FdTable(fds.maxPerSession, fds.budget),
    processUuid,
    clientVersion,
    trusted,
    auth,
  };
}

const NO_OWNER = Buffer.alloc(0);

/** The brick itself, releasing what a session left open. */
export const SYSTEM_CALLER: Caller = { uid: 0, gid: 0, groups: [], pid: 0, lkOwner: NO_OWNER };

/** Who is calling, from the call's credential; unknown flavours act as an anonymous root-less caller. */
export function callerFrom(cred: Credential | null): Caller {
  switch (cred?.flavor) {
    case AuthFlavor.GLUSTERFS_V2:
    case AuthFlavor.GLUSTERFS_V3:
      return { uid: cred.uid, gid: cred.gid, groups: cred.groups, pid: cred.pid, lkOwner: cred.lkOwner };
    case AuthFlavor.GLUSTERFS: {
      const owner = Buffer.alloc(8);
      owner.writeBigUInt64LE(cred.lkOwner);
      return {
        uid: cred.uid,
        gid: cred.gid,
        groups: cred.groups.slice(0, cred.ngrps),
        pid: cred.pid,
        lkOwner: owner,
      };
    }
    case AuthFlavor.UNIX:
      return { uid: cred.uid, gid: cred.gid, groups: cred.groups, pid: 0, lkOwner: NO_OWNER };
    default:
      return { uid: 65534, gid: 65534, groups: [], pid: 0, lkOwner: NO_OWNER };
  }
}
