/**
 * The in-memory records, one per inode in the xattrop or dirty index, with the memory
 * bounds: a record past `perInode` ranges is coarsened (its smallest gaps merged, down to
 * 7/8 of the limit, so coarsening is rare); a record whose growth would take all records
 * past `total` ranges is marked damaged and its ranges freed. Damaged is sticky until
 * the record is dropped.
 */
import { RangeSet, type ByteRange } from './range-set.js';

export interface RangeRecord {
  /** null once damaged: heal must compare the whole file. */
  ranges: RangeSet | null;
  /** Whether a watched pending key (xattrop/) or the dirty key (dirty/) is non-zero. */
  pending: boolean;
  dirty: boolean;
  /** Bumped at every change; `saved` is the version on disk (-1: none written by us). */
  version: number;
  saved: number;
  /** Whether a file for it may exist under ranges/ (to drop it too). */
  onDisk: boolean;
}

export interface RecordLimits {
  perInode: number;
  total: number;
}

export class RangeRecords {
  private readonly byGfid = new Map<string, RangeRecord>();
  /** Ranges held by all records together. */
  private held = 0;

  constructor(private readonly limits: RecordLimits) {}

  get size(): number {
    return this.byGfid.size;
  }

  get totalRanges(): number {
    return this.held;
  }

  get(key: string): RangeRecord | undefined {
    return this.byGfid.get(key);
  }

  entries(): IterableIterator<[string, RangeRecord]> {
    return this.byGfid.entries();
  }

  /** The inode's record, created empty and complete (or damaged) if it has none. */
  ensure(key: string, init: { ranges?: readonly ByteRange[] | null; onDisk?: boolean } = {}): RangeRecord {
    const have = this.byGfid.get(key);
    if (have) return have;
    const rec: RangeRecord = {
      ranges: init.ranges === null ? null : new RangeSet(),
      pending: false,
      dirty: false,
      version: 0,
      saved: -1,
      onDisk: init.onDisk ?? false,
    };
    this.byGfid.set(key, rec);
    for (const r of init.ranges ?? []) this.note(key, r.offset, r.length);
    return rec;
  }

  drop(key: string): RangeRecord | undefined {
    const rec = this.byGfid.get(key);
    if (!rec) return undefined;
    this.held -= rec.ranges?.count ?? 0;
    this.byGfid.delete(key);
    return rec;
  }

  /** Adds a changed range to the inode's record, if it has one. */
  note(key: string, offset: number, length: number): void {
    const rec = this.byGfid.get(key);
    if (!rec?.ranges || !(length > 0)) return;
    this.held += rec.ranges.add(offset, length);
    rec.version++;
    if (rec.ranges.count > this.limits.perInode)
      this.held -= rec.ranges.coarsen(Math.max(1, Math.floor((this.limits.perInode * 7) / 8)));
    if (this.held > this.limits.total) this.damage(rec);
  }

  damage(rec: RangeRecord): void {
    if (!rec.ranges) return;
    this.held -= rec.ranges.count;
    rec.ranges = null;
    rec.version++;
  }
}
