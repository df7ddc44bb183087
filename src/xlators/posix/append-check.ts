/**
 * AFR's `glusterfs.write-is-append` answer ("did this WRITE start at EOF?") without running a
 * file's WRITEs one at a time. The answers follow the order the WRITEs that ask arrive in: the
 * first of a run takes the file's size on the loop before its IO is submitted, and each later
 * one starts from the size the one before it left (its size before, or its end if that is
 * further). So the IO of a file's WRITEs runs in parallel, as on a stock brick, while the
 * answers stay those of a brick that ran them in order. Serialising the IO (the earlier way)
 * cost replica 3 sequential writes about a third of their throughput: write-behind keeps ~6
 * WRITEs per file in flight and each waited for the disk under the one before.
 *
 * A WRITE that fails or falls short leaves the size unknown; the next one then answers from its
 * own pre-stat (stock's unlocked check) and starts a new run from its own end.
 */
import { fstatSync } from 'node:fs';

type SizeAfter = Promise<bigint | undefined>;

export class AppendChecks {
  /** gfid (hex) → the size the last admitted asking WRITE leaves, once known. */
  private readonly last = new Map<string, SizeAfter>();

  /**
   * Runs `io` (the WRITE, resolving with its byte count and pre-stat size) and resolves with it
   * and the size of the file before it in arrival order.
   */
  async run<T extends { bytes: number; preSize: bigint }>(
    key: string,
    osFd: number,
    offset: number,
    length: number,
    io: () => Promise<T>,
  ): Promise<{ result: T; sizeBefore: bigint }> {
    const previous = this.last.get(key);
    // First of a run: nothing else asking is in flight, so the size now is the size before it.
    const sizeNow = previous ? undefined : fstatSync(osFd, { bigint: true }).size;
    let settle!: (size: bigint | undefined) => void;
    const mine: SizeAfter = new Promise((resolve) => (settle = resolve));
    this.last.set(key, mine);
    try {
      let result: T;
      try {
        result = await io();
      } catch (err) {
        settle(undefined);
        throw err;
      }
      const known = sizeNow ?? (await previous);
      const sizeBefore = known ?? result.preSize;
      const end = BigInt(offset + result.bytes);
      settle(result.bytes === length ? (end > sizeBefore ? end : sizeBefore) : undefined);
      return { result, sizeBefore };
    } finally {
      if (this.last.get(key) === mine) this.last.delete(key);
    }
  }
}
