/**
 * Fixed newstyle negotiation: the greeting, client flags, then option haggling until the
 * client picks an export (GO or EXPORT_NAME) or leaves. Every option payload is bounded
 * before it is buffered; options between the buffer bound and the skip bound are read and
 * thrown away and answered ERR_INVALID, longer ones end the connection (as qemu-nbd). The
 * backend is opened only for INFO and GO/EXPORT_NAME, i.e. once the client has named it.
 */
import { Errno, GlusterTsError } from '../errors/index.js';
import type { Capabilities, ExportBackend, ExportProvider } from './backend.js';
import type { Channel, TlsSettings } from './channel.js';
import {
  BASE_ALLOCATION,
  BASE_ALLOCATION_ID,
  FLAG_C_FIXED_NEWSTYLE,
  FLAG_C_NO_ZEROES,
  FLAG_FIXED_NEWSTYLE,
  FLAG_NO_ZEROES,
  IHAVEOPT,
  INFO,
  MAX_STRING,
  NBDMAGIC,
  OPT,
  OPTION_HEADER_SIZE,
  REP,
  TFLAG,
} from './protocol.js';
import { lengthPrefixed, optionReply } from './replies.js';
import { WireError, WireReader } from './wire.js';

export interface HandshakeLimits {
  /** Largest option payload that is buffered and parsed. */
  maxOptionLength: number;
  /** Largest option payload that is skipped (answered ERR_INVALID) rather than fatal. */
  maxOptionSkip: number;
  minBlockSize: number;
  preferredBlockSize: number;
  maxPayload: number;
}

export interface HandshakeContext {
  provider: ExportProvider;
  tls: TlsSettings | undefined;
  requireTls: boolean;
  readOnly: boolean;
  limits: HandshakeLimits;
  /** True once the server is closing: options get ERR_SHUTDOWN. */
  shuttingDown: () => boolean;
  signal: AbortSignal;
  log: (message: string) => void;
}

export interface Negotiated {
  name: string;
  backend: ExportBackend;
  structured: boolean;
  /** base:allocation was selected for this export. */
  baseAllocation: boolean;
  flags: number;
}

/** Ends the negotiation with a hard disconnect. */
export class HandshakeAbort extends GlusterTsError {
  static readonly codes = ['NBD_HANDSHAKE_ABORTED'] as const;
  constructor(message: string) {
    super('NBD_HANDSHAKE_ABORTED', Errno.ECONNABORTED, message);
  }
}

/** The transmission flags for a backend's capabilities. */
export function transmissionFlags(caps: Capabilities, structured: boolean, serverReadOnly: boolean): number {
  const ro = caps.readOnly || serverReadOnly;
  let f = TFLAG.HAS_FLAGS;
  if (ro) f |= TFLAG.READ_ONLY;
  if (caps.flush) f |= TFLAG.SEND_FLUSH;
  // FUA is emulated with a flush after the write when the backend has no native FUA.
  if ((caps.fua || caps.flush) && !ro) f |= TFLAG.SEND_FUA;
  if (caps.trim && !ro) f |= TFLAG.SEND_TRIM;
  if (caps.zero && !ro) f |= TFLAG.SEND_WRITE_ZEROES | TFLAG.SEND_FAST_ZERO;
  if (structured) f |= TFLAG.SEND_DF;
  if (caps.multiConn) f |= TFLAG.CAN_MULTI_CONN;
  if (caps.cache) f |= TFLAG.SEND_CACHE;
  return f;
}

interface State {
  fixed: boolean;
  noZeroes: boolean;
  structured: boolean;
  /** The export the last SET_META_CONTEXT was for, and whether it selected base:allocation. */
  metaExport: string | undefined;
  metaBase: boolean;
}

/**
 * Runs the handshake; resolves with the chosen export, or null when the client aborted.
 * Rejects (the caller drops the connection) on protocol violations and closed sockets.
 */
