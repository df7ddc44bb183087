/** Loopback fixtures for the RPC tests: a server on port 0 and a raw-bytes peer. */
import net from 'node:net';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { sleep } from '../../src/peers/process.js';
import {
  AUTH_NONE_VERIFIER,
  endRecord,
  readHeader,
  startRecord,
  writeCallHeader,
} from '../../src/rpc/message.js';
import { RecordDecoder } from '../../src/rpc/record.js';
import { RpcServer, type RpcProgram, type RpcServerOptions } from '../../src/rpc/server.js';
import type { RpcConnection } from '../../src/rpc/connection.js';

export const TEST_PROG = 0x2000_0001;

export async function startServer<S = unknown>(
  programs: RpcProgram<S>[],
  options: RpcServerOptions = {},
): Promise<{ server: RpcServer<S>; port: number }> {
  const server = new RpcServer<S>(options);
  for (const p of programs) server.register(p);
  const listener = await server.listen({ port: 0, host: '127.0.0.1' });
  return { server, port: (listener.address() as net.AddressInfo).port };
}

/** A whole CALL record (record mark included) with AUTH_NONE and the given arguments. */
export function callRecord(
  xid: number,
  prog: number,
  vers: number,
  proc: number,
  args?: (w: XdrWriter) => void,
): Buffer {
  const w = startRecord();
  writeCallHeader(w, { xid, prog, vers, proc, cred: AUTH_NONE_VERIFIER, verf: AUTH_NONE_VERIFIER });
  args?.(w);
  return endRecord(w);
}

/** Big-endian u32 words as bytes. */
export function words(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
  return b;
}

/** A peer that writes raw bytes and reads whole records, for probing a server. */
export class RawPeer {
  readonly records: Buffer[] = [];
  readonly closed: Promise<void>;
  private readonly decoder = new RecordDecoder();
  private waiter: (() => void) | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      for (let r = this.decoder.next(); r; r = this.decoder.next()) this.records.push(r);
      this.waiter?.();
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => this.waiter?.());
  }

  static wrap(socket: net.Socket): RawPeer {
    return new RawPeer(socket);
  }

  static async connect(port: number): Promise<RawPeer> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await once(socket, 'connect');
    return new RawPeer(socket);
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `n` records have arrived (fails after `ms`). */
  async waitRecords(n: number, ms = 2000): Promise<Buffer[]> {
    const deadline = Date.now() + ms;
    while (this.records.length < n) {
      if (this.socket.destroyed || Date.now() > deadline) {
        throw new Error(`got ${this.records.length} of ${n} records`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.records.splice(0, n);
  }

  /** The reply header of one record, with a reader at its results. */
  static reply(record: Buffer) {
    const r = new XdrReader(record);
    const h = readHeader(r);
    return { h, r };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A promise with its resolver, for handlers the test releases by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The server's one connection, once it has been accepted. */
export async function onlyConnection<S>(server: RpcServer<S>): Promise<RpcConnection<S>> {
  for (let i = 0; i < 200 && server.connections.size === 0; i++) await sleep(5);
  assert.equal(server.connections.size, 1);
  return [...server.connections][0]!;
}

/** A fake server: accepts one connection and exposes it as a RawPeer. */
export async function rawServer(): Promise<{
  port: number;
  accept: () => Promise<RawPeer>;
  close: () => void;
}> {
  const listener = net.createServer();
  const accepted: Promise<RawPeer> = once(listener, 'connection').then(([socket]) =>
    RawPeer.wrap(socket as net.Socket),
  );
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  return {
    port: (listener.address() as net.AddressInfo).port,
    accept: () => accepted,
    close: () => {
      listener.close();
      void accepted.then((peer) => peer.destroy());
    },
  };
}

export { sleep };
