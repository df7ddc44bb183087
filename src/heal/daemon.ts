/**
 * The self-heal daemon (stock's glustershd role) over a running client graph: for every
 * cluster/replicate translator in it, an index heal at start, at once whenever one of its
 * bricks comes (back) up, and every heal-timeout; files healed a few at a time; progress per
 * file (bytes done and left, rate, ETA) kept for `heal info summary`. It keeps no state of its
 * own: the bricks' changelogs and indices say what to heal, so a restarted daemon carries on.
 *
 * Beyond stock, it also watches the up bricks' xattrop index: a brick SIGSTOPped past
 * ping-timeout is dropped by the clients that were writing (they accuse it), but this idle
 * daemon (pings run only while calls are outstanding, as stock) never sees it go nor come
 * back, and stock would wait for the next heal-timeout crawl. The watch compares names
 * (`<brick>:<gfid>`), not counts: one accusation leaving as another lands keeps the count.
 *
 * What a crawl leaves behind decides when it looks again: heals that failed (a brick went
 * away mid-heal) are retried with a backoff doubling up to a minute; entries in flight (a
 * client's pre-op indexed them and nobody is accused) are neither work done nor work left,
 * and are looked at again at the next watch, however long they stay in flight.
 */
import { randomUUID } from 'node:crypto';
import { gfidToString } from '../protocol/gfid.js';
import type { Graph } from '../xlator/graph.js';
import { FdTable } from '../xlator/fd.js';
import type { FopContext } from '../xlator/translator.js';
import { Replica } from '../xlators/replicate/index.js';
import { HealIo } from './bricks.js';
import { indexHealPass, type PassReport } from './crawl.js';
import { listAccusations } from './index-crawl.js';
import type { SplitBrainPolicy } from './policy.js';

export interface DaemonOptions {
  /** Periodic crawl interval (cluster.heal-timeout, default 600 s). */
  healTimeoutMs?: number;
  /** Files healed at once per replica set (default 4). */
  concurrency?: number;
  /** cluster.favorite-child-policy as a policy. */
  policy?: SplitBrainPolicy;
  /** How often brick liveness is looked at besides protocol/client's state events (default 500 ms). */
  pollMs?: number;
  /**
   * How often the up bricks' xattrop index is looked at, and entries a crawl found in flight
   * are looked at again (default 2000 ms; 0: never — in-flight entries wait for heal-timeout).
   */
  indexWatchMs?: number;
  log?: (line: string) => void;
}

/** What the daemon uses of a protocol/client child, when the child is one. */
interface BrickClient {
  remoteSubvolume?: string;
  retryNow?(): void;
  onStateChange?(listener: () => void): () => void;
}

export interface FileProgress {
  replica: string;
  gfid: string;
  done: number;
  total: number;
  startedAt: number;
  updatedAt: number;
}

/** The replicate translators of a graph, as their shared state. */
export function replicasOf(graph: Graph): Replica[] {
  return graph.layers.flatMap((l) => {
    const r = (l.translator as { replica?: unknown }).replica;
    return l.type === 'cluster/replicate' && r instanceof Replica ? [r] : [];
  });
}

export function healContext(): FopContext {
  return {
    caller: { uid: 0, gid: 0, groups: [], pid: process.pid, lkOwner: Buffer.alloc(8) },
    session: { id: `glusterts-shd-${randomUUID()}`, fds: new FdTable() },
  };
}

export class SelfHealDaemon {
  readonly progress = new Map<string, FileProgress>();
  readonly lastReport = new Map<string, PassReport>();
  private readonly abort = new AbortController();
  private readonly running = new Map<Replica, Promise<void>>();
  private readonly again = new Set<Replica>();
  private readonly lastUp = new Map<Replica, boolean[]>();
  private poller: NodeJS.Timeout | undefined;
  private readonly unwatch: (() => void)[] = [];
  private periodic: NodeJS.Timeout | undefined;
  private watcher: NodeJS.Timeout | undefined;
  /** Each set's accusations (xattrop entries, `<brick>:<gfid>`) that its crawls have judged. */
  private readonly settled = new Map<Replica, Set<string>>();
  /** When a set whose last crawl had failed heals is crawled again (doubling, up to a minute). */
  private readonly retry = new Map<Replica, { at: number; delayMs: number }>();
  /** Entries each set's last crawl found in flight: looked at again at the next watch. */
  private readonly inFlight = new Map<Replica, Set<string>>();
  private healTimeoutMs: number;
  private policy: SplitBrainPolicy | undefined;
  /** Bytes copied or compared since start, for the rate behind ETAs. */
  bytesHealed = 0;
  readonly startedAt = Date.now();

  constructor(
    readonly replicas: readonly Replica[],
    private readonly ctx: FopContext = healContext(),
    private readonly o: DaemonOptions = {},
  ) {
    this.healTimeoutMs = o.healTimeoutMs ?? 600_000;
    this.policy = o.policy;
  }

