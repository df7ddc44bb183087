/**
 * File: an open file (`glfs_fd_t`). Positional I/O maps one call to one fop:
 *
 * - `pread(length, position)` sends one READ and returns **a view of the received reply
 *   record** (no copy; it keeps that record alive while referenced). Short at EOF.
 * - `preadv(buffers, position)` sends one READ for their total length and **copies into
 *   the caller's buffers**; returns the bytes read.
 * - `pwrite(buffer, position)` / `pwritev(buffers, position)` send one WRITE whose payload
 *   is the caller's own buffers, handed to the socket after the header without copying
 *   (do not modify them until the promise settles).
 *
 * `read`/`write` use and advance the file position that `lseek` sets (glfs_read/glfs_write).
 * `close` sends FLUSH then RELEASE (RELEASE even if FLUSH failed). Calls on a closed File
 * fail with EBADF.
 */
import { MAX_IO } from '../protocol/limits.js';
import type { GfxDict } from '../protocol/dict.js';
import type { Payload } from '../protocol/procedure.js';
import type { OpenFd } from '../xlator/fd.js';
import { GlusterError } from './errors.js';
import { Stats } from './stats.js';
import type { CallOptions, FopRunner } from './runner.js';

/** GF_O_* open flags: the Linux x86 values (docs/wire-format.md, open flags). */
export const O = {
  RDONLY: 0,
  WRONLY: 0o1,
  RDWR: 0o2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  SYNC: 0o4010000,
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
} as const;

/** Open flags as numbers (O.*) or as Node's strings: r, r+, w, w+, wx, wx+, a, a+, ax, ax+. */
export type OpenFlags = number | 'r' | 'r+' | 'w' | 'w+' | 'wx' | 'wx+' | 'a' | 'a+' | 'ax' | 'ax+';

const STRING_FLAGS: Record<string, number> = {
  r: O.RDONLY,
  'r+': O.RDWR,
  w: O.WRONLY | O.CREAT | O.TRUNC,
  'w+': O.RDWR | O.CREAT | O.TRUNC,
  wx: O.WRONLY | O.CREAT | O.TRUNC | O.EXCL,
  'wx+': O.RDWR | O.CREAT | O.TRUNC | O.EXCL,
  a: O.WRONLY | O.CREAT | O.APPEND,
  'a+': O.RDWR | O.CREAT | O.APPEND,
  ax: O.WRONLY | O.CREAT | O.APPEND | O.EXCL,
  'ax+': O.RDWR | O.CREAT | O.APPEND | O.EXCL,
};

export function openFlags(flags: OpenFlags): number {
  if (typeof flags === 'number') return flags;
  const f = STRING_FLAGS[flags];
  if (f === undefined) throw new GlusterError('EINVAL', 'glfs_open', undefined, { detail: `flags ${flags}` });
  return f;
}

/** lseek whence values (Linux). */
export const Whence = { SET: 0, CUR: 1, END: 2, DATA: 3, HOLE: 4 } as const;
export type WhenceName = keyof typeof Whence;

/** fallocate modes (Linux). */
export const Fallocate = { KEEP_SIZE: 0x1, PUNCH_HOLE: 0x2, ZERO_RANGE: 0x10 } as const;

/** The largest single READ or WRITE (QEMU's cap, which stock bricks accept). */
export { MAX_IO };

export class File {
  /** The offset `read`, `write` and `lseek(…, 'CUR')` use. */
  position = 0;
  private closing: Promise<void> | undefined;
  private readonly closeListeners: (() => void)[] = [];

  constructor(
    /** The Volume it was opened on (its fop runner). */
    private readonly volume: FopRunner,
    /** The path it was opened by. */
    readonly path: string,
    /** The translator-level open fd (the gfid and the remote fd live on it). */
    readonly fd: OpenFd,
    /** The GF_O_* flags it was opened with. */
    readonly flags: number,
  ) {}

  /** The file's gfid. */
  get gfid(): Buffer {
    return this.fd.gfid;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** @internal the Volume's bookkeeping. */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  private where(syscall: string, signal: AbortSignal | undefined) {
    if (this.closing) throw new GlusterError('EBADF', syscall, this.path, { detail: 'the file is closed' });
    return { signal, syscall, path: this.path };
  }

