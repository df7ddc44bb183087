/**
 * What the NBD server serves: an ExportBackend is one open export (a disk image), an
 * ExportProvider resolves export names to backends. The server opens a backend only once a
 * client has finished choosing it (NBD_OPT_GO / EXPORT_NAME, or briefly for NBD_OPT_INFO),
 * never while it is still negotiating (the CVE-2019-14850 class).
 *
 * Capabilities are asked once, when the backend is opened, and become the export's
 * transmission flags (nbdkit's can_* model): the server never calls a method whose
 * capability is false, and emulates CACHE by reading when `cache` is true but the method is
 * missing.
 *
 * Errors: a backend rejects with an error whose `code` is a POSIX errno name ('ENOSPC',
 * 'EIO', …); the server folds it into the NBD error set (protocol.ts nbdErrno).
 */
import { Errno, GlusterTsError, type ErrnoName } from '../errors/index.js';

export interface Capabilities {
  /** FLUSH is meaningful (the backend has a write cache to flush). */
  flush: boolean;
  /** FUA writes are honoured natively (else the server advertises no FUA). */
  fua: boolean;
  trim: boolean;
  zero: boolean;
  /** WRITE_ZEROES with FAST_ZERO can be faster than writing; when false it fails ENOTSUP. */
  fastZero: boolean;
  /** blockStatus() reports holes and zeros (base:allocation). */
  blockStatus: boolean;
  cache: boolean;
  /** Flush and FUA on one connection are visible on every other (NBD_FLAG_CAN_MULTI_CONN). */
  multiConn: boolean;
  readOnly: boolean;
}

export interface SignalOptions {
  signal?: AbortSignal;
}

export interface WriteOptions extends SignalOptions {
  /** Stable before the promise resolves. */
  fua?: boolean;
}

export interface ZeroOptions extends WriteOptions {
  /** The range must stay allocated (no punching). */
  noHole?: boolean;
  /** Fail with ENOTSUP rather than fall back to something slower than a write. */
  fastZero?: boolean;
}

/** One run of base:allocation status. */
export interface Extent {
  length: number;
  /** Not allocated (NBD_STATE_HOLE). */
  hole: boolean;
  /** Reads as zeros (NBD_STATE_ZERO). */
  zero: boolean;
}

export interface ExportBackend {
  /** Size in bytes, fixed for the life of the connection. */
  readonly size: number;
  readonly capabilities: Capabilities;
  /** Free text for NBD_INFO_DESCRIPTION. */
  readonly description?: string;
  /** Fills all of `buf` from `offset` (zeros past the end of the data). */
  pread(buf: Buffer, offset: number, opts?: SignalOptions): Promise<void>;
  /**
   * `length` bytes from `offset` (zeros past the end of the data) in a buffer the backend
   * made, when it has one anyway (a READ reply): the server sends it without copying.
   */
  read?(offset: number, length: number, opts?: SignalOptions): Promise<Buffer>;
  /** Writes the buffers back to back at `offset`, all of them. */
  pwrite(buffers: readonly Buffer[], offset: number, opts?: WriteOptions): Promise<void>;
  /** Everything acknowledged before is on stable storage when it resolves. */
  flush(opts?: SignalOptions): Promise<void>;
  trim(offset: number, length: number, opts?: WriteOptions): Promise<void>;
  zero(offset: number, length: number, opts?: ZeroOptions): Promise<void>;
  /**
   * The allocation status of [offset, offset + length): consecutive extents starting at
   * `offset`; they may cover less than asked (at least one byte), never more.
   */
  blockStatus(offset: number, length: number, opts?: SignalOptions): Promise<Extent[]>;
  /** Prefetch; optional even when capabilities.cache (the server then reads and drops). */
  cache?(offset: number, length: number, opts?: SignalOptions): Promise<void>;
  close(): Promise<void>;
}

export interface ExportEntry {
  name: string;
  description?: string;
}

export interface OpenOptions extends SignalOptions {
  /** The server is read-only: open without write access. */
  readOnly?: boolean;
}

export interface ExportProvider {
  /** The exports NBD_OPT_LIST announces (may be a subset of what open() accepts). */
  list(opts?: SignalOptions): Promise<ExportEntry[]>;
  /** Whether `name` names an export, without opening it (SET_META_CONTEXT checks). */
  exists(name: string, opts?: SignalOptions): Promise<boolean>;
  /** Opens the export, or resolves null when there is no such export. '' is the default. */
  open(name: string, opts?: OpenOptions): Promise<ExportBackend | null>;
}

/** An error with an errno name, for backends and the server's own refusals. */
export class NbdError extends GlusterTsError {
  /** Its code is the errno name; the client gets it folded into NBD's errors by nbdErrno. */
  static readonly codes: readonly string[] = Object.keys(Errno);
  constructor(code: ErrnoName, message: string) {
    super(code, Errno[code], `${code}: ${message}`);
  }
}
