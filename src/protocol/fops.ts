/**
 * The GlusterFS FOP program, 1298437 version 400: every file operation's procedure
 * number, request and reply, declared once (glusterfs4-xdr.x, protocol-common.h).
 * Codecs, handler types, names and statistics all derive from this table.
 */
import { x, type Codec, type Infer } from '../xdr/index.js';
import { gfxDict, gfxDictExact } from './dict.js';
import { iattx } from './iatt.js';
import { Limits } from './limits.js';
import { defineProgram, withPayload, type Payload, type ProgramDef } from './procedure.js';
import { Program } from './programs.js';
import {
  direntList,
  direntPlusList,
  fd,
  flock,
  gfid,
  lease,
  lockList,
  name,
  path,
  statfs,
} from './structs.js';

const xdata = gfxDict;
const xattrName = x.string(Limits.DICT_KEY);
const lockDomain = x.string(Limits.LOCK_DOMAIN);

/** Every reply starts with op_ret and op_errno (a Linux errno when op_ret is -1). */
function reply<F extends Record<string, Codec<any>>>(fields: F) {
  return x.struct({ opRet: x.i32, opErrno: x.i32, ...fields });
}

const commonRsp = reply({ xdata });
const iattRsp = reply({ xdata, stat: iattx });
const twoIattRsp = reply({ xdata, prestat: iattx, poststat: iattx });
const threeIattRsp = reply({ xdata, stat: iattx, preparent: iattx, postparent: iattx });
const dictRsp = reply({ xdata, dict: gfxDict, prestat: iattx, poststat: iattx });
const openRsp = reply({ xdata, fd });

function fop<A extends Record<string, Codec<any>>, R extends Codec<any>>(proc: number, args: A, results: R) {
  return { proc, args: x.struct(args), results };
}

function fopWithPayload<A extends Codec<any>, R extends Codec<any>>(proc: number, args: A, results: R) {
  return { proc, args, results };
}

