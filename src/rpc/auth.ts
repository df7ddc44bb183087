/**
 * RPC credentials: AUTH_NULL, AUTH_UNIX and the three AUTH_GLUSTERFS flavours
 * (rpc-common-xdr.x, glusterfs4-xdr.x). A credential travels as an opaque_auth whose
 * body is at most 400 bytes; these codecs turn bodies into values and back.
 */
import { XdrError, XdrReader, XdrWriter } from '../xdr/index.js';
import { MAX_AUTH_BYTES, type OpaqueAuth } from './message.js';

export enum AuthFlavor {
  NULL = 0,
  UNIX = 1,
  GLUSTERFS = 5,
  GLUSTERFS_V2 = 390039,
  GLUSTERFS_V3 = 390040,
}

/** AUTH_UNIX allows 16 supplementary groups (RFC 5531 appendix A). */
const UNIX_MAX_GROUPS = 16;
/** Groups fit the 400-byte body at most this many times. */
const GLUSTERFS_MAX_GROUPS = MAX_AUTH_BYTES / 4;

export type Credential =
  | { flavor: AuthFlavor.NULL }
  | { flavor: AuthFlavor.UNIX; stamp: number; machine: string; uid: number; gid: number; groups: number[] }
  | {
      flavor: AuthFlavor.GLUSTERFS;
      lkOwner: bigint;
      pid: number;
      uid: number;
      gid: number;
      ngrps: number;
      /** Always 16 entries: the fixed array of the v1 body. */
      groups: number[];
    }
  | {
      flavor: AuthFlavor.GLUSTERFS_V2;
      pid: number;
      uid: number;
      gid: number;
      groups: number[];
      lkOwner: Buffer;
    }
  | {
      flavor: AuthFlavor.GLUSTERFS_V3;
      pid: number;
      uid: number;
      gid: number;
      /** utime bits set by the client's features/utime (1 CTIME, 2 MTIME, 4 ATIME, 8/16/32 parent). */
      flags: number;
      ctimeNsec: number;
      ctimeSec: bigint;
      groups: number[];
      lkOwner: Buffer;
    };

function readGroups(r: XdrReader, max: number): number[] {
  const n = r.arrayLength(max, 4);
  const groups: number[] = [];
  for (let i = 0; i < n; i++) groups.push(r.u32());
  return groups;
}

/** Decodes a credential; an unknown flavor is returned as `null` for the caller to refuse. */
export function decodeCredential(auth: OpaqueAuth): Credential | null {
  const r = new XdrReader(auth.body);
  let cred: Credential;
  switch (auth.flavor) {
    case AuthFlavor.NULL:
      cred = { flavor: AuthFlavor.NULL };
      break;
    case AuthFlavor.UNIX:
      cred = {
        flavor: AuthFlavor.UNIX,
        stamp: r.u32(),
        machine: r.string(255),
        uid: r.u32(),
        gid: r.u32(),
        groups: readGroups(r, UNIX_MAX_GROUPS),
      };
      break;
    case AuthFlavor.GLUSTERFS: {
      const lkOwner = r.u64();
      const pid = r.u32();
      const uid = r.u32();
      const gid = r.u32();
      const ngrps = r.u32();
      const groups: number[] = [];
      for (let i = 0; i < 16; i++) groups.push(r.u32());
      cred = { flavor: AuthFlavor.GLUSTERFS, lkOwner, pid, uid, gid, ngrps, groups };
      break;
    }
    case AuthFlavor.GLUSTERFS_V2:
      cred = {
        flavor: AuthFlavor.GLUSTERFS_V2,
        pid: r.i32(),
        uid: r.u32(),
        gid: r.u32(),
        groups: readGroups(r, GLUSTERFS_MAX_GROUPS),
        lkOwner: r.opaque(MAX_AUTH_BYTES),
      };
      break;
    case AuthFlavor.GLUSTERFS_V3:
      cred = {
        flavor: AuthFlavor.GLUSTERFS_V3,
        pid: r.i32(),
        uid: r.u32(),
        gid: r.u32(),
        flags: r.u32(),
        ctimeNsec: r.u32(),
        ctimeSec: r.u64(),
        groups: readGroups(r, GLUSTERFS_MAX_GROUPS),
        lkOwner: r.opaque(MAX_AUTH_BYTES),
      };
      break;
    default:
      return null;
  }
  r.finish();
  return cred;
}

export function encodeCredential(cred: Credential): OpaqueAuth {
  const w = new XdrWriter(64);
  switch (cred.flavor) {
    case AuthFlavor.NULL:
      break;
    case AuthFlavor.UNIX:
      w.u32(cred.stamp).string(cred.machine).u32(cred.uid).u32(cred.gid).u32(cred.groups.length);
      for (const g of cred.groups) w.u32(g);
      break;
    case AuthFlavor.GLUSTERFS:
      w.u64(cred.lkOwner).u32(cred.pid).u32(cred.uid).u32(cred.gid).u32(cred.ngrps);
      for (let i = 0; i < 16; i++) w.u32(cred.groups[i] ?? 0);
      break;
    case AuthFlavor.GLUSTERFS_V2:
      w.i32(cred.pid).u32(cred.uid).u32(cred.gid).u32(cred.groups.length);
      for (const g of cred.groups) w.u32(g);
      w.opaque(cred.lkOwner);
      break;
    case AuthFlavor.GLUSTERFS_V3:
      w.i32(cred.pid).u32(cred.uid).u32(cred.gid).u32(cred.flags).u32(cred.ctimeNsec).u64(cred.ctimeSec);
      w.u32(cred.groups.length);
      for (const g of cred.groups) w.u32(g);
      w.opaque(cred.lkOwner);
      break;
  }
  const body = w.finish();
  if (body.length > MAX_AUTH_BYTES) {
    throw new XdrError('XDR_TOO_LONG', `credential body of ${body.length} bytes exceeds ${MAX_AUTH_BYTES}`);
  }
  return { flavor: cred.flavor, body };
}

/**
 * The lock owner GlusterFS clients send when a frame has none: the pid as 4
 * little-endian bytes (rpc-clnt.c).
 */
export function defaultLkOwner(pid: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(pid >>> 0);
  return b;
}

/** The credential GlusterFS clients use on a connection that has not yet seen DUMP. */
export function glusterV2(pid = 0, uid = 0, gid = 0): Credential {
  return { flavor: AuthFlavor.GLUSTERFS_V2, pid, uid, gid, groups: [], lkOwner: defaultLkOwner(pid) };
}

/** The credential for v400 FOPs and SETVOLUME once the brick listed 1298437/400. */
export function glusterV3(pid = 0, uid = 0, gid = 0, lkOwner = defaultLkOwner(pid)): Credential {
  return {
    flavor: AuthFlavor.GLUSTERFS_V3,
    pid,
    uid,
    gid,
    flags: 0,
    ctimeNsec: 0,
    ctimeSec: 0n,
    groups: [],
    lkOwner,
  };
}
