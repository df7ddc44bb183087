/**
 * The transmission phase of one connection: requests are framed from the Inbox, checked,
 * run against the backend concurrently and answered in completion order. Reading pauses
 * while `maxInFlight` requests or `maxInFlightBytes` of READ/WRITE data are outstanding, or
 * while the socket's write side waits for 'drain', so neither work nor replies queue
 * without bound. WRITE data reaches the backend as views of the received chunks.
 */
import { GlusterTsError, errnoName } from '../errors/index.js';
import type { ExportBackend, Extent } from './backend.js';
import type { Channel } from './channel.js';
import type { Negotiated } from './handshake.js';
import {
  CMD,
  CMD_FLAG,
  NBD_ERRNO,
  REQUEST_MAGIC,
  REQUEST_SIZE,
  STATE_HOLE,
  STATE_ZERO,
  TFLAG,
  BASE_ALLOCATION_ID,
  nbdErrno,
} from './protocol.js';
import {
  blockStatusReply,
  offsetDataHeader,
  simpleReply,
  structuredDone,
  structuredError,
} from './replies.js';

export interface TransmissionLimits {
  /** Largest READ or WRITE (advertised as the maximum block size). */
  maxPayload: number;
  maxInFlight: number;
  maxInFlightBytes: number;
  /** Most extents in one BLOCK_STATUS reply. */
  maxExtents: number;
}

interface Request {
  flags: number;
  type: number;
  handle: bigint;
  offset: bigint;
  length: number;
}

/** What each command accepts besides FUA (which is harmless everywhere, as in qemu-nbd). */
const ALLOWED_FLAGS: Record<number, number> = {
  [CMD.READ]: CMD_FLAG.FUA | CMD_FLAG.DF,
  [CMD.WRITE]: CMD_FLAG.FUA,
  [CMD.DISC]: CMD_FLAG.FUA,
  [CMD.FLUSH]: CMD_FLAG.FUA,
  [CMD.TRIM]: CMD_FLAG.FUA,
  [CMD.CACHE]: CMD_FLAG.FUA,
  [CMD.WRITE_ZEROES]: CMD_FLAG.FUA | CMD_FLAG.NO_HOLE | CMD_FLAG.FAST_ZERO,
  [CMD.BLOCK_STATUS]: CMD_FLAG.FUA | CMD_FLAG.REQ_ONE,
};

/** CACHE emulation reads in slices of this size. */
const CACHE_SLICE = 4 * 1024 * 1024;

/** A request's failure as the client will see it: an NBD error value (a Linux errno). */
export class RequestError extends GlusterTsError {
  static readonly codes: readonly string[] = Object.values(NBD_ERRNO).map(errnoName);
  constructor(errno: number, message: string) {
    super(errnoName(errno), errno, message);
  }
}

export class Transmission {
  private readonly backend: ExportBackend;
  private readonly size: bigint;
  private phase: 'header' | 'payload' | 'skip' = 'header';
  private pending: Request | undefined;
  private skipLeft = 0;
  private inFlight = 0;
  private inFlightBytes = 0;
  private writeBlocked = false;
  private reading = true;
  /** No more requests are read (DISC, bad magic, shutdown); close once in-flight is 0. */
  private stopping = false;
  private readonly abort = new AbortController();
  private finished = false;
  private ended = false;
  private resolveDone!: () => void;
  /** Settles when the connection has been answered out and ended. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    private readonly ch: Channel,
    private readonly neg: Negotiated,
    private readonly limits: TransmissionLimits,
    private readonly log: (message: string) => void,
  ) {
    this.backend = neg.backend;
    this.size = BigInt(neg.backend.size);
    ch.onClose(() => {
      this.abort.abort(new Error('connection closed'));
      this.finish();
    });
  }

  start(): void {
    this.ch.onBytes = () => this.pump();
    this.ch.onDrain = () => {
      this.writeBlocked = false;
      this.pump();
    };
    this.pump();
  }

  /** Stops reading requests; the connection ends once those in flight are answered. */
  stop(): void {
    this.stopping = true;
    this.pump();
  }

  get active(): number {
    return this.inFlight;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveDone();
  }

  private pump(): void {
    const inbox = this.ch.inbox;
    while (!this.stopping && !this.ch.closed && !this.mustPause()) {
      if (this.phase === 'header') {
        if (inbox.available < REQUEST_SIZE) break;
        this.onHeader(inbox.take(REQUEST_SIZE));
      } else if (this.phase === 'payload') {
        const req = this.pending!;
        if (inbox.available < req.length) break;
        this.phase = 'header';
        this.pending = undefined;
        this.run(req, inbox.takeViews(req.length));
      } else {
        this.skipLeft -= inbox.skip(this.skipLeft);
        if (this.skipLeft > 0) break;
        this.phase = 'header';
        const req = this.pending!;
        this.pending = undefined;
        this.reply(req, this.invalid(req) ?? new RequestError(NBD_ERRNO.EINVAL, 'bad request'));
      }
    }
    this.updateFlow();
  }

