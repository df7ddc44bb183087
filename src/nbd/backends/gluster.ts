/**
 * glusterts volume images as NBD exports, through the client library (the libgfapi role).
 * Export names are `volume/path/in/volume` ('vms/a.qcow2' on volume 'vms' is
 * 'vms/a.qcow2' when the volume is called 'vms' and the image sits at '/a.qcow2'). The
 * file is opened only when a client picks the export, one File per NBD connection.
 *
 * Mapping: READ → File.pread (the reply's bytes are sent as they are), WRITE → pwritev (+ fdatasync for FUA), FLUSH → fsync,
 * TRIM → discard, WRITE_ZEROES → discard (may punch) or zerofill (NO_HOLE),
 * base:allocation → lseek SEEK_DATA / SEEK_HOLE (with shard's extents key: docs/shard.md).
 */
import type { File, Volume } from '../../client/index.js';
import { intValue } from '../../protocol/dict.js';
import { SEEK_ACROSS_SHARDS } from '../../xlators/shard/index.js';
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

const MAX_EXTENT_PROBES = 64;
const SEEK_EXTENTS = new Map([[SEEK_ACROSS_SHARDS, intValue(1)]]);

function code(err: unknown): unknown {
  return (err as { code?: unknown })?.code;
}

function unsupported(err: unknown): boolean {
  const c = code(err);
  return c === 'EOPNOTSUPP' || c === 'ENOTSUP' || c === 'ENOSYS';
}

export class GlusterBackend implements ExportBackend {
  readonly capabilities: Capabilities;
  private seekWorks = true;

  constructor(
    private readonly file: File,
    readonly size: number,
    readonly description: string,
    readOnly: boolean,
    multiConn: boolean,
  ) {
    this.capabilities = {
      flush: true,
      fua: true,
      trim: true,
      zero: true,
      // zerofill may write zeros on the brick: not reliably faster than a write.
      fastZero: false,
      blockStatus: true,
      cache: true,
      multiConn,
      readOnly,
    };
  }

  async pread(buf: Buffer, offset: number, opts: SignalOptions = {}): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const n = await this.file.preadv([buf.subarray(done)], offset + done, opts);
      if (n <= 0) {
        buf.fill(0, done);
        return;
      }
      done += n;
    }
  }

  /** One READ whose reply is sent as it is; a short read (end of file) is completed in a copy. */
  async read(offset: number, length: number, opts: SignalOptions = {}): Promise<Buffer> {
    const data = await this.file.pread(length, offset, opts);
    if (data.length >= length) return data.subarray(0, length);
    const buf = Buffer.allocUnsafe(length);
    data.copy(buf);
    if (data.length === 0) buf.fill(0);
    else await this.pread(buf.subarray(data.length), offset + data.length, opts);
    return buf;
  }

  async pwrite(buffers: readonly Buffer[], offset: number, opts: WriteOptions = {}): Promise<void> {
    const total = buffers.reduce((n, b) => n + b.length, 0);
    const n = await this.file.pwritev(buffers, offset, { signal: opts.signal });
    if (n !== total) throw new NbdError('EIO', `short write: ${n} of ${total} bytes`);
    if (opts.fua) await this.file.fdatasync({ signal: opts.signal });
  }

  async flush(opts: SignalOptions = {}): Promise<void> {
    await this.file.fsync(opts);
  }

  async trim(offset: number, length: number, opts: WriteOptions = {}): Promise<void> {
    if (length === 0) return;
    try {
      await this.file.discard(offset, length, { signal: opts.signal });
    } catch (err) {
      if (!unsupported(err)) throw err;
    }
    if (opts.fua) await this.file.fdatasync({ signal: opts.signal });
  }

  async zero(offset: number, length: number, opts: ZeroOptions = {}): Promise<void> {
    if (length === 0) return;
    if (opts.fastZero) throw new NbdError('ENOTSUP', 'fast zeroing is not available');
    let done = false;
    if (!opts.noHole) {
      try {
        await this.file.discard(offset, length, { signal: opts.signal });
        done = true;
      } catch (err) {
        if (!unsupported(err)) throw err;
      }
    }
    if (!done) await this.file.zerofill(offset, length, { signal: opts.signal });
    if (opts.fua) await this.file.fdatasync({ signal: opts.signal });
  }

  async blockStatus(offset: number, length: number, opts: SignalOptions = {}): Promise<Extent[]> {
    const end = Math.min(offset + length, this.size);
    if (!this.seekWorks) return [{ length: end - offset, hole: false, zero: false }];
    const out: Extent[] = [];
    let at = offset;
    try {
      for (let probes = 0; at < end && probes < MAX_EXTENT_PROBES; probes++) {
        const data = await this.seek(at, 'DATA', end, opts);
        if (data > at) {
          const stop = Math.min(data, end);
          out.push({ length: stop - at, hole: true, zero: true });
          at = stop;
          continue;
        }
        const hole = await this.seek(at, 'HOLE', end, opts);
        const stop = Math.min(Math.max(hole, at + 1), end);
        out.push({ length: stop - at, hole: false, zero: false });
        at = stop;
      }
    } catch (err) {
      if (!unsupported(err) && code(err) !== 'EINVAL') throw err;
      this.seekWorks = false; // the volume cannot SEEK: everything is data
      return [{ length: end - offset, hole: false, zero: false }];
    }
    return out;
  }

  private async seek(at: number, whence: 'DATA' | 'HOLE', end: number, opts: SignalOptions): Promise<number> {
    try {
      // On a sharded volume, features/shard answers SEEK only when asked for extents
      // across shards (stock's answers ENOTSUP to everyone): docs/shard.md.
      return await this.file.lseek(at, whence, { ...opts, xdata: SEEK_EXTENTS });
    } catch (err) {
      if (code(err) === 'ENXIO') return end;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }
}

