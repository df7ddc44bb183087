/**
 * The fops heal sends to single bricks of a replica set, each as one small call: lookups that
 * bring back the changelog, heal locks in a named domain, opens, reads, writes, checksums and
 * listings. Heal speaks to bricks one by one (never through replicate's transactions), as root
 * with its own lock owner, so every call here goes through `Replica.fanOut`/`callChild`.
 */
import {
  DictType,
  gfuuidValue,
  intValue,
  ptrValue,
  strValue,
  type Dict,
  type DictValue,
  type GfxDict,
} from '../protocol/dict.js';
import { Errno, FopError } from '../protocol/errno.js';
import { NULL_GFID } from '../protocol/gfid.js';
import type { Iatt } from '../protocol/iatt.js';
import type { Dirent } from '../protocol/structs.js';
import type { Success } from '../xlator/fanout.js';
import { OpenFd } from '../xlator/fd.js';
import type { FopName } from '../protocol/fops.js';
import {
  decodeReadCounts,
  encodeIoRanges,
  READ_VECTOR_KEY,
  vectorValue,
  WRITE_VECTOR_KEY,
  type IoRange,
} from '../protocol/vector-io.js';
import type { FopContext, FopReply, FopRequest } from '../xlator/translator.js';
import {
  CHANGELOG_PREFIX,
  encodeCounters,
  Replica,
  type BrickChangelog,
  type Counters,
} from '../xlators/replicate/index.js';
import type { ChildResult } from '../xlators/replicate/replica.js';
import { INODELK_COUNT, INODELK_DOM_COUNT } from '../xlators/locks/xdata.js';
import { flagged, lock, unlock, type LockTarget } from '../xlators/replicate/transaction.js';

const ADD_ARRAY = 0;
const O_RDWR = 2;
/** Metadata locks start at LLONG_MAX − 1, as stock's. */
export const METADATA_LOCK_START = 0x7ffffffffffffffen;
/** Stock's xdata marking a fop the heal itself sends (bricks skip quota and the like). */
export const INTERNAL_FOP = 'glusterfs-internal-fop';
export const PURGE_INDEX = 'glusterfs.xattrop-purge-index';

/** One brick's view of an inode under the heal locks. */
export interface BrickState {
  ok: boolean;
  errno?: number;
  stat?: Iatt;
  changelog?: BrickChangelog;
  /** Every on-disk xattr the brick listed (LOOKUP list-xattr), AFR's keys included. */
  xattrs?: Dict;
  /** Inodelks granted or waiting in the set's AFR domain, when the inspection asked. */
  afrLocks?: number;
}

export type LockKind =
  { kind: 'inode'; gfid: Buffer; start: bigint; len: bigint } | { kind: 'entry'; gfid: Buffer; name: string };

/** Replicate's lock target for a heal lock. */
function asTarget(t: LockKind): LockTarget {
  return t.kind === 'inode' ? t : { kind: 'entry', parent: t.gfid, name: t.name };
}

/** A lock count from reply xdata (absent: 0). */
const intOf = (v: DictValue | undefined): number =>
  v && (v.type === DictType.INT || v.type === DictType.UINT) ? Number(v.value) : 0;

export const ok = <T>(r: ChildResult<T>): r is Success<T> => r.ok;

export class HealIo {
  readonly ctx: FopContext;

  constructor(
    readonly r: Replica,
    ctx: FopContext,
  ) {
    this.ctx = { ...ctx, caller: { ...ctx.caller, uid: 0, gid: 0, groups: [], lkOwner: Replica.newOwner() } };
  }

  /**
   * The same bricks, session and fds under a lock owner of its own. Concurrent batches of a
   * data heal each lock as a different owner: features/locks lets an owner that already holds
   * a lock in the domain pass a waiting writer (so nested locks cannot deadlock), and one owner
   * for all would keep a guest's whole-file lock waiting for the entire heal.
   */
  withNewOwner(): HealIo {
    return new HealIo(this.r, this.ctx);
  }

