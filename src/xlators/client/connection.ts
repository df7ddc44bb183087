/**
 * The connection state machine of protocol/client: one brick, one TCP connection at a
 * time, re-established for as long as the translator runs.
 *
 *     connecting ──handshake ok──► reopening ──fds re-opened──► up
 *        ▲   │                         │                         │
 *        │   └─refused, never up─► failed                        │
 *        └──── wait reconnect-interval ◄──── connection lost ────┘
 *     (stop() from any state ─► stopped)
 *
 * - connecting: handshake attempts (handshake.ts) every reconnect-interval-ms. A refusal
 *   (auth failed, brick unknown to the brick or to portmap) before the first `up` is
 *   `failed`: readiness fails and fops fail at once. It is final, except a brick portmap
 *   has no port for: that brick is not running now (a replica brick down or restarting when
 *   the client starts), so, as stock, it is asked again every reconnect-interval-ms, and
 *   comes up when the brick does. After having been up, every failure is retried.
 * - reopening: SETVOLUME accepted; the owner re-opens its fds on the new session
 *   (`reopen`), then the state becomes `up` (stock: CHILD_UP only after the re-opens).
 * - up: fops flow. While calls are outstanding the brick must be heard from: after half of
 *   ping-timeout without a whole record (reply or callback) a PING goes out, and after a
 *   whole ping-timeout of silence the connection is dropped (stock drops after about one
 *   ping-timeout too; a stopped brick is given up on that fast). A dropped connection fails its calls with ENOTCONN (the
 *   RpcClient does that) and the cycle starts over after reconnect-interval-ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';
import type { RpcClient, RpcCallback } from '../../rpc/client.js';
import { encodeCredential, glusterV3 } from '../../rpc/auth.js';
import {
  callProcedure,
  CallbackProc,
  DumpProcs,
  FopError,
  Program,
  type LegacyDict,
} from '../../protocol/index.js';
import { establish, HandshakeError, type HandshakeConfig } from './handshake.js';

const log = debuglog('glusterts-client');

const PING_CRED = encodeCredential(glusterV3(0));

export type ClientState = 'connecting' | 'reopening' | 'up' | 'failed' | 'stopped';

/** One established connection: the RPC client and its number (1, 2, … per translator). */
export interface RemoteSession {
  readonly rpc: RpcClient;
  readonly generation: number;
  readonly port: number;
}

export interface ConnectionConfig {
  /** The translator's volume name, for messages. */
  name: string;
  handshake: Omit<HandshakeConfig, 'setvolume' | 'signal'>;
  /** The SETVOLUME dict for the attempt after `reconnects` earlier sessions. */
  setvolume(reconnects: number): LegacyDict;
  reconnectIntervalMs: number;
  /** 0 disables pings. */
  pingTimeoutMs: number;
  /** Re-opens what was open; runs in the reopening state, on the new session. */
  reopen(session: RemoteSession): Promise<void>;
}

export class BrickConnection {
  private stateValue: ClientState = 'connecting';
  private current: RemoteSession | undefined;
  private generation = 0;
  private everUp = false;
  private failure: Error | undefined;
  private lastErrorValue: Error | undefined;
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private loop: Promise<void> | undefined;
  private readonly listeners = new Set<(state: ClientState) => void>();
  /** retryNow() was called: the next pause is skipped. */
  private nudged = false;
  private pauseAbort: AbortController | undefined;

  private pingTimer: NodeJS.Timeout | undefined;
  private pingSentAt: number | undefined;
  private lastReceived = 0;
  /** When the outstanding count last went from 0 to 1. */
  private busySince = 0;
  private outstanding = 0;

  constructor(private readonly cfg: ConnectionConfig) {}

  get state(): ClientState {
    return this.stateValue;
  }

  /** The bound on each handshake step, also used for re-opens. */
  get handshakeTimeoutMs(): number {
    return this.cfg.handshake.timeoutMs;
  }

  /** The session fops may use: set while reopening and up. */
  get session(): RemoteSession | undefined {
    return this.current;
  }

  /** Why the last attempt or connection failed, for messages and diagnostics. */
  get lastError(): Error | undefined {
    return this.lastErrorValue;
  }