  /** glfs_pread: one READ; returns a view of the reply record (see the module notes). */
  async pread(length: number, position: number, opts: CallOptions = {}): Promise<Buffer> {
    const where = this.where('glfs_pread', opts.signal);
    checkRange(length, position, where.syscall, this.path);
    const r = await this.volume.fop(
      'READ',
      { gfid: this.fd.gfid, fd: this.fd, offset: position, size: length, flag: 0, xdata: null },
      where,
    );
    return asBuffer(r.payload);
  }

  /** glfs_preadv: one READ for the buffers' total length, copied into them; returns the bytes read. */
  async preadv(buffers: readonly Uint8Array[], position: number, opts: CallOptions = {}): Promise<number> {
    const total = buffers.reduce((n, b) => n + b.byteLength, 0);
    const where = this.where('glfs_preadv', opts.signal);
    checkRange(total, position, where.syscall, this.path);
    const r = await this.volume.fop(
      'READ',
      { gfid: this.fd.gfid, fd: this.fd, offset: position, size: total, flag: 0, xdata: null },
      where,
    );
    const data = asBuffer(r.payload);
    let at = 0;
    for (const b of buffers) {
      if (at >= data.length) break;
      at += data.copy(b, 0, at, Math.min(data.length, at + b.byteLength));
    }
    return data.length;
  }

  /** glfs_pwrite: returns the bytes written. */
  pwrite(buffer: Buffer, position: number, opts: CallOptions = {}): Promise<number> {
    return this.write_('glfs_pwrite', [buffer], position, opts);
  }

  /** glfs_pwritev: the buffers go to the socket as they are (zero copy). */
  pwritev(buffers: readonly Buffer[], position: number, opts: CallOptions = {}): Promise<number> {
    return this.write_('glfs_pwritev', buffers, position, opts);
  }

  private async write_(
    syscall: string,
    buffers: readonly Buffer[],
    position: number,
    opts: CallOptions,
  ): Promise<number> {
    const where = this.where(syscall, opts.signal);
    const size = buffers.reduce((n, b) => n + b.length, 0);
    checkRange(size, position, syscall, this.path);
    const r = await this.volume.fop(
      'WRITE',
      {
        gfid: this.fd.gfid,
        fd: this.fd,
        offset: position,
        size,
        flag: 0,
        xdata: null,
        payload: buffers.length === 1 ? buffers[0]! : buffers,
      },
      where,
    );
    return r.opRet ?? size;
  }

  /** glfs_read: at the file position, which advances by the bytes read (a view, as pread). */
  async read(length: number, opts: CallOptions = {}): Promise<Buffer> {
    const data = await this.pread(length, this.position, opts);
    this.position += data.length;
    return data;
  }

  /** glfs_write: at the file position (the end with O_APPEND), which advances. */
  async write(buffer: Buffer, opts: CallOptions = {}): Promise<number> {
    const n = await this.pwrite(buffer, this.position, opts);
    this.position = this.flags & 0o2000 ? (await this.fstat(opts)).size : this.position + n;
    return n;
  }

  /** glfs_fsync. */
  async fsync(opts: CallOptions = {}): Promise<void> {
    const where = this.where('glfs_fsync', opts.signal);
    await this.volume.fop('FSYNC', { gfid: this.fd.gfid, fd: this.fd, data: 0, xdata: null }, where);
  }

  /** glfs_fdatasync. */
  async fdatasync(opts: CallOptions = {}): Promise<void> {
    const where = this.where('glfs_fdatasync', opts.signal);
    await this.volume.fop('FSYNC', { gfid: this.fd.gfid, fd: this.fd, data: 1, xdata: null }, where);
  }

  /** glfs_ftruncate. */
  async ftruncate(length = 0, opts: CallOptions = {}): Promise<void> {
    const where = this.where('glfs_ftruncate', opts.signal);
    checkRange(0, length, where.syscall, this.path);
    await this.volume.fop(
      'FTRUNCATE',
      { gfid: this.fd.gfid, fd: this.fd, offset: length, xdata: null },
      where,
    );
  }