  get n(): number {
    return this.r.n;
  }

  all(): number[] {
    return this.r.cfg.children.map((_, i) => i);
  }

  // ---- inspection ----------------------------------------------------------------------

  /**
   * Nameless LOOKUP by gfid on `which`, with the changelog and every xattr in the reply; with
   * `afrLocks`, also how many inodelks the set's AFR domain holds on it (a transaction in flight).
   */
  async inspect(
    gfid: Buffer,
    which: readonly number[] = this.all(),
    opts: { afrLocks?: boolean } = {},
  ): Promise<BrickState[]> {
    const xdata = this.r.changelogRequest(null);
    xdata.set('list-xattr', intValue(1));
    if (opts.afrLocks) xdata.set(INODELK_DOM_COUNT, strValue(this.r.domain));
    const res = await this.r.fanOut(
      which,
      'LOOKUP',
      { gfid, pargfid: NULL_GFID, flags: 0, bname: '', xdata },
      this.ctx,
    );
    const out: BrickState[] = this.all().map(() => ({ ok: false, errno: Errno.ENOTCONN }));
    for (const x of res)
      out[x.target] = x.ok
        ? {
            ok: true,
            stat: x.value.prestat,
            changelog: this.r.changelogOf(x.value.xdata),
            xattrs: x.value.xdata ?? new Map(),
            ...(opts.afrLocks ? { afrLocks: intOf(x.value.xdata?.get(INODELK_COUNT)) } : {}),
          }
        : { ok: false, errno: x.error.errno };
    return out;
  }

  /** Named LOOKUP of `name` in directory `parent` on brick i; undefined when it is absent. */
  async lookupName(i: number, parent: Buffer, name: string): Promise<Iatt | undefined> {
    const x = await this.r.callChild(
      i,
      'LOOKUP',
      { gfid: NULL_GFID, pargfid: parent, flags: 0, bname: name, xdata: null },
      this.ctx,
    );
    if (x.ok) return x.value.prestat;
    if (x.error.errno === Errno.ENOENT || x.error.errno === Errno.ESTALE) return undefined;
    throw x.error;
  }

  // ---- locks ---------------------------------------------------------------------------

  /**
   * Takes a lock in `domain` on `which` with stock's protocol (replicate's `lock`: non-blocking
   * everywhere, then blocking one brick at a time in child order). Returns who granted it.
   */
  lock(domain: string, target: LockKind, which: readonly number[]): Promise<boolean[]> {
    return lock(this.r, asTarget(target), this.ctx, domain, which);
  }

  unlock(domain: string, target: LockKind, which: readonly number[]): Promise<void> {
    return unlock(this.r, which, asTarget(target), this.ctx, domain);
  }

  /** Runs `body` holding `target` in `domain` on `which`; always unlocks. */
  async withLock<T>(
    domain: string,
    target: LockKind,
    which: readonly number[],
    body: (granted: boolean[]) => Promise<T>,
  ): Promise<T> {
    const granted = await this.lock(domain, target, which);
    try {
      return await body(granted);
    } finally {
      await this.unlock(domain, target, flagged(granted));
    }
  }

  /** Brick i's reply to one fop, or its error thrown. */
  private async reply<N extends FopName>(
    i: number,
    fop: N,
    req: FopRequest<N>,
    ctx: FopContext = this.ctx,
  ): Promise<FopReply<N>> {
    const x = await this.r.callChild(i, fop, req, ctx);
    if (!x.ok) throw x.error;
    return x.value;
  }

  // ---- changelog -----------------------------------------------------------------------

  /** XATTROP ADD_ARRAY on brick i: dirty += dirtyDelta, pending[j] += pendingDelta[j]. */
  async xattrop(
    i: number,
    gfid: Buffer,
    dirtyDelta: Counters,
    pendingDelta: readonly Counters[],
    xdata: GfxDict = null,
  ): Promise<void> {
    const dict: Dict = new Map([[this.r.cfg.dirtyKey, ptrValue(encodeCounters(dirtyDelta))]]);
    this.r.cfg.pendingKeys.forEach((key, j) => dict.set(key, ptrValue(encodeCounters(pendingDelta[j]!))));
    await this.reply(i, 'XATTROP', { gfid, flags: ADD_ARRAY, dict, xdata });
  }

