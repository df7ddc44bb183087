/**
 * Data fops on a sharded file. Each request is cut at shard boundaries (geometry.ts);
 * block 0 goes to the base file through the caller's fd, block N to `/.shard/<gfid>.N`
 * through the anonymous fd, with offsets relative to the shard, at most 8 pieces in
 * flight. Then the base file's file-size xattr gets the change as one ADD_ARRAY64 delta
 * [Δsize, 0, Δblocks, 0]; Δblocks comes from each piece's pre/post stat, which the brick
 * takes atomically with the write (`glusterfs.write-update-atomic`), as stock does.
 *
 * - READ: clipped at the logical size; a missing shard, or a short one, reads as zeros
 *   (stock creates empty shards on read; this client does not: same bytes, fewer files).
 * - WRITE, ZEROFILL, FALLOCATE (mode 0 or ZERO_RANGE): create missing shards; the size
 *   grows to the end of the range when it was past the end (stock's rule).
 * - DISCARD, FALLOCATE PUNCH_HOLE|KEEP_SIZE: missing shards are already holes and are
 *   skipped; the size never changes (Linux's punch-hole rule; stock's formula would grow
 *   it for a range past the end, which QEMU never sends).
 * - FSYNC: the base file and every shard this client wrote since the last FSYNC.
 * - SEEK: ENOTSUP, for every file, as stock's shard answers (shard_seek); QEMU's gluster
 *   driver then treats the whole image as data. Only a request carrying
 *   SEEK_ACROSS_SHARDS (glusterts's NBD export) gets extents computed shard by shard.
 */
import { uintValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import type { Payload } from '../../protocol/procedure.js';
import { payloadChunks, payloadLength } from '../../protocol/procedure.js';
import type { Iatt } from '../../protocol/iatt.js';
import { fanout } from '../../xlator/fanout.js';
import { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopTable } from '../../xlator/translator.js';
import { isAbsent, withFileSize, WRITE_UPDATE_ATOMIC, type FileState, type Shard } from './context.js';
import { blockOf, lastBlock, pieces, type Piece } from './geometry.js';

/**
 * Request xdata key (INT 1) asking SEEK for real extents across shards. Without it SEEK
 * answers ENOTSUP, as stock's shard does for every caller; glusterts's NBD export sets it
 * so `base:allocation` reports a sharded image's holes.
 */
export const SEEK_ACROSS_SHARDS = 'glusterts.shard.seek-extents';

/** GF_O_* values (Linux x86). */
const O_RDWR = 0o2;
const O_APPEND = 0o2000;
const O_DIRECT = 0o40000;
const O_LARGEFILE = 0o100000;

/** Linux fallocate modes stock's shard accepts (shard_fallocate). */
const KEEP_SIZE = 0x1;
const PUNCH_HOLE = 0x2;
const ZERO_RANGE = 0x10;

/** Pieces of one request in flight at once. */
const PIECES_IN_FLIGHT = 8;

type RangeFop = 'DISCARD' | 'ZEROFILL' | 'FALLOCATE';
type RangeReq = { gfid: Buffer; fd: OpenFd; offset: number; size: number; flags?: number; xdata: GfxDict };

interface PieceResult {
  written: number;
  blocks: number;
  stat?: Iatt;
}

/** The bytes [at, at + length) of a payload, as buffers (views, no copy). */
export function slicePayload(payload: Payload, at: number, length: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  for (const c of payloadChunks(payload)) {
    const start = Math.max(at, pos);
    const end = Math.min(at + length, pos + c.length);
    if (start < end) out.push(c.subarray(start - pos, end - pos));
    pos += c.length;
    if (pos >= at + length) break;
  }
  return out;
}

function atomicXdata(xdata: GfxDict): Dict {
  const d: Dict = new Map(xdata ?? []);
  d.set(WRITE_UPDATE_ATOMIC, uintValue(4));
  return d;
}

export function ioOps(shard: Shard): FopTable {
  /** Runs a change of the file's size or blocks, keeping `known` this client's own. */
  async function changing<T>(st: FileState, body: () => Promise<T>): Promise<T> {
    st.changing++;
    try {
      return await body();
    } catch (err) {
      st.stale = true; // the brick may now differ from `known`: read it again when idle
      throw err;
    } finally {
      st.changing--;
    }
  }

  /** The stat a reply carries for the base file, with the logical size. */
  function baseStat(st: FileState, fallback: Iatt | undefined): Iatt {
    const iatt = st.iatt ?? fallback;
    if (!iatt) throw FopError.of('EIO', 'no attributes known for the base file');
    return withFileSize(iatt, st.known!);
  }

  /**
   * Runs `body` on the shard's gfid (creating it when `create`), once more with a fresh
   * lookup if the remembered gfid is gone (another client deleted and re-made it).
   * Resolves undefined when the shard does not exist and `create` is false.
   */
  async function onShard<T>(
    base: Buffer,
    block: number,
    st: FileState,
    ctx: FopContext,
    create: boolean,
    body: (gfid: Buffer) => Promise<T>,
  ): Promise<T | undefined> {
    const how = create ? { mode: st.iatt?.mode ?? 0o644, rdev: st.iatt?.rdev ?? 0 } : (false as const);
    for (let attempt = 0; ; attempt++) {
      const gfid = await shard.shardGfid(base, block, ctx, how);
      if (!gfid) return undefined;
      try {
        return await body(gfid);
      } catch (err) {
        if (!isAbsent(err) || attempt > 0) throw err;
        shard.forgetShard(base, block);
      }
    }
  }

  async function readPieces(
    base: Buffer,
    st: FileState,
    list: Piece[],
    out: Buffer,
    ctx: FopContext,
    readBase: (p: Piece) => Promise<{ payload: Payload; stat: Iatt }>,
  ): Promise<Iatt | undefined> {
    let stat: Iatt | undefined;
    const root = shard.asRoot(ctx);
    const copy = (p: Piece, payload: Payload) => {
      let at = p.at;
      for (const c of payloadChunks(payload))
        at += c.copy(out, at, 0, Math.min(c.length, p.at + p.length - at));
    };
    const results = await fanout(
      list.map((_, i) => i),
      async (i) => {
        const p = list[i]!;
        if (p.block === 0) {
          const r = await readBase(p);
          stat = r.stat;
          copy(p, r.payload);
          return;
        }
        await onShard(base, p.block, st, ctx, false, async (gfid) => {
          const r = await shard.call(
            'READ',
            { gfid, fd: OpenFd.anonymous(gfid), offset: p.offset, size: p.length, flag: 0, xdata: null },
            root,
          );
          copy(p, r.payload);
        });
      },
      { limit: PIECES_IN_FLIGHT },
    );
    results.require('all');
    return stat;
  }

  async function rangeOp<R extends RangeReq>(
    fop: RangeFop,
    req: R,
    ctx: FopContext,
    next: (r: R) => Promise<{ prestat: Iatt; poststat: Iatt; xdata: GfxDict }>,
  ) {
    const base = req.fd.gfid;
    const st = await shard.sharded(base, req.fd, ctx);
    if (!st) return next(req);
    const mode = 'flags' in req ? (req.flags ?? 0) : 0;
    if (fop === 'FALLOCATE' && mode !== 0 && mode !== ZERO_RANGE && mode !== (KEEP_SIZE | PUNCH_HOLE))
      throw FopError.of('ENOTSUP', `fallocate mode ${mode} on a sharded file`);
    const punching = fop === 'DISCARD' || (fop === 'FALLOCATE' && mode === (KEEP_SIZE | PUNCH_HOLE));
    const bs = st.blockSize;
    return st.gate.run(false, () =>
      changing(st, async () => {
        const before = { ...st.known! };
        const end = req.offset + req.size;
        const grow = punching ? 0 : Math.max(0, end - st.known!.size);
        st.known!.size += grow;
        const root = shard.asRoot(ctx);
        const xdata = atomicXdata(req.xdata);
        const list = pieces(req.offset, req.size, bs);
        let stat: Iatt | undefined;
        const results = await fanout(
          list.map((_, i) => i),
          async (i): Promise<PieceResult> => {
            const p = list[i]!;
            const part = { offset: p.offset, size: p.length, xdata };
            if (p.block === 0) {
              const r = await next({ ...req, ...part });
              stat = r.poststat;
              return { written: p.length, blocks: r.poststat.blocks - r.prestat.blocks };
            }
            const r = await onShard(req.fd.gfid, p.block, st, ctx, !punching, async (gfid) => {
              const fd = OpenFd.anonymous(gfid);
              if (fop === 'FALLOCATE')
                return shard.call('FALLOCATE', { gfid, fd, flags: mode, ...part }, root);
              return shard.call(fop, { gfid, fd, ...part }, root);
            });
            if (r) st.dirty.add(p.block);
            return { written: p.length, blocks: r ? r.poststat.blocks - r.prestat.blocks : 0 };
          },
          { limit: PIECES_IN_FLIGHT },
        );
        results.require('all');
        const blocks = Math.max(
          results.values().reduce((n, r) => n + r.blocks, 0),
          -st.known!.blocks, // as truncate.ts: the sum never goes below zero
        );
        st.known!.blocks += blocks;
        await shard.addToFileSize(base, req.fd, { size: grow, blocks }, ctx);
        return {
          prestat: withFileSize(st.iatt ?? stat!, before),
          poststat: baseStat(st, stat),
          xdata: null,
        };
      }),
    );
  }

  /**
   * SEEK_DATA (`data`) or SEEK_HOLE from `offset`, shard by shard: a missing shard, or the
   * bytes past a shard's own end, are a hole; inside a shard the brick's SEEK answers.
   * ENXIO at or past the logical size, or when no data follows; the size is the last hole.
   */
  async function seekAcross(
    st: FileState,
    offset: number,
    data: boolean,
    ctx: FopContext,
    seekBase: (from: number) => Promise<number>,
  ): Promise<number> {
    const size = st.known!.size;
    if (offset >= size) throw FopError.of('ENXIO');
    const bs = st.blockSize;
    const base = st.iatt!.gfid;
    const root = shard.asRoot(ctx);
    for (let block = blockOf(offset, bs); block <= lastBlock(size, bs); block++) {
      const start = block * bs;
      const from = Math.max(offset, start) - start;
      const inBlock = Math.min(bs, size - start);
      const seek = async (): Promise<number | undefined> => {
        try {
          if (block === 0) return await seekBase(from);
          const r = await onShard(base, block, st, ctx, false, (gfid) =>
            shard.call(
              'SEEK',
              { gfid, fd: OpenFd.anonymous(gfid), offset: from, what: data ? 0 : 1, xdata: null },
              root,
            ),
          );
          return r?.offset; // undefined: no shard, all hole
        } catch (err) {
          if (err instanceof FopError && err.errno === Errno.ENXIO) return undefined; // past its end
          throw err;
        }
      };
      const at = await seek();
      if (data) {
        if (at !== undefined && at < inBlock) return start + at;
      } else if (at === undefined || at < inBlock) return start + Math.min(at ?? from, inBlock);
    }
    if (data) throw FopError.of('ENXIO');
    return size;
  }

  return {
    async READ(req, ctx, next) {
      const base = req.fd.gfid;
      const st = await shard.sharded(base, req.fd, ctx);
      if (!st) return next(req);
      return st.gate.run(false, async () => {
        const size = st.known!.size;
        const length = Math.max(0, Math.min(req.size, size - req.offset));
        const out = Buffer.alloc(length);
        const stat = await readPieces(base, st, pieces(req.offset, length, st.blockSize), out, ctx, (p) =>
          next({ ...req, offset: p.offset, size: p.length }),
        );
        return { opRet: length, size: length, stat: baseStat(st, stat), xdata: null, payload: out };
      });
    },

    async WRITE(req, ctx, next) {
      const base = req.fd.gfid;
      const st = await shard.sharded(base, req.fd, ctx);
      if (!st) return next(req);
      const total = payloadLength(req.payload);
      return st.gate.run(false, () =>
        changing(st, async () => {
          const before = { ...st.known! };
          // Appends go to the end this client knows of, reserved before any await.
          const append = ((req.fd.flags | req.flag) & O_APPEND) !== 0;
          const offset = append ? st.known!.size : req.offset;
          const grow = Math.max(0, offset + total - st.known!.size);
          st.known!.size += grow;
          const xdata = atomicXdata(req.xdata);
          const root = shard.asRoot(ctx);
          const shardFlag = req.fd.flags & O_DIRECT ? O_DIRECT : O_RDWR | O_LARGEFILE;
          const list = pieces(offset, total, st.blockSize);
          let stat: Iatt | undefined;
          const results = await fanout(
            list.map((_, i) => i),
            async (i): Promise<PieceResult> => {
              const p = list[i]!;
              const payload = slicePayload(req.payload, p.at, p.length);
              const part = { offset: p.offset, size: p.length, xdata, payload };
              if (p.block === 0) {
                const r = await next({ ...req, ...part, flag: req.flag & ~O_APPEND });
                stat = r.poststat;
                return { written: r.opRet ?? p.length, blocks: r.poststat.blocks - r.prestat.blocks };
              }
              const r = await onShard(base, p.block, st, ctx, true, (gfid) =>
                shard.call('WRITE', { gfid, fd: OpenFd.anonymous(gfid), flag: shardFlag, ...part }, root),
              );
              st.dirty.add(p.block);
              return { written: r!.opRet ?? p.length, blocks: r!.poststat.blocks - r!.prestat.blocks };
            },
            { limit: PIECES_IN_FLIGHT },
          );
          results.require('all');
          const done = results.values();
          const blocks = done.reduce((n, r) => n + r.blocks, 0);
          st.known!.blocks += blocks;
          await shard.addToFileSize(base, req.fd, { size: grow, blocks }, ctx);
          return {
            opRet: done.reduce((n, r) => n + r.written, 0),
            prestat: withFileSize(st.iatt ?? stat!, before),
            poststat: baseStat(st, stat),
            xdata: null,
          };
        }),
      );
    },

    DISCARD: (req, ctx, next) => rangeOp('DISCARD', req, ctx, next),
    ZEROFILL: (req, ctx, next) => rangeOp('ZEROFILL', req, ctx, next),
    FALLOCATE: (req, ctx, next) => rangeOp('FALLOCATE', req, ctx, next),

    async FSYNC(req, ctx, next) {
      const base = req.fd.gfid;
      const st = shard.state(base);
      const r = await next(req);
      if (!st?.blockSize || st.dirty.size === 0) return r;
      const blocks = [...st.dirty];
      st.dirty.clear();
      const root = shard.asRoot(ctx);
      const synced = await fanout(
        blocks,
        (block) =>
          onShard(base, block, st, ctx, false, (gfid) =>
            shard.call('FSYNC', { gfid, fd: OpenFd.anonymous(gfid), data: req.data, xdata: null }, root),
          ),
        { limit: PIECES_IN_FLIGHT },
      );
      if (!synced.has('all')) {
        for (const f of synced.failed) st.dirty.add(f.target);
        throw synced.error();
      }
      return st.known ? { ...r, prestat: baseStat(st, r.prestat), poststat: baseStat(st, r.poststat) } : r;
    },

    async SEEK(req, ctx, next) {
      if (!req.xdata?.has(SEEK_ACROSS_SHARDS))
        throw FopError.of('ENOTSUP', 'seek through features/shard (stock answers the same)');
      const xdata: Dict = new Map(req.xdata);
      xdata.delete(SEEK_ACROSS_SHARDS);
      const st = await shard.sharded(req.fd.gfid, req.fd, ctx);
      if (!st) return next({ ...req, xdata });
      return st.gate.run(false, async () => {
        const offset = await seekAcross(st, req.offset, req.what === 0, ctx, (from) =>
          next({ ...req, offset: from, xdata }).then((r) => r.offset),
        );
        return { offset, xdata: null };
      });
    },
  };
}
