/**
 * Fops on open files: OPEN, READ, WRITE, FLUSH, FSYNC, FTRUNCATE, FSTAT, FSETATTR,
 * RELEASE, FALLOCATE, DISCARD, ZEROFILL, SEEK, RCHECKSUM. All IO runs on the libuv pool
 * through the addon (preadv/pwritev/fallocate/lseek). An fd opened O_DIRECT does its IO
 * through aligned buffers; unaligned offsets or sizes get the kernel's EINVAL, as stock.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { intValue, uintValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import { payloadChunks, payloadLength } from '../../protocol/procedure.js';
import {
  DIRECT_ALIGNMENT,
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  IOV_MAX,
  SEEK_DATA,
  SEEK_HOLE,
  allocAligned,
  carveAlignedUnsafe,
  fallocate,
  isDirectAligned,
  lseek,
  preadv,
  readWithStat,
  pwritev,
  writeWithStat,
} from '../../sys/index.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopTable } from '../../xlator/translator.js';
import { AppendChecks } from './append-check.js';
import { applySetattr } from './attrs.js';
import type { Posix } from './context.js';
import type { FdState } from './fdctx.js';
import { closeQuietly, errCode, fdatasync, fstat, fsync, ftruncate } from './fsx.js';
import { weakChecksum } from './checksums.js';
import { readVector, writeVector } from './vector-io.js';
import { READ_VECTOR_KEY, requestRanges, WRITE_VECTOR_KEY } from '../../protocol/vector-io.js';
import { iattFromStat } from './iatt.js';
import { MAX_IO } from '../../protocol/limits.js';
import { checkDataFile, openFlags, openRegularFile } from './security.js';
import { fdXattrs, OPEN_FD_COUNT, requestedXattrs } from './xattrs.js';

const ZERO_CHUNK = 1024 * 1024;

/** IO memory, not zero-filled: every user sends or writes only bytes it filled itself. */
function buffer(size: number, direct: boolean): Buffer {
  return direct ? carveAlignedUnsafe(size) : Buffer.allocUnsafe(size);
}

/** pwritev until everything is written; an error after a partial write reports the part. */
async function writeAll(fd: number, chunks: readonly Buffer[], offset: number): Promise<number> {
  const todo = chunks.filter((c) => c.length > 0);
  let done = 0;
  while (todo.length > 0) {
    let n: number;
    try {
      n = await pwritev(fd, todo.slice(0, IOV_MAX), offset + done);
    } catch (e) {
      if (done > 0) return done;
      throw e;
    }
    if (n === 0) break;
    done += n;
    while (n > 0 && todo.length > 0) {
      const head = todo[0]!;
      if (n >= head.length) {
        n -= head.length;
        todo.shift();
      } else {
        todo[0] = head.subarray(n);
        n = 0;
      }
    }
  }
  return done;
}

/** WRITE xdata keys AFR sends (eager-lock and append decisions); the reply answers each. */
export const WRITE_IS_APPEND = 'glusterfs.write-is-append';
export const OPEN_ACTIVE_FD_COUNT = 'glusterfs.open-active-fd-count';
/** RCHECKSUM: the request asks, the reply says whether the range read as zeros. */
export const CHECK_ZERO_FILLED = 'check-zero-filled';
export const BUF_HAS_ZEROES = 'buf-has-zeroes';

