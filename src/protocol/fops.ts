/**
 * The GlusterFS FOP program, 1298437 version 400: every file operation's procedure
 * number, request and reply, declared once (glusterfs4-xdr.x, protocol-common.h).
 * Codecs, handler types, names and statistics all derive from this table.
 */
import { x, type Codec, type Infer } from '../xdr/index.js';
import { gfxDict, gfxDictExact, type GfxDict } from './dict.js';
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
  linkTarget,
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

/**
 * What a fop does with open files, declared with its row; `K` are the request's fields.
 * The brick turns wire fd numbers into OpenFds and the client back, both from this.
 */
export interface FdUse<K extends string = string> {
  /** OPEN and CREATE open a file, OPENDIR a directory: the reply's `fd` is the new one. */
  readonly opens?: 'file' | 'dir';
  /** RELEASE and RELEASEDIR close the fd in `fd` (and never fail). */
  readonly releases?: true;
  /** Each request field that holds an fd, with the field holding its inode's gfid. */
  readonly fds?: { readonly [F in K]?: K };
  /** Whether a client may send the anonymous fd (-2) when it has no remote fd (stock client-common.c). */
  readonly anonymous?: true;
}

const fdAt = { fds: { fd: 'gfid' } } as const;
const anonymousFdAt = { ...fdAt, anonymous: true } as const;

function fop<
  A extends Record<string, Codec<any>>,
  R extends Codec<any>,
  const U extends FdUse<keyof A & string> = Record<never, never>,
>(proc: number, args: A, results: R, fdUse?: U) {
  return { proc, args: x.struct(args), results, ...(fdUse as U) };
}

function fopWithPayload<
  A extends Codec<any>,
  R extends Codec<any>,
  const U extends FdUse<keyof Infer<A> & string> = Record<never, never>,
>(proc: number, args: A, results: R, fdUse?: U) {
  return { proc, args, results, ...(fdUse as U) };
}

/** GF_O_DIRECT in OPEN/CREATE flags (GF_O_* are Linux x86's values): the client asked for direct IO. */
export const GF_O_DIRECT = 0o40000;