  /** glfs_fstat. */
  async fstat(opts: CallOptions = {}): Promise<Stats> {
    const where = this.where('glfs_fstat', opts.signal);
    const r = await this.volume.fop('FSTAT', { gfid: this.fd.gfid, fd: this.fd, xdata: null }, where);
    return new Stats(r.stat);
  }

  /**
   * glfs_lseek: SET, CUR, END (FSTAT for the size), DATA and HOLE (SEEK; ENXIO when no
   * data lies at or after `offset`; `xdata` goes with the SEEK). Sets and returns the file position.
   */
  async lseek(
    offset: number,
    whence: WhenceName | number = 'SET',
    opts: CallOptions & { xdata?: GfxDict } = {},
  ): Promise<number> {
    const w = typeof whence === 'number' ? whence : Whence[whence];
    const where = this.where('glfs_lseek', opts.signal);
    let pos: number;
    switch (w) {
      case Whence.SET:
        pos = offset;
        break;
      case Whence.CUR:
        pos = this.position + offset;
        break;
      case Whence.END:
        pos = (await this.fstat(opts)).size + offset;
        break;
      case Whence.DATA:
      case Whence.HOLE: {
        checkRange(0, offset, where.syscall, this.path);
        const r = await this.volume.fop(
          'SEEK',
          {
            gfid: this.fd.gfid,
            fd: this.fd,
            offset,
            what: w === Whence.DATA ? 0 : 1,
            xdata: opts.xdata ?? null,
          },
          where,
        );
        pos = r.offset;
        break;
      }
      default:
        throw new GlusterError('EINVAL', where.syscall, this.path, { detail: `whence ${whence}` });
    }
    if (pos < 0 || !Number.isSafeInteger(pos)) throw new GlusterError('EINVAL', where.syscall, this.path);
    this.position = pos;
    return pos;
  }

  /** glfs_fallocate: mode is Linux's (0, KEEP_SIZE, …). */
  async fallocate(mode: number, offset: number, length: number, opts: CallOptions = {}): Promise<void> {
    const where = this.where('glfs_fallocate', opts.signal);
    checkRange(length, offset, where.syscall, this.path);
    await this.volume.fop(
      'FALLOCATE',
      { gfid: this.fd.gfid, fd: this.fd, flags: mode, offset, size: length, xdata: null },
      where,
    );
  }

  /** glfs_discard: punch a hole, keeping the size. */
  async discard(offset: number, length: number, opts: CallOptions = {}): Promise<void> {
    const where = this.where('glfs_discard', opts.signal);
    checkRange(length, offset, where.syscall, this.path);
    await this.volume.fop(
      'DISCARD',
      { gfid: this.fd.gfid, fd: this.fd, offset, size: length, xdata: null },
      where,
    );
  }

  /** glfs_zerofill. */
  async zerofill(offset: number, length: number, opts: CallOptions = {}): Promise<void> {
    const where = this.where('glfs_zerofill', opts.signal);
    checkRange(length, offset, where.syscall, this.path);
    await this.volume.fop(
      'ZEROFILL',
      { gfid: this.fd.gfid, fd: this.fd, offset, size: length, xdata: null },
      where,
    );
  }

  /** glfs_close: FLUSH, then RELEASE. A second call returns the first one's result. */
  close(opts: CallOptions = {}): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.volume.fop(
          'FLUSH',
          { gfid: this.fd.gfid, fd: this.fd, xdata: null },
          { signal: opts.signal, syscall: 'glfs_close', path: this.path },
        );
      } finally {
        await this.volume.release(this.fd);
        for (const l of this.closeListeners) l();
      }
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function checkRange(length: number, position: number, syscall: string, path: string): void {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new GlusterError('EINVAL', syscall, path, { detail: `offset ${position}` });
  }
  if (!Number.isSafeInteger(length) || length < 0 || length > MAX_IO) {
    throw new GlusterError('EINVAL', syscall, path, { detail: `length ${length} (at most ${MAX_IO})` });
  }
}

function asBuffer(p: Payload): Buffer {
  if (Buffer.isBuffer(p)) return p;
  return p.length === 1 ? p[0]! : Buffer.concat(p);
}