  private get where(): string {
    const h = this.cfg.handshake;
    return `protocol/client ${this.cfg.name} (brick ${h.host}:${h.brick})`;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    if (this.stateValue !== 'stopped') {
      this.setState('stopped');
      this.abort.abort();
      this.stopPing();
      this.current?.rpc.close();
    }
    await this.loop;
  }

  /** Resolves when up; rejects when failed, stopped or aborted. */
  async whenUp(signal?: AbortSignal): Promise<void> {
    await this.waitFor(() => this.stateValue !== 'connecting' && this.stateValue !== 'reopening', 0, signal);
    if (this.stateValue === 'up') return;
    throw this.failure ?? new Error(`${this.where}: stopped before it came up`);
  }

  /**
   * The session a fop should go out on. Up: at once. Otherwise the call waits for `up`
   * up to `waitMs`; then a session that is still re-opening fds is used (fd fops follow
   * the anonymous-fd rules), and anything else fails with ENOTCONN.
   */
  async acquire(waitMs: number, signal?: AbortSignal): Promise<RemoteSession> {
    if (this.stateValue === 'up' && this.current) return this.current;
    if (waitMs > 0 && (this.stateValue === 'connecting' || this.stateValue === 'reopening')) {
      await this.waitFor(
        () => this.stateValue !== 'connecting' && this.stateValue !== 'reopening',
        waitMs,
        signal,
      );
    }
    const s = this.stateValue;
    if ((s === 'up' || s === 'reopening') && this.current) return this.current;
    const why =
      s === 'failed'
        ? (this.failure?.message ?? 'failed')
        : s === 'stopped'
          ? 'stopped'
          : `not connected${waitMs > 0 ? ` after waiting ${waitMs} ms` : ''}` +
            (this.lastErrorValue ? ` (last error: ${this.lastErrorValue.message})` : '');
    throw FopError.of('ENOTCONN', `${this.where}: ${why}`);
  }

  /** Brackets a call on the wire, so pings run while anything is outstanding. */
  callStarted(): void {
    // Silence is counted from the later of the last record and the moment we started waiting.
    if (this.outstanding === 0) this.busySince = Date.now();
    this.outstanding++;
    if (this.pingTimer === undefined && this.cfg.pingTimeoutMs > 0 && this.current) this.armPing();
  }

  /**
   * Ends what callStarted began. `answered`: a whole reply record arrived for the call
   * (whatever it said). Only whole records count as "heard from the brick": bytes of a
   * record that never completes must not keep a stalled connection alive.
   */
  callEnded(answered: boolean): void {
    this.outstanding--;
    if (answered) this.lastReceived = Date.now();
  }