  // ---- data ----------------------------------------------------------------------------

  async open(i: number, gfid: Buffer): Promise<OpenFd> {
    const fd = new OpenFd(gfid, O_RDWR, false);
    await this.reply(i, 'OPEN', { gfid, flags: O_RDWR, fd, xdata: null });
    return fd;
  }

  async release(i: number, fd: OpenFd): Promise<void> {
    await this.r.callChild(
      i,
      fd.isDirectory ? 'RELEASEDIR' : 'RELEASE',
      { gfid: fd.gfid, fd, xdata: null },
      this.ctx,
    );
  }

  async read(i: number, fd: OpenFd, offset: bigint, size: number): Promise<Buffer> {
    const { payload: p } = await this.reply(i, 'READ', {
      gfid: fd.gfid,
      fd,
      offset: Number(offset),
      size,
      flag: 0,
      xdata: null,
    });
    return Buffer.isBuffer(p) ? p : Buffer.concat(p as readonly Buffer[]);
  }

  async write(i: number, fd: OpenFd, offset: bigint, data: Buffer): Promise<void> {
    await this.reply(i, 'WRITE', {
      gfid: fd.gfid,
      fd,
      offset: Number(offset),
      size: data.length,
      flag: 0,
      xdata: new Map([[INTERNAL_FOP, intValue(1)]]),
      payload: data,
    });
  }

  /**
   * The bytes of several ranges of brick i's file (short at EOF), in one vectored READ where
   * the brick serves them (src/protocol/vector-io.ts); `vectored` false: it does not, and the
   * ranges were read one by one.
   */
  async readRanges(
    i: number,
    fd: OpenFd,
    ranges: readonly IoRange[],
  ): Promise<{ data: Buffer[]; vectored: boolean }> {
    const first = ranges[0]!;
    const reply = await this.reply(i, 'READ', {
      gfid: fd.gfid,
      fd,
      offset: first.offset,
      size: first.length,
      flag: 0,
      xdata: new Map([[READ_VECTOR_KEY, ptrValue(encodeIoRanges(ranges))]]),
    });
    const payload = Buffer.isBuffer(reply.payload)
      ? reply.payload
      : Buffer.concat(reply.payload as readonly Buffer[]);
    const counts = vectorValue(reply.xdata, READ_VECTOR_KEY);
    if (!counts) {
      // Not served: the reply is a plain READ of the first range.
      const rest = await Promise.all(
        ranges.slice(1).map((r) => this.read(i, fd, BigInt(r.offset), r.length)),
      );
      return { data: [payload, ...rest], vectored: false };
    }
    const lengths = decodeReadCounts(counts, ranges.length);
    if (!lengths || lengths.reduce((a, b) => a + b, 0) !== payload.length)
      throw new FopError(Errno.EIO, `${READ_VECTOR_KEY}: a reply that does not add up`);
    let at = 0;
    return { data: lengths.map((n) => payload.subarray(at, (at += n))), vectored: true };
  }

  /** Whether brick i serves vectored READ and WRITE (a READ of no ranges says). */
  async servesVectors(i: number, fd: OpenFd): Promise<boolean> {
    const reply = await this.reply(i, 'READ', {
      gfid: fd.gfid,
      fd,
      offset: 0,
      size: 0,
      flag: 0,
      xdata: new Map([[READ_VECTOR_KEY, ptrValue(encodeIoRanges([]))]]),
    });
    return vectorValue(reply.xdata, READ_VECTOR_KEY) !== undefined;
  }

