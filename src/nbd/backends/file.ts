/**
 * Local files as NBD exports (tests, and serving images that sit on this host). Data goes
 * through the project's addon (src/sys): preadv/pwritev with explicit positions,
 * fallocate PUNCH_HOLE / ZERO_RANGE for TRIM and WRITE_ZEROES, lseek SEEK_DATA/SEEK_HOLE for
 * base:allocation. Durability: FLUSH is fsync, a FUA write is the write then fdatasync,
 * both before the reply.
 */
import {
  stat as fsStat,
  close as fsClose,
  fdatasync as fsFdatasync,
  fstat as fsFstat,
  fsync as fsFsync,
  open as fsOpen,
  constants,
} from 'node:fs';
import { promisify } from 'node:util';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FALLOC_FL_ZERO_RANGE,
  IOV_MAX,
  O_PATH,
  SEEK_DATA,
  SEEK_HOLE,
  fallocate,
  isSysError,
  lseek,
  openBeneath,
  openDirectory,
  preadv,
  pwritev,
} from '../../sys/index.js';
import {
  NbdError,
  type Capabilities,
  type ExportBackend,
  type ExportEntry,
  type ExportProvider,
  type Extent,
  type OpenOptions,
  type SignalOptions,
  type WriteOptions,
  type ZeroOptions,
} from '../backend.js';

const openP = promisify(fsOpen);
const closeP = promisify(fsClose);
const statP = promisify(fsStat);
const fstatP = promisify(fsFstat);
const fsyncP = promisify(fsFsync);
const fdatasyncP = promisify(fsFdatasync);

/** Zeros are written in slices of this size when fallocate cannot zero. */
const ZERO_SLICE = 1024 * 1024;
/** lseek hops per BLOCK_STATUS; the client asks again for the rest. */
const MAX_EXTENT_PROBES = 64;

function unsupported(err: unknown): boolean {
  return isSysError(err) && (err.code === 'EOPNOTSUPP' || err.code === 'ENOTSUP' || err.code === 'ENOSYS');
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NbdError('ESHUTDOWN', 'request cancelled');
}

export class FileBackend implements ExportBackend {
  readonly capabilities: Capabilities;
  /** Counts of durability calls, for tests of the FUA/flush contract. */
  readonly syncs = { fsync: 0, fdatasync: 0 };
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly size: number,
    readonly description: string,
    readOnly: boolean,
  ) {
    this.capabilities = {
      flush: true,
      fua: true,
      trim: true,
      zero: true,
      fastZero: true,
      blockStatus: true,
      cache: true,
      // One page cache behind every connection's fd; fsync on any fd flushes the file.
      multiConn: true,
      readOnly,
    };
  }

  /** Opens a regular file (O_RDWR unless readOnly). */
  static async open(
    path: string,
    opts: { readOnly?: boolean; description?: string } = {},
  ): Promise<FileBackend> {
    const fd = await openP(path, opts.readOnly ? constants.O_RDONLY : constants.O_RDWR);
    return FileBackend.fromFd(fd, opts.readOnly ?? false, opts.description ?? path);
  }

  /** Takes ownership of an open fd. */
  static async fromFd(fd: number, readOnly: boolean, description: string): Promise<FileBackend> {
    try {
      const st = await fstatP(fd);
      if (!st.isFile()) throw new NbdError('EINVAL', `${description} is not a regular file`);
      return new FileBackend(fd, st.size, description, readOnly);
    } catch (err) {
      await closeP(fd).catch(() => undefined);
      throw err;
    }
  }

  async pread(buf: Buffer, offset: number, opts: SignalOptions = {}): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      checkSignal(opts.signal);
      const n = await preadv(this.fd, [buf.subarray(done)], offset + done);
      if (n === 0) {
        buf.fill(0, done);
        return;
      }
      done += n;
    }
  }

  async pwrite(buffers: readonly Buffer[], offset: number, opts: WriteOptions = {}): Promise<void> {
    let position = offset;
    let pending = buffers.filter((b) => b.length > 0);
    while (pending.length > 0) {
      checkSignal(opts.signal);
      const batch = pending.slice(0, IOV_MAX);
      let n = await pwritev(this.fd, batch, position);
      position += n;
      // Drop what was written; a short write continues mid-buffer.
      let i = 0;
      while (i < batch.length && n >= batch[i]!.length) n -= batch[i++]!.length;
      const rest = pending.slice(i);
      if (n > 0) rest[0] = rest[0]!.subarray(n);
      pending = rest;
    }
    if (opts.fua) await this.datasync();
  }

  async flush(): Promise<void> {
    this.syncs.fsync += 1;
    await fsyncP(this.fd);
  }

  private async datasync(): Promise<void> {
    this.syncs.fdatasync += 1;
    await fdatasyncP(this.fd);
  }

  async trim(offset: number, length: number, opts: WriteOptions = {}): Promise<void> {
    if (length === 0) return;
    try {
      await fallocate(this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length);
    } catch (err) {
      // TRIM is advisory: a filesystem that cannot punch simply keeps the data.
      if (!unsupported(err)) throw err;
    }
    if (opts.fua) await this.datasync();
  }

  async zero(offset: number, length: number, opts: ZeroOptions = {}): Promise<void> {
    if (length === 0) return;
    const modes = opts.noHole
      ? [FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE]
      : [FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE];
    let done = false;
    for (const mode of modes) {
      try {
        await fallocate(this.fd, mode, offset, length);
        done = true;
        break;
      } catch (err) {
        if (!unsupported(err)) throw err;
      }
    }
    if (!done) {
      if (opts.fastZero) throw new NbdError('ENOTSUP', 'the filesystem cannot zero quickly');
      const zeros = Buffer.alloc(Math.min(length, ZERO_SLICE));
      for (let at = 0; at < length; at += zeros.length) {
        const n = Math.min(zeros.length, length - at);
        await this.pwrite([zeros.subarray(0, n)], offset + at, { signal: opts.signal });
      }
    }
    if (opts.fua) await this.datasync();
  }

  async blockStatus(offset: number, length: number, opts: SignalOptions = {}): Promise<Extent[]> {
    const end = Math.min(offset + length, this.size);
    const out: Extent[] = [];
    let at = offset;
    for (let probes = 0; at < end && probes < MAX_EXTENT_PROBES; probes++) {
      checkSignal(opts.signal);
      let data: number;
      try {
        data = await lseek(this.fd, at, SEEK_DATA);
      } catch (err) {
        if (!isSysError(err, 'ENXIO')) throw err;
        data = end; // no data at or after `at`: a hole to the end
      }
      if (data > at) {
        const stop = Math.min(data, end);
        out.push({ length: stop - at, hole: true, zero: true });
        at = stop;
        continue;
      }
      let hole: number;
      try {
        hole = await lseek(this.fd, at, SEEK_HOLE);
      } catch (err) {
        if (!isSysError(err, 'ENXIO')) throw err;
        hole = end;
      }
      const stop = Math.min(Math.max(hole, at + 1), end);
      out.push({ length: stop - at, hole: false, zero: false });
      at = stop;
    }
    if (out.length === 0) out.push({ length: end - offset, hole: false, zero: false });
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await closeP(this.fd);
  }
}

