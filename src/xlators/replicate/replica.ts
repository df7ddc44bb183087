/**
 * The state one cluster/replicate translator keeps: its children (the bricks of one replica
 * set), which of them are up, their changelog keys, client quorum, and per-inode knowledge
 * (which bricks hold readable data and metadata, the eager data lock). Calls to several
 * children go through `fanOut`, which never throws: each child's answer or failure is
 * returned so the caller decides with the whole picture.
 */
import { randomBytes } from 'node:crypto';
import { DictType, uintValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import type { FopName } from '../../protocol/fops.js';
import { Children, type Outcome, type Success } from '../../xlator/fanout.js';
import type { Layer } from '../../xlator/layer.js';
import type { FopContext, FopReply, FopRequest } from '../../xlator/translator.js';
import {
  CHANGELOG_PREFIX,
  CHANGELOG_SIZE,
  decodeCounters,
  type BrickChangelog,
  type Counters,
} from './changelog.js';
import { hasQuorum, type QuorumPolicy } from './quorum.js';

/** One child's outcome of a fan-out (src/xlator/fanout.ts), `target` being its index. */
export type ChildResult<T> = Outcome<T>;

export interface ReplicaConfig {
  name: string;
  children: readonly Layer[];
  /** One changelog key per child, in child order. */
  pendingKeys: readonly string[];
  dirtyKey: string;
  quorum: QuorumPolicy;
  arbiter: boolean;
  eagerLock: boolean;
  postOpDelayMs: number;
  readHashMode: 0 | 1;
  preferredChild?: number;
  granularEntryHeal: boolean;
}

/** What replicate knows about one inode. */
export class InodeState {
  /** The up-vector generation these readable sets were computed at. */
  generation = -1;
  dataReadable: boolean[] | undefined;
  metadataReadable: boolean[] | undefined;
  isDirectory = false;
  /** The eager data lock, while held or being taken/released (see transaction.ts). */
  dataLock: import('./transaction.js').DataLock | undefined;
  /** When readable sets that left out a brick that had just rejoined are to be looked at again (0: never). */
  recheckAt = 0;
}

const MAX_INODES = 8192;
/** A child that comes up within this time of the others is starting with them, not rejoining. */
const STARTUP_GRACE_MS = 1000;

export class Replica {
  readonly n: number;
  /** Bumped whenever a child goes down or comes up: readable sets computed before are stale. */
  generation = 0;
  private readonly lastUp: boolean[];
  /** When each child came up (0 while down). */
  private readonly upAt: number[];
  /** When each child last came up while another had been up a while (rejoined a set serving without it). */
  private readonly rejoinedAt: number[];
  private readonly inodes = new Map<string, InodeState>();
  readonly children: Children;

  constructor(readonly cfg: ReplicaConfig) {
    this.n = cfg.children.length;
    this.children = new Children(cfg.children);
    this.lastUp = cfg.children.map(() => false);
    this.upAt = cfg.children.map(() => 0);
    this.rejoinedAt = cfg.children.map(() => 0);
  }

  get domain(): string {
    return this.cfg.name;
  }

  /** Is child i connected? protocol/client reports its state; other children count as up. */
  isUp(i: number): boolean {
    const t = this.cfg.children[i]!.translator as { state?: unknown; isUp?: () => boolean };
    const up =
      typeof t.isUp === 'function'
        ? t.isUp()
        : typeof t.state === 'string'
          ? t.state === 'up' || t.state === 'reopening'
          : true;
    if (up !== this.lastUp[i]) {
      const now = Date.now();
      // Children connecting together at start are not rejoining.
      if (up && this.upAt.some((at, j) => j !== i && at && now - at >= STARTUP_GRACE_MS))
        this.rejoinedAt[i] = now;
      this.upAt[i] = up ? now : 0;
      this.lastUp[i] = up;
      this.generation++;
    }
    return up;
  }

  /** For each child, when it rejoined if that was less than `ms` ago, else undefined. */
  rejoinedWithin(ms: number): (number | undefined)[] {
    const now = Date.now();
    return this.rejoinedAt.map((at) => (at && now - at < ms ? at : undefined));
  }

  upVector(): boolean[] {
    return this.cfg.children.map((_, i) => this.isUp(i));
  }

  upChildren(): number[] {
    return this.upVector().flatMap((up, i) => (up ? [i] : []));
  }

  hasQuorum(up: readonly boolean[]): boolean {
    return hasQuorum(this.cfg.quorum, up);
  }

  /** ENOTCONN (stock's errno in 10.x): `what` concerns only the children marked true, too few. */
  noQuorum(up: readonly boolean[], what: string): FopError {
    return new FopError(
      Errno.ENOTCONN,
      `${this.domain}: ${what}: ${up.filter(Boolean).length} of ${this.n} bricks, no quorum (${this.cfg.quorum.type})`,
    );
  }

  /** Throws ENOTCONN unless the children marked true make a quorum. */
  requireQuorum(up: readonly boolean[], what: string): void {
    if (!this.hasQuorum(up)) throw this.noQuorum(up, what);
  }

  /**
   * The successes of a fop sent to several children, provided they make a quorum: no success
   * at all is the children's common errno, too few ENOTCONN (never a silent success).
   */
  quorumSuccesses<R>(results: readonly ChildResult<R>[], what: string): Success<R>[] {
    const ok = results.filter((x): x is Success<R> => x.ok);
    if (!ok.length) throw commonErrno(results);
    this.requireQuorum(
      this.cfg.children.map((_, i) => ok.some((x) => x.target === i)),
      `${what} reached`,
    );
    return ok;
  }

  isArbiter(i: number): boolean {
    return this.cfg.arbiter && i === this.n - 1;
  }

  inode(gfid: Uint8Array): InodeState {
    const key = Buffer.from(gfid).toString('hex');
    let st = this.inodes.get(key);
    if (!st) {
      if (this.inodes.size >= MAX_INODES) this.evict();
      st = new InodeState();
      this.inodes.set(key, st);
    }
    return st;
  }

  forget(gfid: Uint8Array): void {
    const key = Buffer.from(gfid).toString('hex');
    if (!this.inodes.get(key)?.dataLock) this.inodes.delete(key);
  }

  private evict(): void {
    for (const [key, st] of this.inodes) {
      if (!st.dataLock) this.inodes.delete(key);
      if (this.inodes.size < MAX_INODES * 0.9) return;
    }
  }

  /** Calls `fop` on each child in `which` at once; every child's outcome comes back. */
  async fanOut<N extends FopName>(
    which: readonly number[],
    fop: N,
    req: FopRequest<N> | ((i: number) => FopRequest<N>),
    ctx: FopContext,
  ): Promise<ChildResult<FopReply<N>>[]> {
    // A child that is not connected answers at once: protocol/client would hold the call
    // while it reconnects (reconnect-wait-ms), and a replica set must not wait for one brick.
    const up = which.filter((i) => this.isUp(i));
    const outcomes = up.length ? [...(await this.children.wind(fop, req, ctx, { to: up })).outcomes] : [];
    for (const i of which)
      if (!up.includes(i))
        outcomes.push({
          target: i,
          ok: false,
          kind: 'down',
          error: new FopError(Errno.ENOTCONN, `${this.cfg.children[i]!.name} is not connected`),
        });
    return outcomes;
  }

  async callChild<N extends FopName>(
    i: number,
    fop: N,
    req: FopRequest<N>,
    ctx: FopContext,
  ): Promise<ChildResult<FopReply<N>>> {
    return (await this.fanOut([i], fop, req, ctx))[0]!;
  }

  /** A fresh lock owner: AFR's locks are owned by the transaction, not by the caller. */
  static newOwner(): Buffer {
    return randomBytes(8);
  }

  withOwner(ctx: FopContext, owner: Buffer): FopContext {
    return { ...ctx, caller: { ...ctx.caller, lkOwner: owner } };
  }

  // ---- changelog in xdata ------------------------------------------------------------

  /** LOOKUP/FSTAT xdata asking each brick for the set's changelog xattrs. */
  changelogRequest(xdata: GfxDict): Dict {
    const out: Dict = new Map(xdata ?? []);
    for (const key of [this.cfg.dirtyKey, ...this.cfg.pendingKeys]) out.set(key, uintValue(CHANGELOG_SIZE));
    return out;
  }

  /** A brick's changelog from reply xdata (absent keys read as zeros). */
  changelogOf(xdata: GfxDict): BrickChangelog {
    const read = (key: string): Counters => {
      const v = xdata?.get(key);
      return v && v.type === DictType.PTR ? decodeCounters(v.value) : [0, 0, 0];
    };
    return { dirty: read(this.cfg.dirtyKey), pending: this.cfg.pendingKeys.map(read) };
  }

  /** Reply xdata without the changelog keys replicate asked for (they are its own business). */
  static stripChangelog(xdata: GfxDict): GfxDict {
    if (!xdata) return xdata;
    let out: Dict | undefined;
    for (const key of xdata.keys())
      if (key.startsWith(CHANGELOG_PREFIX)) (out ??= new Map(xdata)).delete(key);
    return out ?? xdata;
  }
}

/** The errno most children agreed on among failures (ties: the first child's). */
export function commonErrno(failures: readonly ChildResult<unknown>[]): FopError {
  const errs = failures.flatMap((r) => (r.ok ? [] : [r.error]));
  if (!errs.length) return new FopError(Errno.EIO, 'no child answered');
  const counts = new Map<number, number>();
  for (const e of errs) counts.set(e.errno, (counts.get(e.errno) ?? 0) + 1);
  let best = errs[0]!;
  for (const e of errs) if (counts.get(e.errno)! > counts.get(best.errno)!) best = e;
  return best;
}

export const isNotConnected = (e: FopError): boolean => e.errno === Errno.ENOTCONN;
