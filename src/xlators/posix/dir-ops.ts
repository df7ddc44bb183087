/**
 * OPENDIR, READDIR, READDIRP, RELEASEDIR, FSYNCDIR. Listings include "." and ".." and
 * never the handle store at the brick root. The d_off cookie of an entry is its position
 * in the listing plus one, so a client's next offset (the last d_off it got) continues
 * there; a cursor per fd streams the directory and only re-reads from the start when a
 * client seeks elsewhere.
 */
import { promises as fsp, type Dir, type Dirent } from 'node:fs';
import { Errno, FopError } from '../../protocol/errno.js';
import type { Dirent as WireDirent, DirentPlus } from '../../protocol/structs.js';
import type { FopTable } from '../../xlator/translator.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { Node } from './brick.js';
import type { Posix } from './context.js';
import type { FdState } from './fdctx.js';
import { fstat, fsync, fdatasync, lstat } from './fsx.js';
import { iattFromStat } from './iatt.js';
import { HIDDEN_DIR } from './on-disk.js';
import { pathXattrs, requestedXattrs } from './xattrs.js';
import { gfidToIno } from '../../protocol/gfid.js';

/** What one entry costs against a READDIR(P) `size`: stock's per-entry struct plus the name. */
const ENTRY_COST = 256;

export const DT = { UNKNOWN: 0, FIFO: 1, CHR: 2, DIR: 4, BLK: 6, REG: 8, LNK: 10, SOCK: 12 } as const;

function direntType(d: Dirent): number {
  if (d.isFile()) return DT.REG;
  if (d.isDirectory()) return DT.DIR;
  if (d.isSymbolicLink()) return DT.LNK;
  if (d.isFIFO()) return DT.FIFO;
  if (d.isCharacterDevice()) return DT.CHR;
  if (d.isBlockDevice()) return DT.BLK;
  if (d.isSocket()) return DT.SOCK;
  return DT.UNKNOWN;
}

interface Entry {
  name: string;
  type: number;
}

/** A streaming position in one directory; entries 0 and 1 are "." and "..". */
export class DirCursor {
  private dir: Dir | null = null;
  private held: Entry | null = null;
  pos = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly hideHandleStore: boolean,
  ) {}

  /** Runs one listing call at a time: a cursor has one position. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async seek(offset: number): Promise<void> {
    if (offset === this.pos && (offset < 2 || this.dir)) return;
    await this.close();
    this.pos = 0;
    while (this.pos < offset && (await this.next())) {
      /* skip */
    }
  }

  async next(): Promise<Entry | null> {
    if (this.pos === 0 || this.pos === 1) {
      const name = this.pos === 0 ? '.' : '..';
      this.pos++;
      return { name, type: DT.DIR };
    }
    if (this.held) {
      const e = this.held;
      this.held = null;
      this.pos++;
      return e;
    }
    this.dir ??= await fsp.opendir(this.path, { bufferSize: 128 });
    for (;;) {
      const d = await this.dir.read();
      if (!d) return null;
      if (this.hideHandleStore && d.name === HIDDEN_DIR) continue;
      this.pos++;
      return { name: d.name, type: direntType(d) };
    }
  }

  unread(e: Entry): void {
    this.held = e;
    this.pos--;
  }

  async close(): Promise<void> {
    const d = this.dir;
    this.dir = null;
    this.held = null;
    await d?.close().catch(() => undefined);
  }
}

