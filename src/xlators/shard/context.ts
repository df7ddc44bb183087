/**
 * What features/shard keeps between fops, and the calls every shard fop shares: the
 * per-file state (block size, the logical size and block count this client last knew,
 * a reader/writer gate), the gfids of shards already found, the hidden directories
 * `/.shard` and `/.shard/.remove_me` (fixed gfids, created on first need), and finding or
 * creating shard N of a file.
 *
 * Internal calls run as root (uid/gid 0), as stock's shard does: shards belong to the
 * volume, not to whoever writes the base file.
 */
import { gfuuidValue, intValue, ptrValue, uintValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import type { FopName } from '../../protocol/fops.js';
import { NULL_GFID, parseGfid, randomGfid, ROOT_GFID } from '../../protocol/gfid.js';
import type { Iatt } from '../../protocol/iatt.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { Layer } from '../../xlator/layer.js';
import type { FopContext, FopReply, FopRequest } from '../../xlator/translator.js';
import { shardName } from './geometry.js';
import {
  BLOCK_SIZE_XATTR,
  decodeBlockSize,
  decodeFileSize,
  encodeFileSize,
  FILE_SIZE_LENGTH,
  FILE_SIZE_XATTR,
  type FileSize,
} from './size-xattr.js';

/** `/.shard` and `/.shard/.remove_me` have the same gfids on every stock volume (common-utils.h). */
export const DOT_SHARD_GFID = parseGfid('be318638-e8a0-4c6d-977d-7a937aa84806');
export const REMOVE_ME_GFID = parseGfid('77dd5a45-dbf5-4592-b31b-b440382302e9');
export const DOT_SHARD = '.shard';
export const REMOVE_ME = '.remove_me';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;

/** Request xdata keys stock's shard uses on the wire. */
export const WRITE_UPDATE_ATOMIC = 'glusterfs.write-update-atomic';
export const GET_FILE_BLOCK_COUNT = 'gf_get_file_block_count';
export const INTERNAL_FOP = 'glusterfs-internal-fop';

export interface ShardOptions {
  /** Block size for files created through this client (existing files keep theirs). */
  blockSize: number;
  /** Shards unlinked in parallel by the background deletion. */
  deletionRate: number;
  /** Shard gfids remembered (stock's shard-lru-limit). */
  lruLimit: number;
}

/** Many readers/writers at once, or one truncate/unlink alone; FIFO so neither starves. */
export class Gate {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: { exclusive: boolean; go: () => void }[] = [];

  async run<T>(exclusive: boolean, body: () => Promise<T>): Promise<T> {
    if (this.exclusive || (exclusive && this.shared > 0) || this.waiting.length > 0)
      await new Promise<void>((go) => this.waiting.push({ exclusive, go }));
    else this.take(exclusive);
    try {
      return await body();
    } finally {
      if (exclusive) this.exclusive = false;
      else this.shared--;
      this.wake();
    }
  }

  get idle(): boolean {
    return !this.exclusive && this.shared === 0 && this.waiting.length === 0;
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.exclusive = true;
    else this.shared++;
  }

  private wake(): void {
    while (this.waiting.length > 0 && !this.exclusive) {
      const w = this.waiting[0]!;
      if (w.exclusive && this.shared > 0) return;
      this.waiting.shift();
      this.take(w.exclusive);
      w.go();
      if (w.exclusive) return;
    }
  }
}

/** What this client knows about one base file. */
export interface FileState {
  /** 0 when the file is not sharded. */
  blockSize: number;
  /** Size and blocks as last read from the brick or as this client changed them. */
  known?: FileSize;
  /** The base file's attributes as last seen (mode and rdev for new shards, stat replies). */
  iatt?: Iatt;
  /** Fops changing the file in flight: while any runs, `known` is this client's own count. */
  changing: number;
  gate: Gate;
  /** Shards written since the last FSYNC through this client (fsync reaches them too). */
  dirty: Set<number>;
  /** A change failed midway: `known` may differ from the brick; re-read when idle. */
  stale?: boolean;
}

/** A small LRU map: the oldest entry goes when full. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.limit) this.map.delete(this.map.keys().next().value!);
  }
  delete(k: string): void {
    this.map.delete(k);
  }
}

export function isAbsent(err: unknown): boolean {
  return err instanceof FopError && (err.errno === Errno.ENOENT || err.errno === Errno.ESTALE);
}

export function isRegular(iatt: Iatt): boolean {
  return (iatt.mode & S_IFMT) === S_IFREG;
}

/** A stat with the logical size and block count of the file put in. */
export function withFileSize(iatt: Iatt, fs: FileSize): Iatt {
  return { ...iatt, size: fs.size, blocks: fs.blocks };
}

/** Request xdata plus the keys that make the brick return the shard xattrs. */
export function askShardXattrs(xdata: GfxDict, blockSize = true): Dict {
  const d: Dict = new Map(xdata ?? []);
  if (blockSize) d.set(BLOCK_SIZE_XATTR, uintValue(0));
  d.set(FILE_SIZE_XATTR, uintValue(FILE_SIZE_LENGTH));
  return d;
}

/** The block size and file size a reply's dict carries (undefined: not sharded). */
export function shardXattrsOf(d: GfxDict): { blockSize?: number; fileSize?: FileSize } {
  const bs = d?.get(BLOCK_SIZE_XATTR);
  const fs = d?.get(FILE_SIZE_XATTR);
  return {
    blockSize: bs && Buffer.isBuffer(bs.value) ? decodeBlockSize(bs.value) : undefined,
    fileSize: fs && Buffer.isBuffer(fs.value) ? decodeFileSize(fs.value) : undefined,
  };
}

/** The reply dict without the shard xattrs (users never see them). */
export function hideShardXattrs(d: GfxDict): GfxDict {
  if (!d || (!d.has(BLOCK_SIZE_XATTR) && !d.has(FILE_SIZE_XATTR))) return d;
  const out: Dict = new Map(d);
  out.delete(BLOCK_SIZE_XATTR);
  out.delete(FILE_SIZE_XATTR);
  return out;
}

const hex = (gfid: Uint8Array) => Buffer.from(gfid).toString('hex');

export class Shard {
  private readonly files: Lru<FileState>;
  private readonly shardGfids: Lru<Buffer>;
  private readonly resolving = new Map<string, Promise<Buffer | undefined>>();
  private dirs = new Map<string, Promise<void>>();

  constructor(
    /** The xlator name: also the lock domain of unlink and background deletion. */
    readonly name: string,
    readonly child: Layer,
    readonly options: ShardOptions,
  ) {
    this.files = new Lru(options.lruLimit);
    this.shardGfids = new Lru(options.lruLimit);
  }

  call<N extends FopName>(fop: N, req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> {
    return this.child.call(fop, req, ctx);
  }

  /** The context internal calls run with: the caller's session and signal, as root. */
  asRoot(ctx: FopContext): FopContext {
    return { ...ctx, caller: { ...ctx.caller, uid: 0, gid: 0, groups: [] } };
  }

  // ---- per-file state ---------------------------------------------------------------

  state(gfid: Uint8Array): FileState | undefined {
    return this.files.get(hex(gfid));
  }

  /**
   * Records what a reply said about a file: its block size (sharded or not), its
   * attributes and, unless this client is changing it right now, its size.
   */
  learn(iatt: Iatt, dict: GfxDict): FileState | undefined {
    if (!isRegular(iatt)) return undefined;
    const key = hex(iatt.gfid);
    const { blockSize, fileSize } = shardXattrsOf(dict);
    let st = this.files.get(key);
    if (!st) {
      // Every request of this translator asks for the block size, so a reply dict
      // without it means "not sharded"; no dict at all means nothing.
      if (dict === null) return undefined;
      st = { blockSize: blockSize ?? 0, changing: 0, gate: new Gate(), dirty: new Set() };
      this.files.set(key, st);
    } else if (blockSize !== undefined) st.blockSize = blockSize;
    st.iatt = iatt;
    if (fileSize && st.changing === 0) st.known = fileSize;
    return st;
  }

  /** The file's state, asking the brick (FSTAT on the fd, else STAT) when unknown. */
  async fileState(gfid: Buffer, fd: OpenFd | undefined, ctx: FopContext): Promise<FileState> {
    const st = this.state(gfid);
    if (st && (st.blockSize === 0 || st.known) && !(st.stale && st.changing === 0)) return st;
    if (st?.stale) this.forgetFile(gfid);
    const xdata = askShardXattrs(null);
    const r =
      fd && !fd.isDirectory
        ? await this.call('FSTAT', { gfid, fd, xdata }, ctx)
        : await this.call('STAT', { gfid, xdata }, ctx);
    const learned = this.learn(r.stat, r.xdata);
    if (!learned) throw FopError.of('EINVAL', 'not a regular file');
    if (learned.blockSize && !learned.known) learned.known = { size: 0, blocks: 0 };
    return learned;
  }

  /** The state of a sharded file, or undefined when the file is not sharded. */
  async sharded(gfid: Buffer, fd: OpenFd | undefined, ctx: FopContext): Promise<FileState | undefined> {
    const st = await this.fileState(gfid, fd, ctx);
    return st.blockSize > 0 ? st : undefined;
  }

  forgetFile(gfid: Uint8Array): void {
    this.files.delete(hex(gfid));
  }

  // ---- the hidden directories --------------------------------------------------------

  /** Makes sure `/.shard` (or `.remove_me` in it) exists; once per graph unless it vanishes. */
  ensureDir(which: 'shard' | 'remove_me', ctx: FopContext): Promise<void> {
    let p = this.dirs.get(which);
    if (!p) {
      p = (
        which === 'shard'
          ? this.makeDir(ROOT_GFID, DOT_SHARD, DOT_SHARD_GFID, ctx)
          : this.ensureDir('shard', ctx).then(() =>
              this.makeDir(DOT_SHARD_GFID, REMOVE_ME, REMOVE_ME_GFID, ctx),
            )
      ).catch((err: unknown) => {
        this.dirs.delete(which);
        throw err;
      });
      this.dirs.set(which, p);
    }
    return p;
  }

  /** Throws ENOENT unless `/.shard` (or `.remove_me` in it) exists; creates nothing. */
  async ensureDirExists(which: 'shard' | 'remove_me', ctx: FopContext): Promise<void> {
    const root = this.asRoot(ctx);
    const look = (pargfid: Buffer, bname: string) =>
      this.call('LOOKUP', { gfid: NULL_GFID, pargfid, flags: 0, bname, xdata: null }, root);
    await look(ROOT_GFID, DOT_SHARD);
    if (which === 'remove_me') await look(DOT_SHARD_GFID, REMOVE_ME);
  }

  // ---- background deletion (remove.ts) ---------------------------------------------

  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private sweptOnce = false;
  private closed = false;

  /**
   * Deletes the shards of files marked for removal, in the background: on the first
   * LOOKUP through this graph, and after each removal (`now`). One sweep at a time; a
   * request during a sweep runs another after it.
   */
  startBackgroundDeletion(ctx: FopContext, now = false): void {
    if (this.closed || (!now && this.sweptOnce)) return;
    this.sweptOnce = true;
    if (this.sweeping) {
      this.sweepAgain = true;
      return;
    }
    const quiet: FopContext = { caller: ctx.caller, session: ctx.session };
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        try {
          await this.sweep(quiet);
        } catch {
          // Left for the next sweep (the next removal or the next client start).
        }
      } while (this.sweepAgain && !this.closed);
    })().finally(() => (this.sweeping = undefined));
  }

  /** Set by index.ts: deleteMarked of remove.ts (kept there with the protocol it finishes). */
  sweep: (ctx: FopContext) => Promise<unknown> = async () => undefined;

  /** Resolves when no background deletion runs (tests wait on it; fini too). */
  async idle(): Promise<void> {
    while (this.sweeping) await this.sweeping;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  /** Forgets that the hidden directories exist (an internal call found one missing). */
  dirsGone(): void {
    this.dirs = new Map();
  }

  private async makeDir(parent: Buffer, bname: string, gfid: Buffer, ctx: FopContext): Promise<void> {
    const root = this.asRoot(ctx);
    try {
      await this.call(
        'LOOKUP',
        {
          gfid: NULL_GFID,
          pargfid: parent,
          flags: 0,
          bname,
          xdata: new Map([['gfid-req', gfuuidValue(gfid)]]),
        },
        root,
      );
      return;
    } catch (err) {
      if (!isAbsent(err)) throw err;
    }
    const xdata: Dict = new Map([
      ['gfid-req', gfuuidValue(gfid)],
      [INTERNAL_FOP, intValue(1)],
    ]);
    try {
      await this.call('MKDIR', { pargfid: parent, mode: 0o755, umask: 0, bname, xdata }, root);
    } catch (err) {
      // Another client made it first: fine.
      if (!(err instanceof FopError && err.errno === Errno.EEXIST)) throw err;
    }
  }

  // ---- shards -----------------------------------------------------------------------

  /**
   * The gfid of shard `block` ≥ 1 of the base file, or undefined when it does not exist
   * and `create` is false. With `create`, a missing shard is made with MKNOD (the base
   * file's mode, a fresh gfid); losing a creation race to another client is fine.
   */
  async shardGfid(
    base: Buffer,
    block: number,
    ctx: FopContext,
    create: false | { mode: number; rdev: number },
  ): Promise<Buffer | undefined> {
    const key = `${hex(base)}.${block}`;
    const cached = this.shardGfids.get(key);
    if (cached) return cached;
    const pending = this.resolving.get(key);
    if (pending) {
      const g = await pending;
      if (g || !create) return g;
    }
    const p = this.resolve(base, block, ctx, create).finally(() => this.resolving.delete(key));
    this.resolving.set(key, p);
    const gfid = await p;
    if (gfid) this.shardGfids.set(key, gfid);
    return gfid;
  }

  /** Forgets a shard's gfid (it was unlinked, or found stale). */
  forgetShard(base: Uint8Array, block: number): void {
    this.shardGfids.delete(`${hex(base)}.${block}`);
  }

  private async resolve(
    base: Buffer,
    block: number,
    ctx: FopContext,
    create: false | { mode: number; rdev: number },
  ): Promise<Buffer | undefined> {
    const root = this.asRoot(ctx);
    const bname = shardName(base, block);
    const lookup = async (): Promise<Buffer | undefined> => {
      try {
        const r = await this.call(
          'LOOKUP',
          {
            gfid: NULL_GFID,
            pargfid: DOT_SHARD_GFID,
            flags: 0,
            bname,
            xdata: new Map([['gfid-req', gfuuidValue(randomGfid())]]),
          },
          root,
        );
        return r.prestat.gfid;
      } catch (err) {
        if (isAbsent(err)) return undefined;
        throw err;
      }
    };
    const found = await lookup();
    if (found || !create) return found;
    await this.ensureDir('shard', ctx);
    try {
      const r = await this.call(
        'MKNOD',
        {
          pargfid: DOT_SHARD_GFID,
          bname,
          mode: S_IFREG | (create.mode & 0o7777),
          dev: BigInt(create.rdev),
          umask: 0,
          xdata: new Map([['gfid-req', gfuuidValue(randomGfid())]]),
        },
        root,
      );
      return r.stat.gfid;
    } catch (err) {
      if (err instanceof FopError && err.errno === Errno.EEXIST) {
        const winner = await lookup();
        if (winner) return winner;
      }
      if (isAbsent(err)) this.dirsGone();
      throw err;
    }
  }

  /** XATTROP/FXATTROP ADD_ARRAY64 of a [Δsize, 0, Δblocks, 0] delta on the base file. */
  async addToFileSize(
    base: Buffer,
    fd: OpenFd | undefined,
    delta: FileSize,
    ctx: FopContext,
  ): Promise<FileSize | undefined> {
    if (delta.size === 0 && delta.blocks === 0) return undefined;
    const dict: Dict = new Map([[FILE_SIZE_XATTR, ptrValue(encodeFileSize(delta))]]);
    const r =
      fd && !fd.anonymous
        ? await this.call('FXATTROP', { gfid: base, fd, flags: 1, dict, xdata: null }, this.asRoot(ctx))
        : await this.call('XATTROP', { gfid: base, flags: 1, dict, xdata: null }, this.asRoot(ctx));
    return shardXattrsOf(r.dict).fileSize;
  }
}