export async function negotiate(ch: Channel, ctx: HandshakeContext): Promise<Negotiated | null> {
  const hello = Buffer.allocUnsafe(18);
  hello.writeBigUInt64BE(NBDMAGIC, 0);
  hello.writeBigUInt64BE(IHAVEOPT, 8);
  hello.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16);
  ch.write(hello);

  const clientFlags = (await ch.read(4)).readUInt32BE(0);
  if (clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) {
    throw new HandshakeAbort(`unknown client flags 0x${clientFlags.toString(16)}`);
  }
  const st: State = {
    fixed: (clientFlags & FLAG_C_FIXED_NEWSTYLE) !== 0,
    noZeroes: (clientFlags & FLAG_C_NO_ZEROES) !== 0,
    structured: false,
    metaExport: undefined,
    metaBase: false,
  };
  if (ctx.requireTls && !st.fixed)
    throw new HandshakeAbort('TLS required but the client is not fixed newstyle');

  const reply = (option: number, type: number, data?: Buffer): void => {
    ch.write(optionReply(option, type, data));
  };
  const fail = (option: number, type: number, message: string): void => {
    reply(option, type, Buffer.from(message, 'utf8'));
  };

  for (;;) {
    const header = await ch.read(OPTION_HEADER_SIZE);
    if (header.readBigUInt64BE(0) !== IHAVEOPT) throw new HandshakeAbort('bad option magic');
    const option = header.readUInt32BE(8);
    const length = header.readUInt32BE(12);

    if (length > ctx.limits.maxOptionLength) {
      if (option === OPT.EXPORT_NAME || length > ctx.limits.maxOptionSkip) {
        throw new HandshakeAbort(`option ${option} with ${length} bytes of data`);
      }
      await ch.discard(length);
      fail(option, REP.ERR_INVALID, `option data of ${length} bytes is too long`);
      continue;
    }
    const payload = Buffer.from(await ch.read(length));

    if (ctx.requireTls && !ch.tls && option !== OPT.STARTTLS && option !== OPT.ABORT) {
      if (option === OPT.EXPORT_NAME) throw new HandshakeAbort('EXPORT_NAME before TLS');
      fail(option, REP.ERR_TLS_REQD, 'TLS is required');
      continue;
    }
    if (ctx.shuttingDown() && option !== OPT.ABORT) {
      if (option === OPT.EXPORT_NAME) throw new HandshakeAbort('server shutting down');
      fail(option, REP.ERR_SHUTDOWN, 'server is shutting down');
      continue;
    }

    switch (option) {
      case OPT.EXPORT_NAME: {
        if (length > MAX_STRING) throw new HandshakeAbort('export name too long');
        const name = payload.toString('utf8');
        const backend = await openBackend(ctx, name);
        if (!backend) throw new HandshakeAbort(`no export '${name}'`);
        const flags = transmissionFlags(backend.capabilities, st.structured, ctx.readOnly);
        const out = Buffer.alloc(st.noZeroes ? 10 : 134);
        out.writeBigUInt64BE(BigInt(backend.size), 0);
        out.writeUInt16BE(flags, 8);
        ch.write(out);
        return finish(st, name, backend, flags);
      }
      case OPT.ABORT:
        await ch.flushWrite(optionReply(option, REP.ACK));
        return null;
      case OPT.LIST: {
        if (length !== 0) {
          fail(option, REP.ERR_INVALID, 'LIST takes no data');
          break;
        }
        for (const e of await ctx.provider.list({ signal: ctx.signal })) {
          reply(option, REP.SERVER, lengthPrefixed(e.name, e.description));
        }
        reply(option, REP.ACK);
        break;
      }
      case OPT.STARTTLS: {
        if (length !== 0) fail(option, REP.ERR_INVALID, 'STARTTLS takes no data');
        else if (!ctx.tls) fail(option, REP.ERR_POLICY, 'TLS is not configured');
        else if (ch.tls) fail(option, REP.ERR_INVALID, 'TLS is already active');
        else await ch.startTls(optionReply(option, REP.ACK), ctx.tls);
        break;
      }
      case OPT.INFO:
      case OPT.GO: {
        let name: string;
        const wanted = new Set<number>();
        try {
          const r = new WireReader(payload);
          name = r.string(MAX_STRING);
          const n = r.u16();
          for (let i = 0; i < n; i++) wanted.add(r.u16());
          r.finish();
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
          fail(option, REP.ERR_INVALID, `malformed request: ${err.message}`);
          break;
        }
        const backend = await openBackend(ctx, name);
        if (!backend) {
          fail(option, REP.ERR_UNKNOWN, `export '${name}' not present`);
          break;
        }
        const flags = transmissionFlags(backend.capabilities, st.structured, ctx.readOnly);
        sendInfo(ch, option, name, backend, flags, wanted, ctx.limits);
        if (option === OPT.INFO) {
          reply(option, REP.ACK);
          await backend
            .close()
            .catch((err: unknown) => ctx.log(`closing '${name}' after INFO: ${String(err)}`));
          break;
        }
        reply(option, REP.ACK);
        return finish(st, name, backend, flags);
      }
      case OPT.STRUCTURED_REPLY:
        if (length !== 0) fail(option, REP.ERR_INVALID, 'STRUCTURED_REPLY takes no data');
        else if (st.structured) fail(option, REP.ERR_INVALID, 'structured replies already negotiated');
        else {
          st.structured = true;
          reply(option, REP.ACK);
        }
        break;
      case OPT.LIST_META_CONTEXT:
      case OPT.SET_META_CONTEXT:
        await metaContext(ch, ctx, st, option, payload);
        break;
      default:
        fail(option, REP.ERR_UNSUP, `option ${option} is not supported`);
    }
  }
}

