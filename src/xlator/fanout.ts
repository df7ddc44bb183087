/**
 * Fan-out for translators with several children (cluster translators) or several calls
 * per request (shard's per-shard calls): run a call per target, in parallel or one after
 * another, and keep every target's outcome, classified. The translator says only which
 * targets, in what order, when to stop, and how many answers are enough; it combines
 * the values itself.
 *
 *     const replies = await this.subvols.wind('STATFS', req, ctx);
 *     replies.require('any');              // else throws the first failure, in order
 *     return sum(replies.values());
 *
 * A failure is one of three kinds, because policies treat them differently: `errno` (the
 * child answered with a FopError), `down` (ENOTCONN: the child is not connected, so it
 * says nothing about the file) and `unexpected` (anything that is not a FopError: a bug,
 * reported as EIO with the original as `cause`). Outcomes are listed in the order the
 * targets were given, never in completion order, so the error a policy reports is the
 * same on every run.
 */
import { Errno, FopError } from '../protocol/errno.js';
import type { FopName } from '../protocol/fops.js';
import type { Layer } from './layer.js';
import type { FopContext, FopReply, FopRequest } from './translator.js';

export type FailureKind = 'errno' | 'down' | 'unexpected';

export interface Success<T> {
  readonly target: number;
  readonly ok: true;
  readonly value: T;
}

export interface Failure {
  readonly target: number;
  readonly ok: false;
  readonly error: FopError;
  readonly kind: FailureKind;
}

export type Outcome<T> = Success<T> | Failure;

/**
 * How many answers are enough: every target, at least one, at least a count, or a
 * predicate over the replies (e.g. AFR's quorum, which counts the first child twice).
 */
export type Enough<T = unknown> = 'all' | 'any' | number | ((replies: Replies<T>) => boolean);

export interface FanoutOptions<T> {
  /** `parallel` (default): every target at once. `sequential`: one after another, in order. */
  order?: 'parallel' | 'sequential';
  /** At most this many calls in flight (parallel only); default: all of them. */
  limit?: number;
  /**
   * Start no more calls once an outcome satisfies this: `first-success` (a read falling
   * back to the next child), `first-failure` (locks taken in order), or a predicate.
   * The targets not called are listed in `skipped`.
   */
  stop?: 'first-success' | 'first-failure' | ((outcome: Outcome<T>) => boolean);
  /** Once aborted, no more calls start; calls already running are awaited. */
  signal?: AbortSignal;
}

/** How a thrown value counts: `down` for ENOTCONN, `unexpected` for anything not a FopError. */
export function classify(err: unknown): { error: FopError; kind: FailureKind } {
  if (!(err instanceof FopError)) return { error: FopError.from(err), kind: 'unexpected' };
  return { error: err, kind: err.errno === Errno.ENOTCONN ? 'down' : 'errno' };
}

/** The outcomes of one fan-out, in target order, and the questions policies ask of them. */
export class Replies<T> {
  constructor(
    readonly outcomes: readonly Outcome<T>[],
    /** Targets never called (a `stop` rule or the signal), in order. */
    readonly skipped: readonly number[] = [],
    /** The signal aborted before every target was called. */
    readonly aborted = false,
  ) {}

  get ok(): Success<T>[] {
    return this.outcomes.filter((o): o is Success<T> => o.ok);
  }

  get failed(): Failure[] {
    return this.outcomes.filter((o): o is Failure => !o.ok);
  }

  /** Targets that are down (ENOTCONN). */
  get down(): number[] {
    return this.failed.filter((f) => f.kind === 'down').map((f) => f.target);
  }

  /** The successful values, in target order. */
  values(): T[] {
    return this.ok.map((o) => o.value);
  }

  get(target: number): Outcome<T> | undefined {
    return this.outcomes.find((o) => o.target === target);
  }

  /** The first success in target order. */
  first(): Success<T> | undefined {
    return this.outcomes.find((o): o is Success<T> => o.ok);
  }

  /** One target's value, or its error thrown (EIO when it was never called). */
  unwrap(target: number): T {
    const o = this.get(target);
    if (!o) throw FopError.of('EIO', `target ${target} was not called`);
    if (!o.ok) throw o.error;
    return o.value;
  }

  has(enough: Enough<T>): boolean {
    const total = this.outcomes.length + this.skipped.length;
    const ok = this.ok.length;
    if (enough === 'all') return ok === total;
    if (enough === 'any') return ok > 0;
    if (typeof enough === 'number') return ok >= enough;
    return enough(this);
  }