export interface FileProviderOptions {
  /** Export name → file path. */
  exports?: Record<string, string>;
  /**
   * A directory whose regular files are exports by their relative path ('vms/a.img');
   * names are resolved beneath it (openat2 RESOLVE_BENEATH, no symlinks out, no '..').
   */
  root?: string;
  /** The export '' stands for. */
  defaultExport?: string;
  /** Open every export read-only. */
  readOnly?: boolean;
  /** Called with each backend opened (tests watch flush/FUA through it). */
  onOpen?: (name: string, backend: FileBackend) => void;
}

/** Resolves export names to local files. */
export class FileProvider implements ExportProvider {
  private rootFd: Promise<number> | undefined;

  constructor(private readonly options: FileProviderOptions) {}

  async list(): Promise<ExportEntry[]> {
    return Object.keys(this.options.exports ?? {}).map((name) => ({ name }));
  }

  private resolveName(name: string): string {
    return name === '' && this.options.defaultExport !== undefined ? this.options.defaultExport : name;
  }

  async exists(name: string): Promise<boolean> {
    const real = this.resolveName(name);
    try {
      const mapped = this.options.exports?.[real];
      if (mapped !== undefined) return (await statP(mapped)).isFile();
      if (this.options.root === undefined || real === '') return false;
      this.rootFd ??= openDirectory(this.options.root);
      // O_PATH: resolves the name beneath the root without opening the file for IO.
      await closeP(await openBeneath(await this.rootFd, real, O_PATH));
      return true;
    } catch {
      return false;
    }
  }

  async open(name: string, opts: OpenOptions = {}): Promise<FileBackend | null> {
    const real = this.resolveName(name);
    const readOnly = (this.options.readOnly ?? false) || (opts.readOnly ?? false);
    const mapped = this.options.exports?.[real];
    let fd: number;
    try {
      if (mapped !== undefined) {
        fd = await openP(mapped, readOnly ? constants.O_RDONLY : constants.O_RDWR);
      } else if (this.options.root !== undefined && real !== '') {
        this.rootFd ??= openDirectory(this.options.root);
        fd = await openBeneath(await this.rootFd, real, readOnly ? constants.O_RDONLY : constants.O_RDWR);
      } else {
        return null;
      }
    } catch (err) {
      if (isSysError(err) || (err as { code?: unknown }).code !== undefined) {
        const code = (err as { code: string }).code;
        if (['ENOENT', 'ENOTDIR', 'EXDEV', 'ELOOP', 'EISDIR'].includes(code)) return null;
      }
      throw err;
    }
    const backend = await FileBackend.fromFd(fd, readOnly, real);
    this.options.onOpen?.(name, backend);
    return backend;
  }

  /** Releases the root directory fd. */
  async close(): Promise<void> {
    if (this.rootFd) await closeP(await this.rootFd).catch(() => undefined);
    this.rootFd = undefined;
  }
}