  start(): void {
    for (const r of this.replicas) {
      this.lastUp.set(r, r.upVector());
      void this.trigger(r, 'start');
    }
    this.watchChildren();
    this.poller = setInterval(() => this.poll(), this.o.pollMs ?? 500);
    this.poller.unref();
    this.schedulePeriodic();
    const watchMs = this.o.indexWatchMs ?? 2000;
    if (watchMs > 0) {
      let watching = false;
      this.watcher = setInterval(() => {
        if (watching) return;
        watching = true;
        void this.watchIndex().finally(() => (watching = false));
      }, watchMs);
      this.watcher.unref();
    }
  }

  /** An accusation no crawl has judged: a brick missed writes since. */
  private unjudged(r: Replica, accusations: ReadonlySet<string>): boolean {
    const settled = this.settled.get(r) ?? new Set();
    return [...accusations].some((a) => !settled.has(a));
  }

  /**
   * A new accusation: a brick missed writes; crawl. A crawl whose heals failed (a brick went
   * away mid-heal) is retried too, without waiting for an event that may never come; entries
   * the last crawl found in flight are looked at again.
   */
  private async watchIndex(): Promise<void> {
    for (const r of this.replicas) {
      if (this.running.has(r) || this.abort.signal.aborted) continue;
      const now = await listAccusations(new HealIo(r, this.ctx));
      const retry = this.retry.get(r);
      const inFlight = this.inFlight.get(r);
      if (this.unjudged(r, now)) void this.trigger(r, 'index grew');
      else if (retry && Date.now() >= retry.at) void this.trigger(r, 'retrying failed heals');
      else if (inFlight) void this.trigger(r, 'entries in flight', inFlight);
      // Healed names leave the baseline, so their next accusation is new again.
      else this.settled.set(r, now);
    }
  }

  /** The periodic crawl's interval now (cluster.heal-timeout). */
  get healTimeout(): number {
    return this.healTimeoutMs;
  }

  /**
   * The volfile changed (`volume set`): a new cluster.heal-timeout puts the next periodic
   * crawl that far from now; a new favorite-child-policy applies from the next crawl.
   */
  reconfigure(o: Pick<DaemonOptions, 'healTimeoutMs' | 'policy'>): void {
    this.policy = o.policy;
    const ms = o.healTimeoutMs ?? 600_000;
    if (ms === this.healTimeoutMs) return;
    this.healTimeoutMs = ms;
    if (this.periodic) this.schedulePeriodic();
  }

  private schedulePeriodic(): void {
    clearInterval(this.periodic);
    this.periodic = setInterval(
      () => this.replicas.forEach((r) => void this.trigger(r, 'heal-timeout')),
      this.healTimeoutMs,
    );
    this.periodic.unref();
  }

  /**
   * The management daemon says `brick` signed in (it serves now): the children connected to
   * it retry at once instead of at their next reconnect-interval, and their coming up starts
   * a crawl (state-change events, below).
   */
  brickSignedIn(brick: string): void {
    for (const r of this.replicas)
      r.cfg.children.forEach((layer, i) => {
        const t = layer.translator as BrickClient;
        if (t.remoteSubvolume !== brick || typeof t.retryNow !== 'function') return;
        if (!r.isUp(i)) this.o.log?.(`${r.domain}: brick ${i} (${brick}) signed in: connecting`);
        t.retryNow();
      });
  }

  /** Children that report connection state changes: each change is looked at at once. */
  private watchChildren(): void {
    for (const r of this.replicas)
      for (const layer of r.cfg.children) {
        const t = layer.translator as BrickClient;
        if (typeof t.onStateChange === 'function') this.unwatch.push(t.onStateChange(() => this.poll()));
      }
  }

  /** A brick that came up since the last look starts a crawl of its set at once. */
  private poll(): void {
    for (const r of this.replicas) {
      const now = r.upVector();
      const before = this.lastUp.get(r) ?? [];
      this.lastUp.set(r, now);
      if (now.some((up, i) => up && !before[i])) void this.trigger(r, 'brick up');
    }
  }

  /**
   * Crawls the set now, or right after the crawl in progress; with `only`, looks at just
   * those entries (the ones a crawl found in flight), or not at all if a crawl is running.
   */
  trigger(r: Replica, why: string, only?: ReadonlySet<string>): Promise<void> {
    const current = this.running.get(r);
    if (current) {
      if (!only) this.again.add(r);
      return current;
    }
    const run = (async () => {
      let scope = only;
      let reason = why;
      do {
        this.again.delete(r);
        // Re-checks of entries in flight run every watch while a guest writes: logged only when they act.
        if (!scope) this.o.log?.(`${r.domain}: index heal (${reason})`);
        const report = await this.pass(r, scope).catch((err: Error) => {
          this.o.log?.(`${r.domain}: index heal failed: ${err.message}`);
          return undefined;
        });
        this.afterPass(r, report, scope !== undefined);
        scope = undefined;
        reason = 'again';
      } while (this.again.has(r) && !this.abort.signal.aborted);
    })().finally(() => this.running.delete(r));
    this.running.set(r, run);
    return run;
  }