export const Fops = {
  NULL: { proc: 0, args: x.none, results: x.none },
  STAT: fop(1, { gfid, xdata }, iattRsp),
  READLINK: fop(2, { gfid, size: x.u32, xdata }, reply({ xdata, buf: iattx, path })),
  MKNOD: fop(3, { pargfid: gfid, dev: x.u64, mode: x.u32, umask: x.u32, bname: name, xdata }, threeIattRsp),
  MKDIR: fop(4, { pargfid: gfid, mode: x.u32, umask: x.u32, bname: name, xdata }, threeIattRsp),
  /** Reply pre/post are the parent's. */
  UNLINK: fop(5, { pargfid: gfid, bname: name, xflags: x.u32, xdata }, twoIattRsp),
  RMDIR: fop(6, { pargfid: gfid, xflags: x.i32, bname: name, xdata }, twoIattRsp),
  SYMLINK: fop(7, { pargfid: gfid, bname: name, umask: x.u32, linkname: linkTarget, xdata }, threeIattRsp),
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
  OPEN: fop(11, { gfid, flags: x.u32, xdata }, openRsp, { opens: 'file' }),
  READ: fop(
    12,
    { gfid, fd, offset: x.u64n, size: x.u32, flag: x.u32, xdata },
    // The data follows the reply unpadded; op_ret is its length.
    withPayload(reply({ stat: iattx, size: x.u32, xdata: gfxDictExact }), (v) => Math.max(v.opRet, 0)),
    anonymousFdAt,
  ),
  /** op_ret is the number of bytes written; the data follows the request unpadded. */
  WRITE: fopWithPayload(
    13,
    withPayload(
      x.struct({ gfid, fd, offset: x.u64n, size: x.u32, flag: x.u32, xdata: gfxDictExact }),
      (v) => v.size,
    ),
    twoIattRsp,
    anonymousFdAt,
  ),
  STATFS: fop(14, { gfid, xdata }, reply({ xdata, statfs })),
  FLUSH: fop(15, { gfid, fd, xdata }, commonRsp, fdAt),
  /** data = 0: fsync; otherwise fdatasync. */
  FSYNC: fop(16, { gfid, fd, data: x.u32, xdata }, twoIattRsp, anonymousFdAt),
  /** flags: XATTR_CREATE 1, XATTR_REPLACE 2; values are PTR. */
  SETXATTR: fop(17, { gfid, flags: x.u32, dict: gfxDict, xdata }, commonRsp),
  /** namelen is a flag (1 = a name is given, 0 = list all), not a length. */
  GETXATTR: fop(18, { gfid, namelen: x.u32, name: xattrName, xdata }, dictRsp),
  REMOVEXATTR: fop(19, { gfid, name: xattrName, xdata }, commonRsp),
  OPENDIR: fop(20, { gfid, xdata }, openRsp, { opens: 'dir' }),
  FSYNCDIR: fop(21, { gfid, fd, data: x.i32, xdata }, commonRsp, fdAt),
  ACCESS: fop(22, { gfid, mask: x.u32, xdata }, commonRsp),
  CREATE: fop(
    23,
    { pargfid: gfid, flags: x.u32, mode: x.u32, umask: x.u32, bname: name, xdata },
    reply({ xdata, stat: iattx, fd: x.u64n, preparent: iattx, postparent: iattx }),
    { opens: 'file' },
  ),
  FTRUNCATE: fop(24, { gfid, fd, offset: x.u64n, xdata }, twoIattRsp, fdAt),
  FSTAT: fop(25, { gfid, fd, xdata }, iattRsp, fdAt),
  /** cmd: 0 GETLK, 1 SETLK, 2 SETLKW, 3–5 RESLK_*, 6 GETLK_FD; the owner is the credential's. */
  LK: fop(26, { gfid, fd, cmd: x.u32, type: x.u32, flock, xdata }, reply({ xdata, flock }), fdAt),
  /** Named when bname is set (pargfid + bname), else nameless by gfid. prestat = inode, poststat = parent. */
  LOOKUP: fop(27, { gfid, pargfid: gfid, flags: x.u32, bname: name, xdata }, twoIattRsp),
  /** offset is the previous batch's last d_off cookie (0 to start). */
  READDIR: fop(
    28,
    { gfid, fd, offset: x.u64, size: x.u32, xdata },
    reply({ xdata, entries: direntList }),
    fdAt,
  ),
  INODELK: fop(29, { gfid, cmd: x.u32, type: x.u32, flock, volume: lockDomain, xdata }, commonRsp),
  FINODELK: fop(
    30,
    { gfid, fd, cmd: x.u32, type: x.u32, flock, volume: lockDomain, xdata },
    commonRsp,
    anonymousFdAt,
  ),
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
    fdAt,
  ),
  /** flags: 0 ADD_ARRAY, 1 ADD_ARRAY64, 2 OR, 3 AND, 4 GET_AND_SET, 5/6 ADD_*_WITH_DEFAULT. */
  XATTROP: fop(33, { gfid, flags: x.u32, dict: gfxDict, xdata }, dictRsp),
  FXATTROP: fop(34, { gfid, fd, flags: x.u32, dict: gfxDict, xdata }, dictRsp, anonymousFdAt),
  FGETXATTR: fop(35, { gfid, fd, namelen: x.u32, name: xattrName, xdata }, dictRsp, fdAt),
  FSETXATTR: fop(36, { gfid, fd, flags: x.u32, dict: gfxDict, xdata }, commonRsp, fdAt),
  RCHECKSUM: fop(
    37,
    { gfid, fd, offset: x.u64n, len: x.u32, flags: x.u32, xdata },
    reply({ xdata, flags: x.u32, weakChecksum: x.u32, strongChecksum: x.opaque(Limits.CHECKSUM) }),
    fdAt,
  ),
  /** valid: 0x1 MODE, 0x2 UID, 0x4 GID, 0x8 SIZE, 0x10 ATIME, 0x20 MTIME, 0x40 CTIME, 0x80/0x100 *_NOW. */
  SETATTR: fop(38, { gfid, stbuf: iattx, valid: x.i32, xdata }, twoIattRsp),
  FSETATTR: fop(39, { gfid, fd, stbuf: iattx, valid: x.i32, xdata }, twoIattRsp, fdAt),
  READDIRP: fop(
    40,
    { gfid, fd, offset: x.u64, size: x.u32, xdata },
    reply({ xdata, entries: direntPlusList }),
    fdAt,
  ),
  RELEASE: fop(41, { gfid, fd, xdata }, commonRsp, { ...fdAt, releases: true }),
  RELEASEDIR: fop(42, { gfid, fd, xdata }, commonRsp, { ...fdAt, releases: true }),
  FREMOVEXATTR: fop(43, { gfid, fd, name: xattrName, xdata }, commonRsp, fdAt),
  /** flags is the Linux fallocate mode (1 = KEEP_SIZE). */
  FALLOCATE: fop(44, { gfid, fd, flags: x.u32, offset: x.u64n, size: x.u64n, xdata }, twoIattRsp, fdAt),
  /** Punch a hole, keeping the size. */
  DISCARD: fop(45, { gfid, fd, offset: x.u64n, size: x.u64n, xdata }, twoIattRsp, fdAt),
  ZEROFILL: fop(46, { gfid, fd, offset: x.u64n, size: x.u64n, xdata }, twoIattRsp, fdAt),
  IPC: fop(47, { op: x.i32, xdata }, commonRsp),
  /** what: 0 SEEK_DATA, 1 SEEK_HOLE; ENXIO at or past EOF. */
  SEEK: fop(48, { gfid, fd, offset: x.u64n, what: x.i32, xdata }, reply({ xdata, offset: x.u64n }), fdAt),
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
    { fds: { fdIn: 'gfid1', fdOut: 'gfid2' }, anonymous: true },
  ),
} as const;