  /**
   * The error a policy reports: the first failure (in target order) that `prefer`
   * accepts; else `otherwise`; else the first failure; else ECANCELED when aborted, or
   * EIO when no target failed (a rule asked for more than there was).
   */
  error(opts: { prefer?: (e: FopError, kind: FailureKind) => boolean; otherwise?: FopError } = {}): FopError {
    const failed = this.failed;
    const preferred = opts.prefer && failed.find((f) => opts.prefer!(f.error, f.kind));
    if (preferred) return preferred.error;
    if (opts.otherwise) return opts.otherwise;
    if (this.aborted) return FopError.of('ECANCELED', 'aborted before every child was called');
    return failed[0]?.error ?? FopError.of('EIO', `${this.ok.length} of ${this.outcomes.length} answers`);
  }

  /** Returns this when enough answers came back, else throws `error(opts)`. */
  require(enough: Enough<T>, opts?: Parameters<Replies<T>['error']>[0]): this {
    if (!this.has(enough)) throw this.error(opts);
    return this;
  }

  /** These outcomes followed by another fan-out's (targets must not repeat). */
  and(more: Replies<T>): Replies<T> {
    const seen = new Set(this.outcomes.map((o) => o.target));
    if (more.outcomes.some((o) => seen.has(o.target))) throw new Error('fan-out targets repeated');
    return new Replies(
      [...this.outcomes, ...more.outcomes],
      [...this.skipped, ...more.skipped],
      this.aborted || more.aborted,
    );
  }
}

function shouldStop<T>(stop: FanoutOptions<T>['stop'], o: Outcome<T>): boolean {
  if (stop === undefined) return false;
  if (stop === 'first-success') return o.ok;
  if (stop === 'first-failure') return !o.ok;
  return stop(o);
}

/**
 * Runs `run` for each target and collects the outcomes; never rejects. Targets are any
 * numbers: child indexes for a cluster translator, shard numbers for shard.
 */
export async function fanout<T>(
  targets: readonly number[],
  run: (target: number) => Promise<T>,
  opts: FanoutOptions<T> = {},
): Promise<Replies<T>> {
  const slots: (Outcome<T> | undefined)[] = new Array(targets.length);
  let next = 0;
  let stopped = false;
  const one = async (pos: number): Promise<void> => {
    const target = targets[pos]!;
    try {
      slots[pos] = { target, ok: true, value: await run(target) };
    } catch (err) {
      slots[pos] = { target, ok: false, ...classify(err) };
    }
    if (shouldStop(opts.stop, slots[pos]!)) stopped = true;
  };
  const canStart = () => !stopped && !opts.signal?.aborted && next < targets.length;
  const width = opts.order === 'sequential' ? 1 : Math.max(1, opts.limit ?? targets.length);
  const worker = async () => {
    while (canStart()) await one(next++);
  };
  await Promise.all(Array.from({ length: Math.min(width, targets.length) }, worker));
  const outcomes = slots.filter((o): o is Outcome<T> => o !== undefined);
  const skipped = targets.filter((_, pos) => slots[pos] === undefined);
  return new Replies(outcomes, skipped, skipped.length > 0 && opts.signal?.aborted === true);
}

/**
 * A translator's children, for winding one fop to several of them. Cluster translators
 * keep one (or extend it) and name children by index, in volfile order.
 */
export class Children {
  constructor(readonly layers: readonly Layer[]) {}

  get n(): number {
    return this.layers.length;
  }

  /** 0 … n-1. */
  indexes(): number[] {
    return this.layers.map((_, i) => i);
  }

  /** One child; EIO for an index that is not a child. */
  call<N extends FopName>(i: number, fop: N, req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> {
    const child = this.layers[i];
    if (!child) return Promise.reject(FopError.of('EIO', `no child ${i}`));
    return child.call(fop, req, ctx);
  }

  /**
   * Winds `fop` to the children in `to` (default: all, in order) with the same request,
   * or one built per child. Each child sees `ctx` (and its signal); `opts.signal` only
   * stops calls not yet started, so cleanup fans (RELEASE, unlock) leave it unset.
   */
  wind<N extends FopName>(
    fop: N,
    req: FopRequest<N> | ((i: number) => FopRequest<N>),
    ctx: FopContext,
    opts: FanoutOptions<FopReply<N>> & { to?: readonly number[] } = {},
  ): Promise<Replies<FopReply<N>>> {
    const build = typeof req === 'function' ? req : () => req;
    return fanout(opts.to ?? this.indexes(), (i) => this.call(i, fop, build(i), ctx), opts);
  }
}