function finish(st: State, name: string, backend: ExportBackend, flags: number): Negotiated {
  return {
    name,
    backend,
    structured: st.structured,
    baseAllocation:
      st.structured && st.metaBase && st.metaExport === name && backend.capabilities.blockStatus,
    flags,
  };
}

async function openBackend(ctx: HandshakeContext, name: string): Promise<ExportBackend | null> {
  try {
    const backend = await ctx.provider.open(name, { signal: ctx.signal, readOnly: ctx.readOnly });
    if (backend && ctx.signal.aborted) {
      await backend.close().catch(() => undefined);
      return null;
    }
    return backend;
  } catch (err) {
    ctx.log(`opening export '${name}': ${String(err)}`);
    return null;
  }
}

function sendInfo(
  ch: Channel,
  option: number,
  name: string,
  backend: ExportBackend,
  flags: number,
  wanted: ReadonlySet<number>,
  limits: HandshakeLimits,
): void {
  const exp = Buffer.allocUnsafe(12);
  exp.writeUInt16BE(INFO.EXPORT, 0);
  exp.writeBigUInt64BE(BigInt(backend.size), 2);
  exp.writeUInt16BE(flags, 10);
  ch.write(optionReply(option, REP.INFO, exp));
  if (wanted.has(INFO.NAME)) ch.write(optionReply(option, REP.INFO, infoString(INFO.NAME, name)));
  if (wanted.has(INFO.DESCRIPTION) && backend.description) {
    ch.write(optionReply(option, REP.INFO, infoString(INFO.DESCRIPTION, backend.description)));
  }
  // Always sent: clients that did not ask still learn the limits (qemu-nbd does the same);
  // the minimum of 1 means no alignment is imposed on clients that did not ask.
  const bs = Buffer.allocUnsafe(14);
  bs.writeUInt16BE(INFO.BLOCK_SIZE, 0);
  bs.writeUInt32BE(limits.minBlockSize, 2);
  bs.writeUInt32BE(limits.preferredBlockSize, 6);
  bs.writeUInt32BE(limits.maxPayload, 10);
  ch.write(optionReply(option, REP.INFO, bs));
}

function infoString(type: number, s: string): Buffer {
  const text = Buffer.from(s, 'utf8').subarray(0, MAX_STRING);
  const b = Buffer.allocUnsafe(2 + text.length);
  b.writeUInt16BE(type, 0);
  text.copy(b, 2);
  return b;
}

async function metaContext(
  ch: Channel,
  ctx: HandshakeContext,
  st: State,
  option: number,
  payload: Buffer,
): Promise<void> {
  const fail = (type: number, message: string): void => {
    ch.write(optionReply(option, type, Buffer.from(message, 'utf8')));
  };
  if (!st.structured) return fail(REP.ERR_INVALID, 'structured replies must be negotiated first');
  let name: string;
  const queries: string[] = [];
  try {
    const r = new WireReader(payload);
    name = r.string(MAX_STRING);
    const n = r.u32();
    for (let i = 0; i < n; i++) queries.push(r.string(MAX_STRING));
    r.finish();
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    return fail(REP.ERR_INVALID, `malformed request: ${err.message}`);
  }
  if (!(await ctx.provider.exists(name, { signal: ctx.signal }))) {
    return fail(REP.ERR_UNKNOWN, `export '${name}' not present`);
  }
  let base = false;
  if (option === OPT.LIST_META_CONTEXT) {
    base = queries.length === 0 || queries.some((q) => q === 'base:' || q === BASE_ALLOCATION);
  } else {
    base = queries.some((q) => q === BASE_ALLOCATION);
    st.metaExport = name;
    st.metaBase = base;
  }
  if (base) {
    const b = Buffer.allocUnsafe(4 + BASE_ALLOCATION.length);
    b.writeUInt32BE(option === OPT.LIST_META_CONTEXT ? 0 : BASE_ALLOCATION_ID, 0);
    b.write(BASE_ALLOCATION, 4, 'utf8');
    ch.write(optionReply(option, REP.META_CONTEXT, b));
  }
  ch.write(optionReply(option, REP.ACK));
}
