/**
 * The AUTH_GLUSTERFS_v3 credential of a fop: the caller's pid, uid, gid, groups and lock
 * owner (docs/wire-format.md, Credentials). The body is at most 400 bytes: after the nine fixed
 * words, groups and the lock owner share 91 words, so excess groups are dropped, as
 * stock's client does; a lock owner that cannot fit is refused with EINVAL.
 */
import { encodeCredential, AuthFlavor } from '../../rpc/auth.js';
import type { OpaqueAuth } from '../../rpc/message.js';
import { FopError } from '../../protocol/errno.js';
import type { Caller } from '../../xlator/translator.js';

/** 400-byte body, in XDR words, less pid, uid, gid, flags, ctime (3), group count, owner length. */
const SPARE_WORDS = 100 - 9;

export function fopCredential(caller: Caller, sendGids: boolean): OpaqueAuth {
  const ownerWords = Math.ceil(caller.lkOwner.length / 4);
  if (ownerWords > SPARE_WORDS) {
    throw FopError.of('EINVAL', `lock owner of ${caller.lkOwner.length} bytes does not fit the credential`);
  }
  const groups = sendGids ? caller.groups.slice(0, SPARE_WORDS - ownerWords) : [];
  return encodeCredential({
    flavor: AuthFlavor.GLUSTERFS_V3,
    pid: caller.pid | 0,
    uid: caller.uid >>> 0,
    gid: caller.gid >>> 0,
    flags: 0,
    ctimeNsec: 0,
    ctimeSec: 0n,
    groups: [...groups],
    lkOwner: caller.lkOwner,
  });
}