export interface GlusterProviderOptions {
  /** Connected volumes by name; the first path segment of an export name picks one. */
  volumes: ReadonlyMap<string, Volume> | ((name: string) => Promise<Volume | null>);
  /** Export names NBD_OPT_LIST announces ('vms/a.qcow2'); default none. */
  listed?: readonly string[];
  /** The export '' stands for. */
  defaultExport?: string;
  /** Serve every export read-only. */
  readOnly?: boolean;
  /**
   * Advertise NBD_FLAG_CAN_MULTI_CONN. True by default: the client stack keeps no write
   * cache, and a brick's fsync flushes the whole file whatever fd it comes through.
   */
  multiConn?: boolean;
}

/** Resolves 'volume/path' export names to files on glusterts volumes. */
export class GlusterProvider implements ExportProvider {
  constructor(private readonly options: GlusterProviderOptions) {}

  async list(): Promise<ExportEntry[]> {
    return (this.options.listed ?? []).map((name) => ({ name }));
  }

  /** The volume and in-volume path for an export name, or null when malformed. */
  private async resolve(name: string): Promise<{ volume: Volume; path: string } | null> {
    const real = name === '' ? (this.options.defaultExport ?? '') : name;
    const slash = real.indexOf('/');
    if (slash <= 0 || slash === real.length - 1) return null;
    const segments = real.slice(slash + 1).split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..')) return null;
    const volumeName = real.slice(0, slash);
    const v = this.options.volumes;
    const volume = typeof v === 'function' ? await v(volumeName) : (v.get(volumeName) ?? null);
    return volume ? { volume, path: '/' + segments.join('/') } : null;
  }

  async exists(name: string, opts: SignalOptions = {}): Promise<boolean> {
    const r = await this.resolve(name);
    if (!r) return false;
    try {
      return (await r.volume.stat(r.path, opts)).isFile();
    } catch {
      return false;
    }
  }

  async open(name: string, opts: OpenOptions = {}): Promise<GlusterBackend | null> {
    const r = await this.resolve(name);
    if (!r) return null;
    const readOnly = (this.options.readOnly ?? false) || (opts.readOnly ?? false);
    let file: File;
    try {
      file = await r.volume.open(r.path, readOnly ? 'r' : 'r+', { signal: opts.signal });
    } catch (err) {
      if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(String(code(err)))) return null;
      throw err;
    }
    try {
      const st = await file.fstat({ signal: opts.signal });
      if (!st.isFile()) throw new NbdError('EINVAL', `${name} is not a regular file`);
      return new GlusterBackend(file, st.size, name, readOnly, this.options.multiConn ?? true);
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
  }
}