export const Fops = {
  NULL: { proc: 0, args: x.none, results: x.none },
  STAT: fop(1, { gfid, xdata }, iattRsp),
  READLINK: fop(2, { gfid, size: x.u32, xdata }, reply({ xdata, buf: iattx, path })),
  MKNOD: fop(3, { pargfid: gfid, dev: x.u64, mode: x.u32, umask: x.u32, bname: name, xdata }, threeIattRsp),
  MKDIR: fop(4, { pargfid: gfid, mode: x.u32, umask: x.u32, bname: name, xdata }, threeIattRsp),
  /** Reply pre/post are the parent's. */
  UNLINK: fop(5, { pargfid: gfid, bname: name, xflags: x.u32, xdata }, twoIattRsp),
  RMDIR: fop(6, { pargfid: gfid, xflags: x.i32, bname: name, xdata }, twoIattRsp),
  SYMLINK: fop(7, { pargfid: gfid, bname: name, umask: x.u32, linkname: path, xdata }, threeIattRsp),
  /** oldgfid/newgfid are the old and new parents. */
  RENAME: fop(
    8,
    { oldgfid: gfid, newgfid: gfid, oldbname: name, newbname: name, xdata },
    reply({
      xdata,
      stat: iattx,
      preoldparent: iattx,
      postoldparent: iattx,
      prenewparent: iattx,
      postnewparent: iattx,
    }),
  ),
  /** oldgfid is the inode being linked, newgfid the new parent. */
  LINK: fop(9, { oldgfid: gfid, newgfid: gfid, newbname: name, xdata }, threeIattRsp),
  TRUNCATE: fop(10, { gfid, offset: x.u64n, xdata }, twoIattRsp),
  /** flags are GF_O_* (Linux x86 values). */
  OPEN: fop(11, { gfid, flags: x.u32, xdata }, openRsp),
  READ: fop(
    12,
    { gfid, fd, offset: x.u64n, size: x.u32, flag: x.u32, xdata },
    // The data follows the reply unpadded; op_ret is its length.
    withPayload(reply({ stat: iattx, size: x.u32, xdata: gfxDictExact }), (v) => Math.max(v.opRet, 0)),
  ),
  /** op_ret is the number of bytes written; the data follows the request unpadded. */
  WRITE: fopWithPayload(
    13,
    withPayload(
      x.struct({ gfid, fd, offset: x.u64n, size: x.u32, flag: x.u32, xdata: gfxDictExact }),
      (v) => v.size,
    ),
    twoIattRsp,
  ),
  STATFS: fop(14, { gfid, xdata }, reply({ xdata, statfs })),
  FLUSH: fop(15, { gfid, fd, xdata }, commonRsp),
  /** data = 0: fsync; otherwise fdatasync. */
  FSYNC: fop(16, { gfid, fd, data: x.u32, xdata }, twoIattRsp),
  /** flags: XATTR_CREATE 1, XATTR_REPLACE 2; values are PTR. */
  SETXATTR: fop(17, { gfid, flags: x.u32, dict: gfxDict, xdata }, commonRsp),
  /** namelen is a flag (1 = a name is given, 0 = list all), not a length. */
  GETXATTR: fop(18, { gfid, namelen: x.u32, name: xattrName, xdata }, dictRsp),
  REMOVEXATTR: fop(19, { gfid, name: xattrName, xdata }, commonRsp),
  OPENDIR: fop(20, { gfid, xdata }, openRsp),
  FSYNCDIR: fop(21, { gfid, fd, data: x.i32, xdata }, commonRsp),
  ACCESS: fop(22, { gfid, mask: x.u32, xdata }, commonRsp),
  CREATE: fop(
    23,
    { pargfid: gfid, flags: x.u32, mode: x.u32, umask: x.u32, bname: name, xdata },
    reply({ xdata, stat: iattx, fd: x.u64n, preparent: iattx, postparent: iattx }),
  ),
  FTRUNCATE: fop(24, { gfid, fd, offset: x.u64n, xdata }, twoIattRsp),
  FSTAT: fop(25, { gfid, fd, xdata }, iattRsp),
  /** cmd: 0 GETLK, 1 SETLK, 2 SETLKW, 3–5 RESLK_*, 6 GETLK_FD; the owner is the credential's. */
  LK: fop(26, { gfid, fd, cmd: x.u32, type: x.u32, flock, xdata }, reply({ xdata, flock })),
  /** Named when bname is set (pargfid + bname), else nameless by gfid. prestat = inode, poststat = parent. */
  LOOKUP: fop(27, { gfid, pargfid: gfid, flags: x.u32, bname: name, xdata }, twoIattRsp),
  /** offset is the previous batch's last d_off cookie (0 to start). */
  READDIR: fop(28, { gfid, fd, offset: x.u64, size: x.u32, xdata }, reply({ xdata, entries: direntList })),
  INODELK: fop(29, { gfid, cmd: x.u32, type: x.u32, flock, volume: lockDomain, xdata }, commonRsp),
  FINODELK: fop(30, { gfid, fd, cmd: x.u32, type: x.u32, flock, volume: lockDomain, xdata }, commonRsp),
  /** cmd: 0 LOCK, 1 UNLOCK, 2 LOCK_NB; namelen is 1 when a basename is given. */
  ENTRYLK: fop(
    31,
    { gfid, cmd: x.u32, type: x.u32, namelen: x.u64n, name, volume: lockDomain, xdata },
    commonRsp,
  ),
  FENTRYLK: fop(
    32,
    { gfid, fd, cmd: x.u32, type: x.u32, namelen: x.u64n, name, volume: lockDomain, xdata },
    commonRsp,
  ),
  /** flags: 0 ADD_ARRAY, 1 ADD_ARRAY64, 2 OR, 3 AND, 4 GET_AND_SET, 5/6 ADD_*_WITH_DEFAULT. */
  XATTROP: fop(33, { gfid, flags: x.u32, dict: gfxDict, xdata }, dictRsp),
  FXATTROP: fop(34, { gfid, fd, flags: x.u32, dict: gfxDict, xdata }, dictRsp),
  FGETXATTR: fop(35, { gfid, fd, namelen: x.u32, name: xattrName, xdata }, dictRsp),
  FSETXATTR: fop(36, { gfid, fd, flags: x.u32, dict: gfxDict, xdata }, commonRsp),
  RCHECKSUM: fop(
    37,
    { gfid, fd, offset: x.u64n, len: x.u32, flags: x.u32, xdata },
    reply({ xdata, flags: x.u32, weakChecksum: x.u32, strongChecksum: x.opaque(Limits.CHECKSUM) }),
  ),
  /** valid: 0x1 MODE, 0x2 UID, 0x4 GID, 0x8 SIZE, 0x10 ATIME, 0x20 MTIME, 0x40 CTIME, 0x80/0x100 *_NOW. */
  SETATTR: fop(38, { gfid, stbuf: iattx, valid: x.i32, xdata }, twoIattRsp),
  FSETATTR: fop(39, { gfid, fd, stbuf: iattx, valid: x.i32, xdata }, twoIattRsp),
  READDIRP: fop(
    40,
    { gfid, fd, offset: x.u64, size: x.u32, xdata },
    reply({ xdata, entries: direntPlusList }),
  ),
  RELEASE: fop(41, { gfid, fd, xdata }, commonRsp),
  RELEASEDIR: fop(42, { gfid, fd, xdata }, commonRsp),
  FREMOVEXATTR: fop(43, { gfid, fd, name: xattrName, xdata }, commonRsp),
  /** flags is the Linux fallocate mode (1 = KEEP_SIZE). */
  FALLOCATE: fop(44, { gfid, fd, flags: x.u32, offset: x.u64n, size: x.u64n, xdata }, twoIattRsp),
  /** Punch a hole, keeping the size. */
  DISCARD: fop(45, { gfid, fd, offset: x.u64n, size: x.u64n, xdata }, twoIattRsp),
  ZEROFILL: fop(46, { gfid, fd, offset: x.u64n, size: x.u64n, xdata }, twoIattRsp),
  IPC: fop(47, { op: x.i32, xdata }, commonRsp),
  /** what: 0 SEEK_DATA, 1 SEEK_HOLE; ENXIO at or past EOF. */
  SEEK: fop(48, { gfid, fd, offset: x.u64n, what: x.i32, xdata }, reply({ xdata, offset: x.u64n })),
  LEASE: fop(50, { gfid, lease, xdata }, reply({ xdata, lease })),
  GETACTIVELK: fop(51, { gfid, xdata }, reply({ xdata, locks: lockList })),
  SETACTIVELK: fop(52, { gfid, locks: lockList, xdata }, commonRsp),
  ICREATE: fop(53, { gfid, mode: x.u32, xdata }, iattRsp),
  NAMELINK: fop(54, { pargfid: gfid, bname: name, xdata }, twoIattRsp),
  PUT: fopWithPayload(
    55,
    withPayload(
      x.struct({
        pargfid: gfid,
        bname: name,
        mode: x.u32,
        umask: x.u32,
        flag: x.u32,
        offset: x.u64n,
        size: x.u32,
        xattr: gfxDict,
        xdata: gfxDictExact,
      }),
      (v) => v.size,
    ),
    threeIattRsp,
  ),
  COPY_FILE_RANGE: fop(
    56,
    {
      gfid1: gfid,
      gfid2: gfid,
      fdIn: fd,
      fdOut: fd,
      offIn: x.u64n,
      offOut: x.u64n,
      size: x.u32,
      flag: x.u32,
      xdata,
    },
    threeIattRsp,
  ),
} as const;

export type FopName = keyof typeof Fops;
export type FopArgs<N extends FopName> = Infer<(typeof Fops)[N]['args']>;
export type FopResults<N extends FopName> = Infer<(typeof Fops)[N]['results']>;

/** A handler for each FOP; a translator or brick supplies the ones it implements. */
export type FopHandlers<Ctx = unknown> = {
  [N in FopName]?: (args: FopArgs<N>, ctx: Ctx) => Promise<FopResults<N>>;
};

export const FOP_PROGRAM: ProgramDef = defineProgram('GlusterFS 4.x v1', Program.FOP, Fops);

export type { Payload };