export type FopName = keyof typeof Fops;
export type FopArgs<N extends FopName> = Infer<(typeof Fops)[N]['args']>;
export type FopResults<N extends FopName> = Infer<(typeof Fops)[N]['results']>;

type Row<N extends FopName> = (typeof Fops)[N];

/** The request fields of N that carry an fd (`fd`, or COPY_FILE_RANGE's `fdIn`/`fdOut`). */
export type FdFieldOf<N extends FopName> = FdFieldsByFop[N];
type FdFieldsByFop = { [N in FopName]: Row<N> extends { fds: infer F } ? keyof F & string : never };

/** The fops whose reply carries a new fd: OPEN, CREATE, OPENDIR. */
export type OpeningFop = { [N in FopName]: Row<N> extends { opens: string } ? N : never }[FopName];

/** One row of the table seen through its name: codecs typed for N, fd use readable on any row. */
export interface FopDef<N extends FopName = FopName> extends FdUse {
  readonly proc: number;
  readonly args: Codec<FopArgs<N>>;
  readonly results: Codec<FopResults<N>>;
}

export function fopDef<N extends FopName>(name: N): FopDef<N> {
  return Fops[name] as FopDef<N>;
}

/** What every reply but NULL's starts with. */
export interface ReplyStatus {
  opRet: number;
  opErrno: number;
  xdata: GfxDict;
}

export function replyStatus<N extends FopName>(results: FopResults<N>): ReplyStatus {
  const r: FopResults<FopName> = results;
  return r ?? { opRet: 0, opErrno: 0, xdata: null };
}

/** Each fd field of `name`'s request with the gfid field of its inode, in declaration order. */
export function fdFields(name: FopName): readonly (readonly [fd: string, gfid: string])[] {
  return FD_FIELDS.get(name) ?? [];
}

const FD_FIELDS = new Map(
  (Object.keys(Fops) as FopName[]).map((n) => [n, Object.entries(fopDef(n).fds ?? {}) as [string, string][]]),
);

export const FOP_PROGRAM: ProgramDef = defineProgram('GlusterFS 4.x v1', Program.FOP, Fops);

export type { Payload };
