/**
 * A translator placed in a graph: dispatches each fop to the translator's handler or,
 * when it has none, to its only child (pass-through). Counts calls, errors and time per
 * fop, as GlusterFS's io-stats does, at the cost of two clock reads per call.
 */
import { Errno, FopError } from '../protocol/errno.js';
import type { FopName } from '../protocol/fops.js';
import type { FopContext, FopReply, FopRequest, Next, Translator } from './translator.js';

export interface FopStats {
  calls: number;
  errors: number;
  /** Total time in this layer and below, nanoseconds. */
  totalNs: bigint;
}

export class Layer {
  readonly stats = new Map<FopName, FopStats>();

  constructor(
    readonly name: string,
    readonly type: string,
    readonly translator: Translator,
    readonly children: readonly Layer[],
  ) {}

  /** The layer below, for single-child translators; ENOSYS at a leaf. */
  private below<N extends FopName>(fop: N): Next<N> {
    const child = this.children.length === 1 ? this.children[0] : undefined;
    if (!child) {
      return () =>
        Promise.reject(
          new FopError(Errno.ENOSYS, `${fop} is not implemented by ${this.name} (${this.type})`),
        );
    }
    return (req, ctx) => child.call(fop, req, ctx as FopContext);
  }

  async call<N extends FopName>(fop: N, req: FopRequest<N>, ctx: FopContext): Promise<FopReply<N>> {
    const handler = this.translator.fops[fop];
    const started = process.hrtime.bigint();
    let stats = this.stats.get(fop);
    if (!stats) this.stats.set(fop, (stats = { calls: 0, errors: 0, totalNs: 0n }));
    stats.calls++;
    try {
      const next = this.below(fop);
      // Bind the default context so `next(req)` keeps the caller's.
      const bound: Next<N> = (r, c) => next(r, c ?? ctx);
      return await (handler ? handler(req, ctx, bound) : bound(req));
    } catch (err) {
      stats.errors++;
      throw err;
    } finally {
      stats.totalNs += process.hrtime.bigint() - started;
    }
  }
}
