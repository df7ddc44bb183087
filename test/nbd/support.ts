// Helpers for the NBD suites: a server over local files on a test address, real clients
// run as child processes, and a raw-socket client for byte-level probes.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Channel } from '../../src/nbd/channel.js';
import {
  FileProvider,
  NbdServer,
  type FileProviderOptions,
  type NbdServerOptions,
} from '../../src/nbd/index.js';
import { IHAVEOPT, OPT, OPTION_REPLY_MAGIC, REQUEST_MAGIC } from '../../src/nbd/protocol.js';
import { waitFor as pollUntil } from '../../src/peers/process.js';

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `glusterts-nbd-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Running {
  server: NbdServer;
  host: string;
  port: number;
  uri: (name: string) => string;
  logs: string[];
}

export async function startServer(
  host: string,
  provider: FileProviderOptions,
  options: Partial<NbdServerOptions> = {},
): Promise<Running> {
  const logs: string[] = [];
  const server = new NbdServer({
    provider: new FileProvider(provider),
    log: (m) => logs.push(m),
    ...options,
  });
  const { port } = await server.listen(0, host);
  return { server, host, port, uri: (name) => `nbd://${host}:${port}/${name}`, logs };
}

/** Runs a real client; never rejects (the exit code is in the result). */
export { runCommand as run, type Ran as Run } from '../../src/peers/process.js';

/** A byte-level client: the server's own Channel reads exact lengths off a client socket. */
export class RawClient {
  readonly ch: Channel;
  private constructor(readonly socket: Socket) {
    this.ch = new Channel(socket);
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => {
        s.off('error', reject);
        resolve(new RawClient(s));
      });
      s.once('error', reject);
    });
  }

  read(n: number): Promise<Buffer> {
    return this.ch.read(n);
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** Resolves when the server closed the connection. */
  closed(): Promise<void> {
    return new Promise((resolve) => this.ch.onClose(resolve));
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Reads the greeting and sends client flags (fixed newstyle + no zeroes by default). */
  async greet(clientFlags = 3): Promise<number> {
    const hello = await this.read(18);
    if (hello.toString('latin1', 0, 8) !== 'NBDMAGIC') throw new Error('no NBDMAGIC');
    const f = Buffer.alloc(4);
    f.writeUInt32BE(clientFlags);
    this.write(f);
    return hello.readUInt16BE(16);
  }

  sendOption(option: number, data: Buffer = Buffer.alloc(0), lengthOverride?: number): void {
    const h = Buffer.alloc(16);
    h.writeBigUInt64BE(IHAVEOPT, 0);
    h.writeUInt32BE(option, 8);
    h.writeUInt32BE(lengthOverride ?? data.length, 12);
    this.write(Buffer.concat([h, data]));
  }

  async readOptionReply(): Promise<{ option: number; type: number; data: Buffer }> {
    const h = await this.read(20);
    if (h.readBigUInt64BE(0) !== OPTION_REPLY_MAGIC) throw new Error('bad option reply magic');
    const len = h.readUInt32BE(16);
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12), data: Buffer.from(await this.read(len)) };
  }

  /** Replies up to and including the final one (ACK or an error). */
  async readOptionReplies(): Promise<{ option: number; type: number; data: Buffer }[]> {
    const out = [];
    for (;;) {
      const r = await this.readOptionReply();
      out.push(r);
      if (r.type === 1 || r.type >= 0x8000_0000) return out;
    }
  }

  /** GO to `name` (optionally after STRUCTURED_REPLY and SET_META_CONTEXT base:allocation). */
  async go(
    name: string,
    opts: { structured?: boolean; meta?: boolean } = {},
  ): Promise<{ size: bigint; flags: number }> {
    if (opts.structured) {
      this.sendOption(OPT.STRUCTURED_REPLY);
      await this.readOptionReplies();
    }
    if (opts.meta) {
      this.sendOption(OPT.SET_META_CONTEXT, metaPayload(name, ['base:allocation']));
      await this.readOptionReplies();
    }
    this.sendOption(OPT.GO, goPayload(name));
    const replies = await this.readOptionReplies();
    const last = replies[replies.length - 1]!;
    if (last.type !== 1) throw new Error(`GO failed: 0x${last.type.toString(16)} ${last.data.toString()}`);
    const exp = replies.find((r) => r.type === 3 && r.data.readUInt16BE(0) === 0)!;
    return { size: exp.data.readBigUInt64BE(2), flags: exp.data.readUInt16BE(10) };
  }

  request(
    type: number,
    offset: bigint | number,
    length: number,
    opts: { flags?: number; handle?: bigint; magic?: number; data?: Buffer } = {},
  ): void {
    const h = Buffer.alloc(28);
    h.writeUInt32BE(opts.magic ?? REQUEST_MAGIC, 0);
    h.writeUInt16BE(opts.flags ?? 0, 4);
    h.writeUInt16BE(type, 6);
    h.writeBigUInt64BE(opts.handle ?? 1n, 8);
    h.writeBigUInt64BE(BigInt(offset), 16);
    h.writeUInt32BE(length, 24);
    this.write(opts.data ? Buffer.concat([h, opts.data]) : h);
  }

  /** A simple reply: error and handle (data, if any, is left to read). */
  async simpleReply(): Promise<{ error: number; handle: bigint }> {
    const h = await this.read(16);
    if (h.readUInt32BE(0) !== 0x67446698) throw new Error(`not a simple reply: ${h.toString('hex')}`);
    return { error: h.readUInt32BE(4), handle: h.readBigUInt64BE(8) };
  }

  /** One reply in either form; structured chunks come with their payload. */
  async anyReply(): Promise<{
    structured: boolean;
    error: number;
    handle: bigint;
    type: number;
    flags: number;
    data: Buffer;
  }> {
    const magic = (await this.read(4)).readUInt32BE(0);
    if (magic === 0x67446698) {
      const h = await this.read(12);
      return {
        structured: false,
        error: h.readUInt32BE(0),
        handle: h.readBigUInt64BE(4),
        type: 0,
        flags: 0,
        data: Buffer.alloc(0),
      };
    }
    if (magic !== 0x668e33ef) throw new Error(`bad reply magic 0x${magic.toString(16)}`);
    const h = await this.read(16);
    const flags = h.readUInt16BE(0);
    const type = h.readUInt16BE(2);
    const data = Buffer.from(await this.read(h.readUInt32BE(12)));
    const error = type & 0x8000 ? data.readUInt32BE(0) : 0;
    return { structured: true, error, handle: h.readBigUInt64BE(4), type, flags, data };
  }
}

export function goPayload(name: string, infos: number[] = [], nameLength?: number): Buffer {
  const n = Buffer.from(name);
  const b = Buffer.alloc(4 + n.length + 2 + 2 * infos.length);
  b.writeUInt32BE(nameLength ?? n.length, 0);
  n.copy(b, 4);
  b.writeUInt16BE(infos.length, 4 + n.length);
  infos.forEach((t, i) => b.writeUInt16BE(t, 6 + n.length + 2 * i));
  return b;
}

export function metaPayload(name: string, queries: string[]): Buffer {
  const parts = [u32(Buffer.byteLength(name)), Buffer.from(name), u32(queries.length)];
  for (const q of queries) parts.push(u32(Buffer.byteLength(q)), Buffer.from(q));
  return Buffer.concat(parts);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

/** Polls `cond` every 10 ms until true, failing after `ms`. */
export function waitFor(cond: () => boolean, ms = 2000, what = 'condition'): Promise<true> {
  return pollUntil(what, () => cond() || undefined, ms, 10);
}