  // ---- the loop ----------------------------------------------------------------------

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let reconnects = 0;
    while (!signal.aborted) {
      let established;
      try {
        established = await establish({
          ...this.cfg.handshake,
          setvolume: this.cfg.setvolume(reconnects),
          signal,
        });
      } catch (err) {
        if (signal.aborted) break;
        const e = err instanceof Error ? err : new Error(String(err));
        this.lastErrorValue = e;
        log('%s: %s', this.where, e.message);
        if (err instanceof HandshakeError && err.refused && !this.everUp) {
          this.failure = new Error(`${this.where}: ${e.message}`, { cause: err });
          this.setState('failed');
          if (!err.brickNotRunning) break;
        }
        if (!(await this.pause(signal))) break;
        continue;
      }
      reconnects++;
      const session: RemoteSession = {
        rpc: established.rpc,
        generation: ++this.generation,
        port: established.port,
      };
      const closed = this.attach(session);
      this.current = session;
      this.setState('reopening');
      try {
        await this.cfg.reopen(session);
      } catch (err) {
        log('%s: re-opening fds: %s', this.where, (err as Error).message);
      }
      if (!session.rpc.closed && !signal.aborted) {
        this.everUp = true;
        this.nudged = false;
        this.setState('up');
        log('%s: up on port %d (session %d)', this.where, session.port, session.generation);
      }
      await closed;
      this.current = undefined;
      this.stopPing();
      if (signal.aborted) break;
      this.setState('connecting');
      log('%s: disconnected: %s', this.where, this.lastErrorValue?.message ?? 'connection closed');
      if (!(await this.pause(signal))) break;
    }
  }

  /**
   * The brick is known to serve now (glusterts's daemon told a self-heal daemon it signed
   * in): the next attempt goes out at once instead of after reconnect-interval. An attempt
   * in progress is not cut short; if it fails, the retry follows without a pause.
   */
  retryNow(): void {
    if (this.stateValue !== 'connecting' && this.stateValue !== 'failed') return;
    this.nudged = true;
    this.pauseAbort?.abort();
  }

  /** Waits reconnect-interval (less after retryNow); false when stopped meanwhile. */
  private async pause(signal: AbortSignal): Promise<boolean> {
    if (this.nudged) {
      this.nudged = false;
      return !signal.aborted;
    }
    const cut = (this.pauseAbort = new AbortController());
    try {
      await sleep(this.cfg.reconnectIntervalMs, undefined, { signal: AbortSignal.any([signal, cut.signal]) });
    } catch {
      /* stopped, or nudged */
    } finally {
      this.pauseAbort = undefined;
    }
    this.nudged = false;
    return !signal.aborted;
  }

  /** Calls `listener` on every state change; returns how to stop. */
  onStateChange(listener: (state: ClientState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens to a new session; resolves when its connection is gone. */
  private attach(session: RemoteSession): Promise<void> {
    const { rpc } = session;
    this.lastReceived = Date.now();
    this.pingSentAt = undefined;
    rpc.on('callback', (cb) => {
      this.lastReceived = Date.now();
      this.onCallback(cb);
    });
    return new Promise((resolve) => {
      if (rpc.closed) return resolve();
      rpc.once('close', (err) => {
        if (err) this.lastErrorValue = err;
        resolve();
      });
    });
  }

  /** Server → client calls are accepted and logged; none changes what this client does. */
  private onCallback(cb: RpcCallback): void {
    const { prog, vers, proc } = cb.header;
    if (prog !== Program.CALLBACK.prog || vers !== Program.CALLBACK.vers) {
      log('%s: ignoring a server call to program %d/%d', this.where, prog, vers);
      return;
    }
    const name = Object.entries(CallbackProc).find(([, n]) => n === proc)?.[0] ?? `#${proc}`;
    log('%s: callback %s ignored', this.where, name);
  }

  // ---- ping --------------------------------------------------------------------------

  private armPing(): void {
    const timer = setTimeout(() => this.pingTick(), Math.max(50, this.cfg.pingTimeoutMs / 4));
    this.pingTimer = timer;
  }

  private stopPing(): void {
    clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    this.pingSentAt = undefined;
  }

  private pingTick(): void {
    this.pingTimer = undefined;
    const session = this.current;
    if (!session || this.outstanding <= 0) return;
    const now = Date.now();
    const limit = this.cfg.pingTimeoutMs;
    const quiet = now - Math.max(this.lastReceived, this.busySince);
    if (quiet >= limit) {
      this.lastErrorValue = new Error(`the brick has not responded in the last ${limit / 1000} seconds`);
      log('%s: %s, disconnecting', this.where, this.lastErrorValue.message);
      session.rpc.close();
      return;
    }
    if (quiet >= limit / 2 && this.pingSentAt === undefined) {
      this.pingSentAt = now;
      callProcedure(session.rpc, Program.DUMP, DumpProcs.PING, null, { cred: PING_CRED }).then(
        () => {
          if (this.current !== session) return;
          this.pingSentAt = undefined;
          this.lastReceived = Date.now();
        },
        () => undefined,
      );
    }
    this.armPing();
  }

  // ---- waiting -----------------------------------------------------------------------

  private setState(state: ClientState): void {
    this.stateValue = state;
    for (const wake of [...this.waiters]) wake();
    for (const listener of [...this.listeners]) listener(state);
  }

  /** Resolves when `done()` holds, after `timeoutMs` (0 = no limit), or rejects on abort. */
  private waitFor(done: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (done()) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(FopError.of('ECANCELED', `${this.where}: aborted`));
    return new Promise((resolve, reject) => {
      const finish = (err?: Error): void => {
        this.waiters.delete(check);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const check = (): void => {
        if (done()) finish();
      };
      const onAbort = (): void => finish(FopError.of('ECANCELED', `${this.where}: aborted`));
      const timer = timeoutMs > 0 ? setTimeout(() => finish(), timeoutMs) : undefined;
      this.waiters.add(check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
