/**
 * Directory layouts (docs/distribute.md, "Layouts"). Each subvolume's copy of a directory
 * carries `trusted.glusterfs.dht`: 16 bytes, four big-endian words [commit hash, hash
 * type, start, stop], start and stop inclusive; 0/0 means "no range here". A name lives
 * on the subvolume whose range holds its hash. New layouts are assigned the way stock's
 * dht_selfheal_layout_new_directory does, so both clients give a directory the same ranges.
 */
import type { NameHasher } from './hash.js';

export const LAYOUT_XATTR = 'trusted.glusterfs.dht';
export const HASH_TYPE_DM = 0;
/** A layout set by the user: stock never rewrites it. */
export const HASH_TYPE_DM_USER = 1;
/** The commit hash of a layout rebuilt because of holes or overlaps. */
export const LAYOUT_HASH_INVALID = 1;

export interface DiskLayout {
  commit: number;
  type: number;
  start: number;
  stop: number;
}

/** The 16-byte on-disk layout. Throws on any other length (stock asserts it). */
export function parseDiskLayout(value: Uint8Array): DiskLayout {
  if (value.length !== 16) throw new Error(`layout xattr of ${value.length} bytes, expected 16`);
  const b = Buffer.from(value.buffer, value.byteOffset, 16);
  return {
    commit: b.readUInt32BE(0),
    type: b.readUInt32BE(4),
    start: b.readUInt32BE(8),
    stop: b.readUInt32BE(12),
  };
}

export function encodeDiskLayout(l: DiskLayout): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(l.commit >>> 0, 0);
  b.writeUInt32BE(l.type >>> 0, 4);
  b.writeUInt32BE(l.start >>> 0, 8);
  b.writeUInt32BE(l.stop >>> 0, 12);
  return b;
}

/** False for the 0/0 "no range" entry. */
export function hasRange(l: DiskLayout): boolean {
  return !(l.start === 0 && l.stop === 0);
}

/**
 * Checks that the layouts of one directory (one per subvolume; null = none) cover
 * 0..0xffffffff exactly, without holes or overlaps; returns the problem, or '' when sound.
 */
export function layoutProblem(layouts: readonly (DiskLayout | null)[]): string {
  const ranges = layouts
    .filter((l): l is DiskLayout => l !== null && hasRange(l))
    .sort((a, b) => a.start - b.start);
  let next = 0;
  for (const r of ranges) {
    if (r.stop < r.start) return `inverted range ${r.start.toString(16)}..${r.stop.toString(16)}`;
    if (r.start > next) return `hole ${next.toString(16)}..${(r.start - 1).toString(16)}`;
    if (r.start < next) return `overlap at ${r.start.toString(16)}..${r.stop.toString(16)}`;
    next = r.stop + 1;
  }
  return next === 0x1_0000_0000 ? '' : `hole after ${(next - 1).toString(16)}`;
}

/** Index of the subvolume whose range holds `hash` (dht_layout_search), or -1. */
export function layoutOwner(layouts: readonly (DiskLayout | null)[], hash: number): number {
  return layouts.findIndex((l) => l !== null && hasRange(l) && l.start <= hash && hash <= l.stop);
}

/** One directory's layout across the subvolumes, indexed like the translator's children. */
export class Layout {
  /** Merged as dht_layout_merge does: one value, or LAYOUT_HASH_INVALID when they differ. */
  readonly commit: number;
  /** '' when the ranges cover the hash space exactly. */
  readonly problem: string;

  constructor(
    /** null: that subvolume's copy has no (valid) layout xattr, or no copy at all. */
    readonly entries: readonly (DiskLayout | null)[],
  ) {
    let commit = 0;
    for (const e of entries) {
      if (!e) continue;
      if (commit === 0) commit = e.commit;
      else if (commit !== e.commit) commit = LAYOUT_HASH_INVALID;
    }
    this.commit = commit;
    this.problem = layoutProblem(entries);
  }

  get sound(): boolean {
    return this.problem === '';
  }

  /** Subvolumes whose copy has no layout at all. */
  get missing(): number[] {
    return this.entries.flatMap((e, i) => (e ? [] : [i]));
  }

  /** The subvolume a name hashing to `hash` lives on, or -1 (a hole). */
  search(hash: number): number {
    return layoutOwner(this.entries, hash);
  }

  /** What this layout stores on subvolume `i` (0/0 when it takes no part). */
  diskLayout(i: number): Buffer {
    return encodeDiskLayout(
      this.entries[i] ?? { commit: this.commit, type: HASH_TYPE_DM, start: 0, stop: 0 },
    );
  }
}

/**
 * A subvolume's weight for layouts (dht_du_info_cbk): its size in 1 MiB chunks, from
 * STATFS. 0 when unknown, which makes the assignment unweighted.
 */
export function statfsChunks(bsize: bigint | number, blocks: bigint | number): number {
  const bs = BigInt(bsize);
  const total = BigInt(blocks);
  if (bs === 0n || total === 0n) return 0;
  const bpc = BigInt.asUintN(32, (1n << 20n) / bs);
  if (bpc === 0n) return 0;
  return Number(BigInt.asUintN(32, (total + bpc - 1n) / bpc));
}

export interface AssignOptions {
  /** Subvolume (child) names, in child order: ranges go round in strcmp order of these. */
  names: readonly string[];
  /** What picks the first subvolume: the directory's full path ("/a/b"), or its gfid string. */
  key: string;
  hasher: NameHasher;
  commit: number;
  /** Per-child weights (statfsChunks); unweighted when absent or any is 0. */
  weights?: readonly number[] | null;
  /** Children that get a range (default all); the others get 0/0. */
  eligible?: readonly boolean[];
}

/**
 * dht_selfheal_layout_new_directory: sort the subvolumes by name, start at
 * hash(key) % n, give each a range of 0xffffffff / n (or weighted by size) in turn, and
 * end the last at 0xffffffff. Doubles and uint32 truncation exactly as the C code.
 */
export function assignLayout(o: AssignOptions): Layout {
  const n = o.names.length;
  const eligible = (child: number) => o.eligible?.[child] ?? true;
  const order = o.names
    .map((name, child) => ({ name: Buffer.from(name), child }))
    .sort((a, b) => Buffer.compare(a.name, b.name))
    .map((e) => e.child);
  const using = order.filter(eligible);
  const weighted = o.weights && using.every((c) => (o.weights![c] ?? 0) > 0) ? o.weights : null;
  const total = weighted ? using.reduce((a, c) => a + weighted[c]!, 0) : using.length;
  const chunk = 0xffffffff / total;
  // The start counts every subvolume, eligible or not (layout->cnt).
  const first = o.hasher.hash(o.key) % n;
  const entries: DiskLayout[] = o.names.map(() => ({
    commit: o.commit,
    type: HASH_TYPE_DM,
    start: 0,
    stop: 0,
  }));
  let start = 0;
  let used = 0;
  for (let k = 0; k < n && used < using.length; k++) {
    const child = order[(first + k) % n]!;
    if (!eligible(child)) continue;
    const size = Math.trunc(chunk * (weighted ? weighted[child]! : 1)) >>> 0;
    const last = ++used === using.length;
    entries[child] = {
      commit: o.commit,
      type: HASH_TYPE_DM,
      start,
      stop: last ? 0xffffffff : (start + size - 1) >>> 0,
    };
    start = (start + size) >>> 0;
  }
  return new Layout(entries);
}