export function dirOps(p: Posix): FopTable {
  const { brick, fds } = p;

  /** Reads up to `size` bytes' worth of entries from `offset`; at least one if any remain. */
  async function batch(
    fd: OpenFd,
    offset: bigint,
    size: number,
    fill: (s: FdState, e: Entry, off: number) => Promise<number>,
  ) {
    if (offset > BigInt(Number.MAX_SAFE_INTEGER)) throw FopError.of('EINVAL', 'bad directory offset');
    return fds.use(fd, async (s) => {
      if (!s.isDir) throw FopError.of('ENOTDIR');
      // An anonymous fd (stock shard READDIRPs /.shard/.remove_me by gfid, without OPENDIR)
      // lists through a cursor of its own for this call.
      const own = s.cursor ? null : new DirCursor(`/proc/self/fd/${s.fd}`, brick.isRoot(fd.gfid));
      const cursor = s.cursor ?? own!;
      try {
        return await listBatch(s, cursor);
      } finally {
        await own?.close();
      }
    });

    function listBatch(s: FdState, cursor: DirCursor) {
      return cursor.serial(async () => {
        await cursor.seek(Number(offset));
        let used = 0;
        let count = 0;
        let eof = false;
        for (;;) {
          const e = await cursor.next();
          if (!e) {
            eof = true;
            break;
          }
          const cost = ENTRY_COST + Buffer.byteLength(e.name) + 1;
          if (count > 0 && used + cost > size) {
            cursor.unread(e);
            break;
          }
          used += cost;
          count += await fill(s, e, cursor.pos);
        }
        if (!eof) {
          const peek = await cursor.next();
          if (peek) cursor.unread(peek);
          else eof = true;
        }
        return eof;
      });
    }
  }

  /** stat and gfid of a listed entry; null if it vanished meanwhile. */
  async function entryInfo(s: FdState, fd: OpenFd, name: string) {
    if (name === '.') return { stat: await fstat(s.fd), gfid: fd.gfid, path: `/proc/self/fd/${s.fd}/.` };
    if (name === '..') {
      const self: Node = { gfid: fd.gfid, stat: await fstat(s.fd), isDir: true, fd: s.fd, path: '' };
      const parent = await brick.parentOf(self);
      try {
        return { stat: parent.stat, gfid: parent.gfid, path: `/proc/self/fd/${s.fd}/..` };
      } finally {
        await brick.release(parent);
      }
    }
    const path = `/proc/self/fd/${s.fd}/${name}`;
    try {
      const stat = await lstat(path);
      return { stat, gfid: (await brick.pathGfid(path)) ?? Buffer.alloc(16), path };
    } catch {
      return null;
    }
  }

  return {
    async OPENDIR(req) {
      const node = await brick.resolve(req.gfid);
      if (!node.isDir) {
        await brick.release(node);
        throw FopError.of('ENOTDIR');
      }
      fds.attach(req.fd, node.fd, true, false, new DirCursor(node.path, brick.isRoot(req.gfid)));
      return { xdata: null };
    },

    async READDIR(req) {
      const entries: WireDirent[] = [];
      const eof = await batch(req.fd, req.offset, req.size, async (s, e, off) => {
        const info = await entryInfo(s, req.fd, e.name);
        if (!info) return 0;
        entries.push({
          ino: info.stat.ino,
          off: BigInt(off),
          len: Buffer.byteLength(e.name),
          type: e.type,
          name: e.name,
        });
        return 1;
      });
      return { opRet: entries.length, opErrno: eof ? Errno.ENOENT : 0, entries, xdata: null };
    },

    async READDIRP(req) {
      const entries: DirentPlus[] = [];
      const eof = await batch(req.fd, req.offset, req.size, async (s, e, off) => {
        const info = await entryInfo(s, req.fd, e.name);
        if (!info) return 0;
        const stat = iattFromStat(info.stat, info.gfid);
        const hasGfid = info.gfid.some((b) => b !== 0);
        const dict =
          e.name === '.' || e.name === '..' ? null : await requestedXattrs(pathXattrs(info.path), req.xdata);
        entries.push({
          ino: hasGfid ? gfidToIno(info.gfid) : info.stat.ino,
          off: BigInt(off),
          len: Buffer.byteLength(e.name),
          type: e.type,
          name: e.name,
          stat,
          dict: dict ?? new Map(),
        });
        return 1;
      });
      return { opRet: entries.length, opErrno: eof ? Errno.ENOENT : 0, entries, xdata: null };
    },

    async RELEASEDIR(req) {
      await fds.release(req.fd);
      return { xdata: null };
    },

    async FSYNCDIR(req) {
      return fds.use(req.fd, async (s) => {
        await (req.data ? fdatasync(s.fd) : fsync(s.fd));
        return { xdata: null };
      });
    },
  };
}
