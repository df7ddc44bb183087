/**
 * GETXATTR, SETXATTR, REMOVEXATTR, XATTROP and their fd variants. Clients may read the
 * brick's internal xattrs but never set or remove them (EPERM); utime's `set-ctime-mdata`
 * is accepted and ignored (glusterts reports times from the filesystem).
 */
import { hostname } from 'node:os';
import { DictType, ptrValue, strValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import type { Gfid } from '../../protocol/gfid.js';
import { XATTR_CREATE, XATTR_REPLACE, type XattrFlags } from '../../sys/index.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopTable } from '../../xlator/translator.js';
import type { Posix } from './context.js';
import { errCode } from './fsx.js';
import { HIDDEN_DIR, handleRelPath } from './on-disk.js';
import { checkXattrName, isHiddenXattr, isInternalXattr } from './security.js';
import { fdXattrs, nodeXattrs, xattrBytes, type XattrTarget } from './xattrs.js';
import { zeroIatt } from '../../protocol/iatt.js';
import { MAX_XATTROP_KEYS, arrayLength, checkXattropOp, xattropStep } from './xattrop.js';

const SET_CTIME_MDATA = 'set-ctime-mdata';
/** Virtual keys GETXATTR answers from the brick's layout instead of the inode's xattrs. */
const PATHINFO_KEYS = new Set(['trusted.glusterfs.pathinfo', 'glusterfs.pathinfo']);
const GFID2PATH_KEY = 'glusterfs.gfid2path';

/** A virtual STR reply for GETXATTR. */
function virtualReply(name: string, value: string) {
  const dict: Dict = new Map([[name, strValue(value)]]);
  return { opRet: Buffer.byteLength(value), dict, xdata: null, prestat: zeroIatt(), poststat: zeroIatt() };
}

async function getxattr(t: XattrTarget, namelen: number, name: string) {
  const dict: Dict = new Map();
  if (namelen === 0 || name === '') {
    // List all: names and values; op_ret is the size of the name list, as listxattr's.
    let total = 0;
    for (const key of await t.list()) {
      if (isHiddenXattr(key)) continue;
      try {
        dict.set(key, ptrValue(await t.get(key)));
        total += Buffer.byteLength(key) + 1;
      } catch {
        // Removed meanwhile.
      }
    }
    return { opRet: total, dict, xdata: null, prestat: zeroIatt(), poststat: zeroIatt() };
  }
  checkXattrName(name);
  const value = await t.get(name);
  dict.set(name, ptrValue(value));
  return { opRet: value.length, dict, xdata: null, prestat: zeroIatt(), poststat: zeroIatt() };
}

async function setxattr(t: XattrTarget, flags: number, dict: GfxDict) {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE) || flags === (XATTR_CREATE | XATTR_REPLACE))
    throw FopError.of('EINVAL', `setxattr flags ${flags}`);
  const pairs: [string, Buffer][] = [];
  for (const [key, v] of dict ?? []) {
    if (key === SET_CTIME_MDATA && v.type === DictType.MDATA) continue;
    if (isInternalXattr(key)) throw FopError.of('EPERM', `${key} is internal to the brick`);
    checkXattrName(key);
    const bytes = xattrBytes(v);
    if (!bytes) throw FopError.of('EINVAL', `xattr ${key} is not bytes`);
    pairs.push([key, bytes]);
  }
  for (const [key, bytes] of pairs) await t.set(key, bytes, flags as XattrFlags);
  return { xdata: null };
}

/**
 * An empty name with an xdata dict (even an empty one) removes the dict's keys: stock's
 * bulk removal, which AFR's metadata heal sends with what the sink has and the source does
 * not. An internal key anywhere refuses the whole request (EPERM); absent keys are fine.
 * A named removal ignores xdata.
 */
