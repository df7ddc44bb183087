/**
 * A set of byte ranges, kept sorted, disjoint and non-adjacent (touching ranges merge), as
 * half-open [start, end) pairs in two arrays. Offsets are JS numbers: files stay far below
 * 2^53 bytes. Adding costs a binary search and at most one splice; `coarsen` bounds the
 * count by merging the smallest gaps, so the set only ever grows to cover more bytes,
 * never to lose any.
 */
export interface ByteRange {
  offset: number;
  length: number;
}

export class RangeSet {
  private starts: number[] = [];
  private ends: number[] = [];

  /** Number of disjoint ranges. */
  get count(): number {
    return this.starts.length;
  }

  /** Bytes covered. */
  get bytes(): number {
    let n = 0;
    for (let i = 0; i < this.starts.length; i++) n += this.ends[i]! - this.starts[i]!;
    return n;
  }

  /** Adds [offset, offset + length); returns how many ranges the set gained (may be ≤ 0). */
  add(offset: number, length: number): number {
    if (!(length > 0)) return 0;
    const start = offset;
    const end = offset + length;
    const before = this.starts.length;
    // First range that ends at or after `start` (it touches or follows the new one).
    const i = this.firstEndingAtOrAfter(start);
    // Ranges i..j-1 touch or overlap [start, end].
    let j = i;
    while (j < before && this.starts[j]! <= end) j++;
    if (i === j) {
      this.starts.splice(i, 0, start);
      this.ends.splice(i, 0, end);
    } else {
      const merged = [Math.min(start, this.starts[i]!), Math.max(end, this.ends[j - 1]!)] as const;
      this.starts.splice(i, j - i, merged[0]);
      this.ends.splice(i, j - i, merged[1]);
    }
    return this.starts.length - before;
  }

  /** Takes [offset, offset + length) out (splitting a range it falls inside); returns the change in count. */
  remove(offset: number, length: number): number {
    if (!(length > 0)) return 0;
    const start = offset;
    const end = offset + length;
    const before = this.starts.length;
    // First range that ends after `start`: it is the first one the removal can touch.
    let i = this.firstEndingAtOrAfter(start);
    if (i < before && this.ends[i] === start) i++;
    let j = i;
    while (j < before && this.starts[j]! < end) j++;
    if (i === j) return 0;
    const keep: [number, number][] = [];
    if (this.starts[i]! < start) keep.push([this.starts[i]!, start]);
    if (this.ends[j - 1]! > end) keep.push([end, this.ends[j - 1]!]);
    this.starts.splice(i, j - i, ...keep.map((k) => k[0]));
    this.ends.splice(i, j - i, ...keep.map((k) => k[1]));
    return this.starts.length - before;
  }

  /** Whether some range shares at least one byte with [offset, offset + length). */
  overlaps(offset: number, length: number): boolean {
    if (!(length > 0)) return false;
    const i = this.firstEndingAtOrAfter(offset);
    const k = i < this.ends.length && this.ends[i] === offset ? i + 1 : i;
    return k < this.starts.length && this.starts[k]! < offset + length;
  }

  private firstEndingAtOrAfter(x: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Merges the smallest gaps until at most `target` ranges remain (target ≥ 1). Ties
   * go left to right. Returns how many ranges were removed.
   */
  coarsen(target: number): number {
    const n = this.starts.length;
    const merges = n - Math.max(1, target);
    if (merges <= 0) return 0;
    const gaps = new Float64Array(n - 1);
    for (let k = 0; k < n - 1; k++) gaps[k] = this.starts[k + 1]! - this.ends[k]!;
    const threshold = Float64Array.from(gaps).sort()[merges - 1]!;
    // Every gap below the threshold merges, and enough gaps equal to it.
    let atThreshold = merges;
    for (let k = 0; k < n - 1; k++) if (gaps[k]! < threshold) atThreshold--;
    const starts: number[] = [this.starts[0]!];
    const ends: number[] = [this.ends[0]!];
    for (let k = 1; k < n; k++) {
      const gap = gaps[k - 1]!;
      const merge = gap < threshold || (gap === threshold && atThreshold-- > 0);
      if (merge) ends[ends.length - 1] = this.ends[k]!;
      else {
        starts.push(this.starts[k]!);
        ends.push(this.ends[k]!);
      }
    }
    this.starts = starts;
    this.ends = ends;
    return n - starts.length;
  }

  clear(): void {
    this.starts = [];
    this.ends = [];
  }

  *[Symbol.iterator](): IterableIterator<ByteRange> {
    for (let i = 0; i < this.starts.length; i++)
      yield { offset: this.starts[i]!, length: this.ends[i]! - this.starts[i]! };
  }

  toArray(): ByteRange[] {
    return [...this];
  }

  static from(ranges: Iterable<ByteRange>): RangeSet {
    const set = new RangeSet();
    for (const r of ranges) set.add(r.offset, r.length);
    return set;
  }
}