function isZeros(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

function writeReplyXdata(asked: GfxDict, p: Posix, gfid: Buffer, isAppend: () => boolean): Dict | null {
  if (!asked || asked.size === 0) return null;
  const out: Dict = new Map();
  if (asked.has(WRITE_IS_APPEND)) out.set(WRITE_IS_APPEND, uintValue(isAppend() ? 1 : 0));
  if (asked.has(OPEN_ACTIVE_FD_COUNT)) out.set(OPEN_ACTIVE_FD_COUNT, uintValue(p.fds.openCount(gfid)));
  if (asked.has(OPEN_FD_COUNT)) out.set(OPEN_FD_COUNT, uintValue(p.fds.openCount(gfid)));
  return out.size ? out : null;
}

export function dataOps(p: Posix): FopTable {
  const { brick, fds } = p;
  const appendChecks = new AppendChecks();

  const stat = async (s: FdState, fd: OpenFd) => iattFromStat(await fstat(s.fd), fd.gfid);
  const fileFd = (s: FdState): number => {
    if (s.isDir) throw FopError.of('EISDIR');
    return s.fd;
  };

  /** pre-stat, operation, post-stat: the shape of most replies here. */
  async function around(fd: OpenFd, op: (osFd: number, s: FdState) => Promise<void>) {
    return fds.use(fd, async (s) => {
      const prestat = await stat(s, fd);
      await op(fileFd(s), s);
      return { prestat, poststat: await stat(s, fd), xdata: null };
    });
  }

  return {
    async OPEN(req) {
      return brick.with(req.gfid, async (node) => {
        if (node.isDir) throw FopError.of('EISDIR');
        checkDataFile(node.stat);
        const { flags, direct } = openFlags(req.flags, p.oDirect);
        // Never opens what the name may hold by now if it is not a regular file (a device node).
        const fd = await openRegularFile(node.path, flags);
        const st = await fstat(fd).catch(async (e: unknown) => {
          await closeQuietly(fd);
          throw e;
        });
        if (st.ino !== node.stat.ino || st.dev !== node.stat.dev) {
          await closeQuietly(fd);
          throw FopError.of('ESTALE', 'handle changed while opening');
        }
        if ((flags & 3) !== constants.O_RDONLY || flags & constants.O_TRUNC) await brick.dropMdata(fd);
        fds.attach(req.fd, fd, false, direct);
        return { xdata: null };
      });
    },

    async READ(req) {
      const ranges = requestRanges(req.xdata, READ_VECTOR_KEY);
      if (ranges)
        return fds.use(req.fd, (s) => {
          fileFd(s);
          return readVector(s, req, ranges);
        });
      if (req.size > MAX_IO) throw FopError.of('EINVAL', `READ of ${req.size} bytes`);
      return fds.use(req.fd, async (s) => {
        const fd = fileFd(s);
        const buf = buffer(req.size, s.direct);
        // One thread-pool hop for the read and the stat the reply carries.
        const { bytes: n, post } = await readWithStat(fd, req.size === 0 ? [] : [buf], req.offset);
        return {
          opRet: n,
          // Stock's EOF hint: the read reached the end of the file.
          opErrno: req.offset + n >= Number(post.size) ? Errno.ENOENT : 0,
          stat: iattFromStat(post, req.fd.gfid),
          size: n,
          xdata: null,
          payload: buf.subarray(0, n),
        };
      });
    },

    async WRITE(req) {
      const ranges = requestRanges(req.xdata, WRITE_VECTOR_KEY);
      if (ranges)
        return fds.use(req.fd, async (s) => {
          fileFd(s);
          if (req.fd.anonymous) await brick.dropMdata(s.fd);
          return writeVector(s, req, ranges);
        });
      const len = payloadLength(req.payload);
      if (len > MAX_IO) throw FopError.of('EINVAL', `WRITE of ${len} bytes`);
      return fds.use(req.fd, async (s) => {
        const fd = fileFd(s);
        // Anonymous fds had no OPEN that dropped stock's time xattr.
        if (req.fd.anonymous && !s.mdataDropped) {
          await brick.dropMdata(fd);
          s.mdataDropped = true;
        }
        let chunks = payloadChunks(req.payload);
        // The brick assembles large records so that a block-multiple payload is aligned already.
        if (s.direct && len > 0 && !(chunks.length === 1 && isDirectAligned(chunks[0]!))) {
          const aligned = carveAlignedUnsafe(len);
          let at = 0;
          for (const c of chunks) at += c.copy(aligned, at);
          chunks = [aligned];
        }
        // A write flagged O_SYNC/O_DSYNC (FUSE passes the fd's flags) is stable before its reply.
        const sync =
          (req.flag & constants.O_SYNC) === constants.O_SYNC ? 1 : req.flag & constants.O_DSYNC ? 2 : 0;
        // pre-stat, the whole write, the sync and the post-stat in one thread-pool hop.
        const run = () => writeWithStat(fd, chunks, req.offset, sync);
        const gfid = req.fd.gfid;
        const askAppend = req.xdata?.has(WRITE_IS_APPEND) ?? false;
        let written: Awaited<ReturnType<typeof run>>;
        let sizeBefore: bigint;
        if (askAppend) {
          // "Did it start at EOF?", answered in the order such writes arrived (append-check.ts).
          const checked = await appendChecks.run(gfid.toString('hex'), fd, req.offset, len, async () => {
            const r = await run();
            return { ...r, preSize: r.pre.size };
          });
          written = checked.result;
          sizeBefore = checked.sizeBefore;
        } else {
          written = await run();
          sizeBefore = written.pre.size;
        }
        const { bytes, pre, post } = written;
        if (bytes < len) throw FopError.of('ENOSPC', `short write: ${bytes} of ${len} bytes`);
        const xdata = writeReplyXdata(
          req.xdata,
          p,
          gfid,
          () => sizeBefore === BigInt(req.offset) || (req.fd.flags & constants.O_APPEND) !== 0,
        );
        return { opRet: bytes, prestat: iattFromStat(pre, gfid), poststat: iattFromStat(post, gfid), xdata };
      });
    },

    async FLUSH(req) {
      // close(2) semantics only: durability is FSYNC's job, as in stock.
      return fds.use(req.fd, async () => ({ xdata: null }));
    },

    async FSYNC(req) {
      return fds.use(req.fd, async (s) => {
        const prestat = await stat(s, req.fd);
        await (req.data ? fdatasync(s.fd) : fsync(s.fd));
        return { prestat, poststat: await stat(s, req.fd), xdata: null };
      });
    },

    async FTRUNCATE(req) {
      return around(req.fd, (fd) => ftruncate(fd, req.offset));
    },

    async FSTAT(req) {
      // Requested xattrs come back as on LOOKUP: stock AFR refreshes an open file's
      // changelog with FSTAT, and without them it would read from a brick others accuse.
      return fds.use(req.fd, async (s) => ({
        stat: await stat(s, req.fd),
        xdata: await requestedXattrs(fdXattrs(s.fd), req.xdata),
      }));
    },

    async FSETATTR(req) {
      return fds.use(req.fd, async (s) => {
        const prestat = await stat(s, req.fd);
        await brick.dropMdata(s.fd);
        await applySetattr({ fd: s.fd, isDir: s.isDir }, req.stbuf, req.valid);
        return { prestat, poststat: await stat(s, req.fd), xdata: null };
      });
    },

    async RELEASE(req) {
      await fds.release(req.fd);
      return { xdata: null };
    },

    async FALLOCATE(req) {
      return around(req.fd, (fd) => fallocate(fd, req.flags, req.offset, req.size));
    },

    async DISCARD(req) {
      return around(req.fd, (fd) =>
        fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, req.offset, req.size),
      );
    },

    async ZEROFILL(req) {
      return around(req.fd, async (fd, s) => {
        try {
          await fallocate(fd, FALLOC_FL_ZERO_RANGE, req.offset, req.size);
        } catch (e) {
          if (errCode(e) !== 'EOPNOTSUPP' && errCode(e) !== 'ENOSYS') throw e;
          // Filesystems without ZERO_RANGE: write the zeros, as stock falls back to.
          const zeros = buffer(Math.min(ZERO_CHUNK, req.size), s.direct).fill(0);
          for (let done = 0; done < req.size;) {
            const n = Math.min(zeros.length, req.size - done);
            done += await writeAll(fd, [zeros.subarray(0, n)], req.offset + done);
          }
        }
      });
    },

    async SEEK(req) {
      const whence = req.what === 0 ? SEEK_DATA : req.what === 1 ? SEEK_HOLE : -1;
      if (whence < 0) throw FopError.of('EINVAL', `SEEK what ${req.what}`);
      return fds.use(req.fd, async (s) => ({
        offset: await lseek(fileFd(s), req.offset, whence),
        xdata: null,
      }));
    },

    async RCHECKSUM(req) {
      if (req.len > MAX_IO) throw FopError.of('EINVAL', `RCHECKSUM of ${req.len} bytes`);
      return fds.use(req.fd, async (s) => {
        const fd = fileFd(s);
        let data: Buffer;
        if (s.direct) {
          // Read the aligned span around the range, so any offset works on an O_DIRECT fd.
          const start = Math.floor(req.offset / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
          const end = Math.ceil((req.offset + req.len) / DIRECT_ALIGNMENT) * DIRECT_ALIGNMENT;
          const buf = allocAligned(Math.max(end - start, DIRECT_ALIGNMENT), DIRECT_ALIGNMENT);
          const n = end > start ? await preadv(fd, [buf], start) : 0;
          data = buf.subarray(Math.min(req.offset - start, n), Math.min(req.offset - start + req.len, n));
        } else {
          const buf = Buffer.allocUnsafe(req.len);
          data = buf.subarray(0, req.len ? await preadv(fd, [buf], req.offset) : 0);
        }
        const xdata: Dict = new Map([['fips-mode-rchecksum', intValue(1)]]);
        // Heal skips writing a sink chunk that is all zeros anyway (sparse files).
        if (req.xdata?.has(CHECK_ZERO_FILLED)) xdata.set(BUF_HAS_ZEROES, uintValue(isZeros(data) ? 1 : 0));
        return {
          flags: 1,
          weakChecksum: weakChecksum(data),
          strongChecksum: createHash('sha256').update(data).digest(),
          xdata,
        };
      });
    },
  };
}