  /** Crawls every set now and resolves when done (`heal NAME`, tests). */
  async healNow(): Promise<void> {
    await Promise.all(this.replicas.map((r) => this.trigger(r, 'requested')));
  }

  /** What a pass leaves decides when the set is looked at again (see the header). */
  private afterPass(r: Replica, report: PassReport | undefined, partial: boolean): void {
    // Heals that failed, or entries left that are not in flight (a brick went away
    // mid-heal): crawl again later, backing off.
    const failed = !report || report.failed.length > 0 || report.remaining > report.inFlight.length;
    const delayMs = Math.min(2 * (this.retry.get(r)?.delayMs ?? 2500), 60_000);
    if (failed) this.retry.set(r, { at: Date.now() + delayMs, delayMs });
    else if (!partial) this.retry.delete(r);
    if (!report) return;
    if (report.inFlight.length) this.inFlight.set(r, new Set(report.inFlight));
    else this.inFlight.delete(r);
    // A full crawl judged every accusation it listed last. A partial one judged only its
    // entries: an accusation it lists that no crawl judged asks for a full crawl.
    if (partial && this.unjudged(r, report.accusations)) this.again.add(r);
    else this.settled.set(r, report.accusations);
    this.lastReport.set(r.domain, report);
    const acted = report.healed > 0 || report.failed.length > 0 || report.splitBrain.length > 0;
    if (partial && !acted) return;
    this.o.log?.(
      `${r.domain}: ${partial ? `entries in flight looked at again: ` : ''}healed ${report.healed}, split-brain ${report.splitBrain.length}, failed ${report.failed.length}, ` +
        `left ${report.remaining - report.inFlight.length}, in flight ${report.inFlight.length}`,
    );
  }

  private pass(r: Replica, only?: ReadonlySet<string>): Promise<PassReport> {
    const io = new HealIo(r, this.ctx);
    const started = Date.now();
    return indexHealPass(io, {
      ...(only ? { only } : {}),
      concurrency: this.o.concurrency ?? 4,
      signal: this.abort.signal,
      ...(this.policy ? { policy: this.policy } : {}),
      onInode: (h) => {
        const at = Date.now() - started;
        for (const o of h.outcomes) {
          if (o.timing && o.bytesCopied)
            this.o.log?.(
              `${r.domain}: ${gfidToString(h.gfid)}: data healed, ${o.bytesCopied} bytes in ${o.timing.pieces} ranges, ` +
                `${o.timing.batches} batches; ms: locks and decision ${o.timing.decideMs}, open and record ${o.timing.setupMs}, ` +
                `copy ${o.timing.copyMs}, fsync ${o.timing.fsyncMs}, reset ${o.timing.resetMs}`,
            );
          if (o.result === 'failed' || o.result === 'split-brain')
            this.o.log?.(
              `${r.domain}: ${gfidToString(h.gfid)}: ${o.kind} heal ${o.result} after ${at} ms: ${o.reason ?? ''}`,
            );
        }
      },
      onProgress: (p) => {
        const key = `${r.domain}/${gfidToString(p.gfid)}`;
        const now = Date.now();
        const prev = this.progress.get(key);
        if (prev && p.done > prev.done) this.bytesHealed += p.done - prev.done;
        if (p.done >= p.total) this.progress.delete(key);
        else
          this.progress.set(key, {
            replica: r.domain,
            gfid: gfidToString(p.gfid),
            done: p.done,
            total: p.total,
            startedAt: prev?.startedAt ?? now,
            updatedAt: now,
          });
      },
    });
  }

  /** Progress of the files being healed, with the daemon's rate and each file's ETA. */
  snapshot(): { files: (FileProgress & { etaSeconds: number | null })[]; bytesPerSecond: number } {
    const files = [...this.progress.values()].map((f) => {
      const secs = (f.updatedAt - f.startedAt) / 1000;
      const rate = secs > 0 ? f.done / secs : 0;
      return { ...f, etaSeconds: rate > 0 ? Math.ceil((f.total - f.done) / rate) : null };
    });
    const secs = (Date.now() - this.startedAt) / 1000;
    return { files, bytesPerSecond: secs > 0 ? Math.round(this.bytesHealed / secs) : 0 };
  }

  async stop(): Promise<void> {
    for (const stopWatching of this.unwatch.splice(0)) stopWatching();
    clearInterval(this.poller);
    clearInterval(this.periodic);
    clearInterval(this.watcher);
    this.periodic = undefined;
    this.abort.abort(new Error('self-heal daemon stopping'));
    await Promise.all(this.running.values());
  }
}