  private mustPause(): boolean {
    return (
      this.inFlight >= this.limits.maxInFlight ||
      this.inFlightBytes >= this.limits.maxInFlightBytes ||
      this.writeBlocked
    );
  }

  private updateFlow(): void {
    if (this.ch.closed) return;
    if (this.stopping) {
      if (this.reading) {
        this.reading = false;
        this.ch.setReading(false);
      }
      if (this.inFlight === 0 && !this.ended) {
        this.ended = true;
        this.ch.end();
      }
      return;
    }
    const want = !this.mustPause();
    if (want !== this.reading) {
      this.reading = want;
      this.ch.setReading(want);
    }
  }

  private onHeader(h: Buffer): void {
    const req: Request = {
      flags: h.readUInt16BE(4),
      type: h.readUInt16BE(6),
      handle: h.readBigUInt64BE(8),
      offset: h.readBigUInt64BE(16),
      length: h.readUInt32BE(24),
    };
    if (h.readUInt32BE(0) !== REQUEST_MAGIC) {
      // The stream cannot be trusted any further: answer, then disconnect (qemu-nbd).
      this.reply(req, new RequestError(NBD_ERRNO.EINVAL, 'bad request magic'));
      this.stopping = true;
      return;
    }
    if (req.type === CMD.DISC) {
      this.stopping = true;
      return;
    }
    if (req.type === CMD.WRITE) {
      this.pending = req;
      if (req.length > this.limits.maxPayload || this.invalid(req)) {
        // The data has to be read past before the next request; it is dropped unbuffered.
        this.phase = 'skip';
        this.skipLeft = req.length;
      } else {
        this.phase = 'payload';
      }
      return;
    }
    const bad = this.invalid(req);
    if (bad) this.reply(req, bad);
    else this.run(req, undefined);
  }

  /** The reason to refuse a request, or undefined. */
  private invalid(req: Request): RequestError | undefined {
    const einval = (m: string): RequestError => new RequestError(NBD_ERRNO.EINVAL, m);
    const allowed = ALLOWED_FLAGS[req.type];
    if (allowed === undefined) return einval(`unknown command ${req.type}`);
    if (req.flags & ~allowed) return einval(`unsupported flags 0x${req.flags.toString(16)}`);
    const f = this.neg.flags;
    const writes = req.type === CMD.WRITE || req.type === CMD.TRIM || req.type === CMD.WRITE_ZEROES;
    if (writes && f & TFLAG.READ_ONLY) return new RequestError(NBD_ERRNO.EPERM, 'export is read-only');
    if (req.type === CMD.TRIM && !(f & TFLAG.SEND_TRIM)) return einval('TRIM not negotiated');
    if (req.type === CMD.WRITE_ZEROES && !(f & TFLAG.SEND_WRITE_ZEROES))
      return einval('WRITE_ZEROES not negotiated');
    if (req.type === CMD.CACHE && !(f & TFLAG.SEND_CACHE)) return einval('CACHE not negotiated');
    if (req.type === CMD.BLOCK_STATUS) {
      if (!this.neg.baseAllocation) return einval('no metadata context selected');
      if (req.length === 0) return einval('BLOCK_STATUS of length 0');
    }
    if ((req.type === CMD.READ || req.type === CMD.WRITE) && req.length > this.limits.maxPayload) {
      return einval(`length ${req.length} exceeds ${this.limits.maxPayload}`);
    }
    if (req.type !== CMD.FLUSH && req.offset + BigInt(req.length) > this.size) {
      return einval(`range ${req.offset}+${req.length} beyond the export size ${this.size}`);
    }
    return undefined;
  }

  /** Runs a checked request; the reply goes out when it completes. */
  private run(req: Request, data: Buffer[] | undefined): void {
    const bytes = req.type === CMD.READ || req.type === CMD.WRITE ? req.length : 0;
    this.inFlight += 1;
    this.inFlightBytes += bytes;
    this.execute(req, data).then(
      (ok) => this.complete(req, bytes, ok),
      (err: unknown) => this.complete(req, bytes, this.asRequestError(req, err)),
    );
  }

  private asRequestError(req: Request, err: unknown): RequestError {
    if (err instanceof RequestError) return err;
    const code = (err as { code?: unknown })?.code;
    const message = (err as { message?: unknown })?.message;
    if (!this.ch.closed)
      this.log(`command ${req.type} at ${req.offset}+${req.length}: ${String(message ?? err)}`);
    return new RequestError(nbdErrno(code), String(message ?? code ?? 'I/O error'));
  }

