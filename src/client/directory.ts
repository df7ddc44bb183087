/**
 * Directory: an open directory (glfs_opendir). Iterating it sends READDIRP batches,
 * each starting at the previous batch's last d_off cookie, until a batch comes back
 * empty; "." and ".." are left out unless `dots` is set. An iterator may be started once
 * per open; `close()` sends RELEASEDIR.
 */
import type { DirentPlus } from '../protocol/structs.js';
import type { OpenFd } from '../xlator/fd.js';
import { GlusterError } from './errors.js';
import { Stats, S_IFMT, S_IFDIR, S_IFLNK, S_IFREG, type DirEntry } from './stats.js';
import type { CallOptions, FopRunner } from './runner.js';

export interface OpendirOptions {
  /** Include "." and ".." (glfs_readdir returns them); default false. */
  dots?: boolean;
  /** READDIRP reply size asked for; default 128 KiB, as gfapi sends. */
  batchBytes?: number;
}

const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;

export class Directory implements AsyncIterable<DirEntry> {
  private closing: Promise<void> | undefined;
  private readonly closeListeners: (() => void)[] = [];
  private readonly dots: boolean;
  private readonly batchBytes: number;

  constructor(
    /** The Volume it was opened on (its fop runner). */
    private readonly volume: FopRunner,
    readonly path: string,
    readonly fd: OpenFd,
    opts: OpendirOptions = {},
  ) {
    this.dots = opts.dots ?? false;
    this.batchBytes = opts.batchBytes ?? 128 * 1024;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** @internal the Volume's bookkeeping. */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** glfs_readdirplus, as an async iterator of entries with attributes. */
  async *entries(opts: CallOptions = {}): AsyncGenerator<DirEntry> {
    let offset = 0n;
    for (;;) {
      if (this.closing) throw new GlusterError('EBADF', 'glfs_readdirplus', this.path);
      const r = await this.volume.fop(
        'READDIRP',
        { gfid: this.fd.gfid, fd: this.fd, offset, size: this.batchBytes, xdata: null },
        { signal: opts.signal, syscall: 'glfs_readdirplus', path: this.path },
      );
      if (r.entries.length === 0) return;
      for (const e of r.entries) {
        if (!this.dots && (e.name === '.' || e.name === '..')) continue;
        yield entry(e);
      }
      offset = r.entries[r.entries.length - 1]!.off;
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<DirEntry> {
    return this.entries();
  }

  /** glfs_closedir: RELEASEDIR. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.volume.release(this.fd);
      for (const l of this.closeListeners) l();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function entry(e: DirentPlus): DirEntry {
  const stats = new Stats(e.stat);
  // d_type is authoritative; the stat's type bits back it up when it is DT_UNKNOWN.
  const fmt = e.stat.mode & S_IFMT;
  const type = e.type || (fmt === S_IFDIR ? DT_DIR : fmt === S_IFREG ? DT_REG : fmt === S_IFLNK ? DT_LNK : 0);
  return {
    name: e.name,
    type,
    ino: e.ino,
    stats,
    isFile: () => type === DT_REG,
    isDirectory: () => type === DT_DIR,
    isSymbolicLink: () => type === DT_LNK,
  };
}