  /** Writes several ranges in one vectored WRITE: only to a brick that `servesVectors`. */
  async writeRanges(
    i: number,
    fd: OpenFd,
    pieces: readonly { offset: number; data: Buffer }[],
  ): Promise<void> {
    const size = pieces.reduce((n, p) => n + p.data.length, 0);
    const ranges = pieces.map((p) => ({ offset: p.offset, length: p.data.length }));
    await this.reply(i, 'WRITE', {
      gfid: fd.gfid,
      fd,
      offset: pieces[0]!.offset,
      size,
      flag: 0,
      xdata: new Map([
        [INTERNAL_FOP, intValue(1)],
        [WRITE_VECTOR_KEY, ptrValue(encodeIoRanges(ranges))],
      ]),
      payload: pieces.map((p) => p.data),
    });
  }

  /** FSYNC (data and metadata) of brick i's file. */
  async fsync(i: number, fd: OpenFd): Promise<void> {
    await this.reply(i, 'FSYNC', { gfid: fd.gfid, fd, data: 0, xdata: null });
  }

  async truncate(i: number, fd: OpenFd, size: bigint): Promise<void> {
    await this.reply(i, 'FTRUNCATE', {
      gfid: fd.gfid,
      fd,
      offset: Number(size),
      xdata: new Map([[INTERNAL_FOP, intValue(1)]]),
    });
  }

  async fstat(i: number, fd: OpenFd): Promise<Iatt> {
    return (await this.reply(i, 'FSTAT', { gfid: fd.gfid, fd, xdata: null })).stat;
  }

  /** RCHECKSUM of [offset, offset+len): weak and strong sums joined, and whether all zeros. */
  async checksum(i: number, fd: OpenFd, offset: bigint, len: number): Promise<string> {
    const x = await this.reply(i, 'RCHECKSUM', {
      gfid: fd.gfid,
      fd,
      offset: Number(offset),
      len,
      flags: 0,
      xdata: new Map([['check-zero-filled', intValue(1)]]),
    });
    return `${x.weakChecksum}:${Buffer.from(x.strongChecksum).toString('hex')}`;
  }

  /** A virtual or real xattr of an inode on brick i (PTR/STR bytes); undefined on ENODATA. */
  async getxattr(i: number, gfid: Buffer, name: string): Promise<Buffer | undefined> {
    const x = await this.r.callChild(i, 'GETXATTR', { gfid, namelen: 1, name, xdata: null }, this.ctx);
    if (!x.ok) {
      if (x.error.errno === Errno.ENODATA || x.error.errno === Errno.EOPNOTSUPP) return undefined;
      throw x.error;
    }
    const v = x.value.dict?.get(name);
    if (!v) return undefined;
    if (v.type === DictType.PTR || v.type === DictType.STR || v.type === DictType.STR_OLD)
      return Buffer.from(v.value as Buffer);
    return Buffer.from(String(v.value));
  }

  /** All of an inode's xattrs on brick i (GETXATTR without a name). */
  async listXattrs(i: number, gfid: Buffer): Promise<Dict> {
    const x = await this.reply(i, 'GETXATTR', { gfid, namelen: 0, name: '', xdata: null });
    return x.dict ?? new Map();
  }

  // ---- directories ---------------------------------------------------------------------

  /** Every entry of directory `gfid` on brick i (`.` and `..` left out). */
  async list(i: number, gfid: Buffer, xdata: GfxDict = null): Promise<Dirent[]> {
    const fd = new OpenFd(gfid, 0, true);
    await this.reply(i, 'OPENDIR', { gfid, fd, xdata });
    const out: Dirent[] = [];
    try {
      let offset = 0n;
      for (;;) {
        const x = await this.reply(i, 'READDIR', { gfid, fd, offset, size: 65536, xdata });
        for (const e of x.entries) if (e.name !== '.' && e.name !== '..') out.push(e);
        if (!x.entries.length || x.opErrno === Errno.ENOENT) break;
        offset = x.entries[x.entries.length - 1]!.off;
      }
    } finally {
      await this.release(i, fd);
    }
    return out;
  }