  private complete(req: Request, bytes: number, result: Reply): void {
    this.inFlight -= 1;
    this.inFlightBytes -= bytes;
    this.reply(req, result);
    this.pump();
  }

  private async execute(req: Request, data: Buffer[] | undefined): Promise<Reply> {
    const b = this.backend;
    const caps = b.capabilities;
    const signal = this.abort.signal;
    const offset = Number(req.offset);
    const fua = (req.flags & CMD_FLAG.FUA) !== 0;
    // FUA is passed down when the backend has it; otherwise a flush after does the same.
    const nativeFua = fua && caps.fua;
    const flushAfter = fua && !caps.fua && caps.flush;
    switch (req.type) {
      case CMD.READ: {
        if (req.length === 0) return { data: Buffer.alloc(0), offset };
        if (b.read) return { data: await b.read(offset, req.length, { signal }), offset };
        const buf = Buffer.allocUnsafe(req.length);
        await b.pread(buf, offset, { signal });
        return { data: buf, offset };
      }
      case CMD.WRITE:
        await b.pwrite(data ?? [], offset, { fua: nativeFua, signal });
        break;
      case CMD.FLUSH:
        if (caps.flush) await b.flush({ signal });
        return null;
      case CMD.TRIM:
        await b.trim(offset, req.length, { fua: nativeFua, signal });
        break;
      case CMD.WRITE_ZEROES: {
        const fastZero = (req.flags & CMD_FLAG.FAST_ZERO) !== 0;
        if (fastZero && !caps.fastZero)
          throw new RequestError(NBD_ERRNO.ENOTSUP, 'fast zeroing is not available');
        const noHole = (req.flags & CMD_FLAG.NO_HOLE) !== 0;
        await b.zero(offset, req.length, { fua: nativeFua, noHole, fastZero, signal });
        break;
      }
      case CMD.CACHE:
        await this.cache(offset, req.length, signal);
        return null;
      case CMD.BLOCK_STATUS:
        return { extents: this.clipExtents(await b.blockStatus(offset, req.length, { signal }), req) };
    }
    if (flushAfter) await b.flush({ signal });
    return null;
  }

  private async cache(offset: number, length: number, signal: AbortSignal): Promise<void> {
    if (this.backend.cache) return this.backend.cache(offset, length, { signal });
    const scratch = Buffer.allocUnsafe(Math.min(length, CACHE_SLICE));
    for (let at = 0; at < length; at += scratch.length) {
      const n = Math.min(scratch.length, length - at);
      await this.backend.pread(scratch.subarray(0, n), offset + at, { signal });
    }
  }

  /** Extents as the wire wants them: within the request, nonempty, bounded in number. */
  private clipExtents(extents: readonly Extent[], req: Request): { length: number; flags: number }[] {
    const out: { length: number; flags: number }[] = [];
    const max = req.flags & CMD_FLAG.REQ_ONE ? 1 : this.limits.maxExtents;
    let left = req.length;
    for (const e of extents) {
      if (left === 0 || out.length === max) break;
      const length = Math.min(e.length, left);
      if (!(length > 0)) continue;
      const flags = (e.hole ? STATE_HOLE : 0) | (e.zero ? STATE_ZERO : 0);
      const last = out[out.length - 1];
      if (last && last.flags === flags) last.length += length;
      else out.push({ length, flags });
      left -= length;
    }
    if (out.length === 0) throw new RequestError(NBD_ERRNO.EIO, 'backend reported no extents');
    return out;
  }

  private reply(req: Request, result: Reply): void {
    if (this.ch.closed) return;
    const structured = this.neg.structured;
    let ok: boolean;
    if (result instanceof RequestError) {
      this.log(`command ${req.type} at ${req.offset}+${req.length}: ${result.message}`);
      ok = this.ch.write(
        structured
          ? structuredError(req.handle, result.errno, result.message)
          : simpleReply(req.handle, result.errno),
      );
    } else if (result === null) {
      ok = this.ch.write(simpleReply(req.handle, 0));
    } else if ('data' in result) {
      if (structured) {
        ok =
          result.data.length === 0
            ? this.ch.write(structuredDone(req.handle))
            : this.ch.write(
                offsetDataHeader(req.handle, result.offset, result.data.length, true),
                result.data,
              );
      } else {
        ok = this.ch.write(simpleReply(req.handle, 0), result.data);
      }
    } else {
      ok = this.ch.write(blockStatusReply(req.handle, BASE_ALLOCATION_ID, result.extents));
    }
    if (!ok) this.writeBlocked = true;
  }
}

type Reply =
  null | RequestError | { data: Buffer; offset: number } | { extents: { length: number; flags: number }[] };
