/**
 * AFR's changelog, as stock GlusterFS 10.3 keeps it on every brick of a replica set (see
 * docs/replication.md): for each brick j of the volume a key `trusted.afr.<vol>-client-<j>`
 * (j is the brick's index in the volume's whole brick list, not within the set) whose value on
 * brick i counts the operations i believes j missed, and `trusted.afr.dirty`, brick i's own
 * "an operation was in flight here" marker. Each value is three big-endian int32 counters, one
 * per transaction type. A missing xattr reads as zeros; heal writes zeros back rather than
 * removing the keys. Pure values and arithmetic only: no I/O here.
 */

/** The counter slot of each transaction type, in the order stock stores them. */
export const TxnType = { DATA: 0, METADATA: 1, ENTRY: 2 } as const;
export type TxnType = (typeof TxnType)[keyof typeof TxnType];

export const DIRTY_KEY = 'trusted.afr.dirty';
export const CHANGELOG_PREFIX = 'trusted.afr.';
/** Bytes in one changelog value: three int32 counters. */
export const CHANGELOG_SIZE = 12;

/** Three counters [data, metadata, entry]. */
export type Counters = readonly [number, number, number];
export const ZERO: Counters = [0, 0, 0];

/** The pending key naming brick `index` of volume `volume` (stock's afr-pending-xattr). */
export function pendingKey(volume: string, index: number): string {
  return `${CHANGELOG_PREFIX}${volume}-client-${index}`;
}

/** Counters from an on-disk value; absent or short values read as zeros for what is missing. */
export function decodeCounters(value: Uint8Array | undefined | null): Counters {
  if (!value) return ZERO;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const at = (slot: number) => (value.byteLength >= (slot + 1) * 4 ? view.getInt32(slot * 4) : 0);
  return [at(0), at(1), at(2)];
}

export function encodeCounters(c: Counters): Buffer {
  const out = Buffer.alloc(CHANGELOG_SIZE);
  out.writeInt32BE(c[0] | 0, 0);
  out.writeInt32BE(c[1] | 0, 4);
  out.writeInt32BE(c[2] | 0, 8);
  return out;
}

/** A delta of `n` in one slot: what an XATTROP ADD_ARRAY carries. */
export function delta(type: TxnType, n: number): Counters {
  const c: [number, number, number] = [0, 0, 0];
  c[type] = n;
  return c;
}

export function isZero(c: Counters): boolean {
  return c[0] === 0 && c[1] === 0 && c[2] === 0;
}

/**
 * What the failed bricks are charged when a new inode is created without them (stock's
 * "new entry marking"): a file gets data 1 + metadata 1; a directory gets metadata 1 + entry 1,
 * plus data 1 when granular entry heal is on (on a directory a data count asks for a full
 * entry heal).
 */
export function newEntryCharge(isDirectory: boolean, granularEntryHeal: boolean): Counters {
  if (!isDirectory) return [1, 1, 0];
  return [granularEntryHeal ? 1 : 0, 1, 1];
}

/**
 * One brick's changelog as read back from LOOKUP/XATTROP: its own dirty counters and the
 * pending counters it holds against each brick of its replica set (indexed within the set).
 */
export interface BrickChangelog {
  dirty: Counters;
  pending: Counters[];
}

/** Reads a brick's changelog for a replica set from its xattrs (absent keys read as zeros). */
export function readChangelog(
  xattrs: ReadonlyMap<string, Uint8Array>,
  volume: string,
  setBrickIndices: readonly number[],
): BrickChangelog {
  return {
    dirty: decodeCounters(xattrs.get(DIRTY_KEY)),
    pending: setBrickIndices.map((j) => decodeCounters(xattrs.get(pendingKey(volume, j)))),
  };
}