  /**
   * Creates `name` on brick i as the source's inode `src`: its gfid, type, mode and owner
   * (created as its uid/gid, as stock's shd does), a symlink's target.
   */
  async createLike(i: number, parent: Buffer, name: string, src: Iatt, linkTarget?: string): Promise<void> {
    const xdata: Dict = new Map([
      ['gfid-req', gfuuidValue(src.gfid)],
      [INTERNAL_FOP, intValue(1)],
    ]);
    const ctx = { ...this.ctx, caller: { ...this.ctx.caller, uid: src.uid, gid: src.gid } };
    const type = src.mode & 0o170000;
    const perm = src.mode & 0o7777;
    let x: ChildResult<unknown>;
    if (type === 0o040000)
      x = await this.r.callChild(
        i,
        'MKDIR',
        { pargfid: parent, mode: perm, umask: 0, bname: name, xdata },
        ctx,
      );
    else if (type === 0o120000)
      x = await this.r.callChild(
        i,
        'SYMLINK',
        { pargfid: parent, bname: name, umask: 0, linkname: linkTarget ?? '', xdata },
        ctx,
      );
    else
      x = await this.r.callChild(
        i,
        'MKNOD',
        { pargfid: parent, dev: BigInt(src.rdev), mode: src.mode, umask: 0, bname: name, xdata },
        ctx,
      );
    if (!x.ok && x.error.errno !== Errno.EEXIST) throw x.error;
  }

  /** SETATTR of atime and mtime on brick i to those of `src` (a source's stat). */
  async setTimes(i: number, gfid: Buffer, src: Iatt): Promise<void> {
    const valid = 0x10 | 0x20; // GF_SET_ATTR_ATIME | GF_SET_ATTR_MTIME
    await this.reply(i, 'SETATTR', { gfid, stbuf: src, valid, xdata: null });
  }

  /** A hard link `name` in `parent` on brick i to the inode `gfid` it already holds. */
  async link(i: number, gfid: Buffer, parent: Buffer, name: string): Promise<void> {
    const xdata: Dict = new Map([[INTERNAL_FOP, intValue(1)]]);
    const x = await this.r.callChild(
      i,
      'LINK',
      { oldgfid: gfid, newgfid: parent, newbname: name, xdata },
      this.ctx,
    );
    if (!x.ok && x.error.errno !== Errno.EEXIST) throw x.error;
  }

  async readlink(i: number, gfid: Buffer): Promise<string> {
    return (await this.reply(i, 'READLINK', { gfid, size: 4096, xdata: null })).path;
  }

  /** Removes `name` from `parent` on brick i; a directory with everything under it. */
  async removeTree(i: number, parent: Buffer, name: string, stat: Iatt): Promise<void> {
    const xdata: Dict = new Map([[INTERNAL_FOP, intValue(1)]]);
    if ((stat.mode & 0o170000) === 0o040000) {
      for (const e of await this.list(i, stat.gfid)) {
        const child = await this.lookupName(i, stat.gfid, e.name);
        if (child) await this.removeTree(i, stat.gfid, e.name, child);
      }
      const x = await this.r.callChild(
        i,
        'RMDIR',
        { pargfid: parent, xflags: 0, bname: name, xdata },
        this.ctx,
      );
      if (!x.ok && x.error.errno !== Errno.ENOENT) throw x.error;
      return;
    }
    const x = await this.r.callChild(
      i,
      'UNLINK',
      { pargfid: parent, bname: name, xflags: 0, xdata },
      this.ctx,
    );
    if (!x.ok && x.error.errno !== Errno.ENOENT) throw x.error;
  }
}

export { flagged };

/** AFR's own xattrs, which metadata heal never copies. */
export const isAfrKey = (key: string): boolean => key.startsWith(CHANGELOG_PREFIX);

export function notAllAnswered(states: readonly BrickState[], what: string): FopError {
  const missing = states.flatMap((s, i) => (s.ok ? [] : [`brick ${i}: errno ${s.errno}`]));
  return new FopError(Errno.ENOTCONN, `${what}: not every brick answered (${missing.join(', ')})`);
}
