/**
 * GETXATTR, SETXATTR, REMOVEXATTR, XATTROP and their fd variants. Clients may read the
 * brick's internal xattrs but never set or remove them (EPERM); utime's `set-ctime-mdata`
 * is accepted and ignored (glusterts reports times from the filesystem).
 */
import { DictType, ptrValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import type { Gfid } from '../../protocol/gfid.js';
import { XATTR_CREATE, XATTR_REPLACE, type XattrFlags } from '../../sys/index.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopTable } from '../../xlator/translator.js';
import type { Posix } from './context.js';
import { errCode } from './fsx.js';
import { checkXattrName, isHiddenXattr, isInternalXattr } from './security.js';
import { fdXattrs, nodeXattrs, xattrBytes, type XattrTarget } from './xattrs.js';
import { zeroIatt } from '../../protocol/iatt.js';

const SET_CTIME_MDATA = 'set-ctime-mdata';

/** XATTROP flags (glusterfs gf_xattrop_flags_t). */
export const XattropOp = { ADD_ARRAY: 0, ADD_ARRAY64: 1, OR_ARRAY: 2, AND_ARRAY: 3, GET_AND_SET: 4 } as const;

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

async function removexattr(t: XattrTarget, name: string) {
  if (isInternalXattr(name)) throw FopError.of('EPERM', `${name} is internal to the brick`);
  checkXattrName(name);
  await t.remove(name);
  return { xdata: null };
}

function combine(op: number, have: Buffer, add: Buffer): Buffer {
  const width = op === XattropOp.ADD_ARRAY64 ? 8 : 4;
  if (add.length % width !== 0) throw FopError.of('EINVAL', `xattrop value of ${add.length} bytes`);
  const out = Buffer.alloc(Math.max(have.length, add.length));
  have.copy(out);
  for (let i = 0; i + width <= add.length; i += width) {
    if (op === XattropOp.ADD_ARRAY) out.writeInt32BE((out.readInt32BE(i) + add.readInt32BE(i)) | 0, i);
    else if (op === XattropOp.ADD_ARRAY64)
      out.writeBigInt64BE(BigInt.asIntN(64, out.readBigInt64BE(i) + add.readBigInt64BE(i)), i);
    else if (op === XattropOp.OR_ARRAY)
      out.writeUInt32BE((out.readUInt32BE(i) | add.readUInt32BE(i)) >>> 0, i);
    else out.writeUInt32BE((out.readUInt32BE(i) & add.readUInt32BE(i)) >>> 0, i);
  }
  return out;
}

export function xattrOps(p: Posix): FopTable {
  const { brick, fds } = p;

  const onFd = <T>(fd: OpenFd, fn: (t: XattrTarget) => Promise<T>) => fds.use(fd, (s) => fn(fdXattrs(s.fd)));

  /** Read-modify-write of each key, one xattrop per inode at a time. */
  async function xattrop(gfid: Gfid, t: XattrTarget, op: number, dict: GfxDict) {
    if (op < XattropOp.ADD_ARRAY || op > XattropOp.GET_AND_SET) throw FopError.of('EINVAL', `xattrop ${op}`);
    const out: Dict = new Map();
    await brick.locked(`xattrop:${gfid.toString('hex')}`, async () => {
      for (const [key, v] of dict ?? []) {
        if (isInternalXattr(key)) throw FopError.of('EPERM', `${key} is internal to the brick`);
        checkXattrName(key);
        const add = xattrBytes(v);
        if (!add) throw FopError.of('EINVAL', `xattrop value for ${key} is not bytes`);
        const have = await t.get(key).catch((e: unknown) => {
          if (errCode(e) === 'ENODATA') return Buffer.alloc(0);
          throw e;
        });
        if (op === XattropOp.GET_AND_SET) {
          await t.set(key, add, 0);
          out.set(key, ptrValue(have.length ? have : Buffer.alloc(add.length)));
        } else {
          const result = combine(op, have, add);
          await t.set(key, result, 0);
          out.set(key, ptrValue(result));
        }
      }
    });
    return { dict: out, xdata: null, prestat: zeroIatt(), poststat: zeroIatt() };
  }

  return {
    async GETXATTR(req) {
      return brick.with(req.gfid, (node) => getxattr(nodeXattrs(node), req.namelen, req.name));
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
      return brick.with(req.gfid, (node) => removexattr(nodeXattrs(node), req.name));
    },
    async FREMOVEXATTR(req) {
      return onFd(req.fd, (t) => removexattr(t, req.name));
    },
    async XATTROP(req) {
      return brick.with(req.gfid, (node) => xattrop(req.gfid, nodeXattrs(node), req.flags, req.dict));
    },
    async FXATTROP(req) {
      return onFd(req.fd, (t) => xattrop(req.fd.gfid, t, req.flags, req.dict));
    },
  };
}