async function removexattr(t: XattrTarget, name: string, xdata: GfxDict) {
  if (name === '' && xdata) {
    const keys = [...xdata.keys()];
    for (const key of keys) {
      if (isInternalXattr(key)) throw FopError.of('EPERM', `${key} is internal to the brick`);
      checkXattrName(key);
    }
    for (const key of keys) {
      await t.remove(key).catch((e: unknown) => {
        if (errCode(e) !== 'ENODATA') throw e;
      });
    }
    return { xdata: null };
  }
  if (isInternalXattr(name)) throw FopError.of('EPERM', `${name} is internal to the brick`);
  checkXattrName(name);
  await t.remove(name);
  return { xdata: null };
}

export function xattrOps(p: Posix): FopTable {
  const { brick, fds } = p;

  const onFd = <T>(fd: OpenFd, fn: (t: XattrTarget) => Promise<T>) => fds.use(fd, (s) => fn(fdXattrs(s.fd)));

  /** Read-modify-write of each key (xattrop.ts), one xattrop per inode at a time. */
  async function xattrop(gfid: Gfid, t: XattrTarget, op: number, dict: GfxDict) {
    checkXattropOp(op);
    const pairs: [string, Buffer][] = [];
    for (const [key, v] of dict ?? []) {
      if (isInternalXattr(key)) throw FopError.of('EPERM', `${key} is internal to the brick`);
      checkXattrName(key);
      const value = xattrBytes(v);
      if (!value) throw FopError.of('EINVAL', `xattrop value for ${key} is not bytes`);
      arrayLength(op, key, value.length);
      pairs.push([key, value]);
    }
    if (pairs.length > MAX_XATTROP_KEYS) throw FopError.of('EINVAL', `xattrop of ${pairs.length} keys`);
    const out: Dict = new Map();
    await brick.locked(`xattrop:${gfid.toString('hex')}`, async () => {
      for (const [key, value] of pairs) {
        const have = await t.get(key).catch((e: unknown) => {
          if (errCode(e) === 'ENODATA') return null;
          throw e;
        });
        const step = xattropStep(op, key, have, value);
        if (step.write) await t.set(key, step.write, 0);
        if (step.reply) out.set(key, ptrValue(step.reply));
      }
    });
    return { dict: out, xdata: null, prestat: zeroIatt(), poststat: zeroIatt() };
  }

  return {
    async GETXATTR(req) {
      return brick.with(req.gfid, async (node) => {
        if (PATHINFO_KEYS.has(req.name)) {
          // Where the inode lives on this host: AFR's choose-local and shd read it.
          const [path = `/${HIDDEN_DIR}/${handleRelPath(node.gfid)}`] = await brick.pathsOf(node);
          const real = brick.root + (path === '/' ? '/' : path);
          return virtualReply(req.name, `<POSIX(${brick.root}):${hostname()}:${real}>`);
        }
        if (req.name === GFID2PATH_KEY) {
          const paths = await brick.pathsOf(node);
          if (paths.length === 0) throw FopError.of('ENODATA', 'no path recorded for this gfid');
          return virtualReply(req.name, paths.join(':'));
        }
        return getxattr(nodeXattrs(node), req.namelen, req.name);
      });
    },
    async FGETXATTR(req) {
      return onFd(req.fd, (t) => getxattr(t, req.namelen, req.name));
    },
    async SETXATTR(req) {
      return brick.with(req.gfid, (node) => setxattr(nodeXattrs(node), req.flags, req.dict));
    },
    async FSETXATTR(req) {
      return onFd(req.fd, (t) => setxattr(t, req.flags, req.dict));
    },
    async REMOVEXATTR(req) {
      return brick.with(req.gfid, (node) => removexattr(nodeXattrs(node), req.name, req.xdata));
    },
    async FREMOVEXATTR(req) {
      return onFd(req.fd, (t) => removexattr(t, req.name, req.xdata));
    },
    async XATTROP(req) {
      return brick.with(req.gfid, (node) => xattrop(req.gfid, nodeXattrs(node), req.flags, req.dict));
    },
    async FXATTROP(req) {
      return onFd(req.fd, (t) => xattrop(req.fd.gfid, t, req.flags, req.dict));
    },
  };
}
