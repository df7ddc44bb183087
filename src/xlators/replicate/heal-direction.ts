/**
 * Which bricks of a replica set hold good copies of an inode (sources) and which need healing
 * (sinks), decided from every brick's changelog the way stock AFR decides it under its heal
 * locks. Pure: the caller gathers the changelogs (LOOKUP/XATTROP replies) and acts on the
 * answer, so every rule here is tested alone.
 *
 * The rules, for one transaction type (data, metadata or entry), with M[i][j] = brick i's
 * pending counter against brick j and dirty[i] its own dirty counter:
 * 1. Every brick must have answered; otherwise nothing is decided (ENOTCONN).
 * 2. A brick with M[i][i] ≠ 0 accuses itself; a self-accused brick's accusations don't count.
 * 3. Sources are the locked bricks nobody (else credible) accuses.
 * 4. Sinks are the bricks a credible source accuses.
 * 5. Data and metadata only: with no source, every locked brick accused by fewer than a heal
 *    quorum of bricks becomes a source (the last operation failed everywhere alike).
 * 6. Still no source: split-brain; every locked brick is a sink, and only a policy or an
 *    administrator can pick the source.
 * 7. Witnesses break ties: dirty counters, plus self-accusations.
 */
import type { BrickChangelog, TxnType } from './changelog.js';

export interface BrickView {
  /** The brick answered the lookup under the heal locks. */
  answered: boolean;
  /** The heal locks are held on this brick. */
  locked: boolean;
  changelog: BrickChangelog;
  /** Data heal: the file's size and ctime on this brick. */
  size?: bigint;
  ctime?: bigint;
  /** The arbiter brick: names and metadata only, never a data source. */
  arbiter?: boolean;
}

export interface Direction {
  sources: boolean[];
  sinks: boolean[];
  /** Tie-break weights: operations each brick saw in flight. */
  witness: number[];
  splitBrain: boolean;
}

export function findDirection(
  type: TxnType,
  bricks: readonly BrickView[],
  healQuorum: number,
): Direction | 'ENOTCONN' {
  const n = bricks.length;
  if (bricks.some((b) => !b.answered)) return 'ENOTCONN';
  const m = (i: number, j: number) => bricks[i]!.changelog.pending[j]?.[type] ?? 0;
  const selfAccused = bricks.map((_, i) => m(i, i) !== 0);
  const accused = new Array<number>(n).fill(0);
  const blamesOthers = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (m(i, j) === 0) continue;
      if (!selfAccused[i]) accused[j]! += 1;
      if (i !== j) blamesOthers[i] = true;
    }
  const sources = bricks.map((b, i) => accused[i] === 0 && b.locked);
  const sinks = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++) {
    if (!sources[i] || selfAccused[i]) continue;
    for (let j = 0; j < n; j++) if (m(i, j) !== 0) sinks[j] = true;
  }
  const witness = bricks.map((_, i) => {
    if (!selfAccused[i]) return 0;
    let w = 0;
    for (let j = 0; j < n; j++) if (j !== i) w += m(i, j);
    return w;
  });
  if (type !== 2 && !sources.some(Boolean))
    for (let i = 0; i < n; i++) if (accused[i]! < healQuorum && bricks[i]!.locked) sources[i] = true;
  const splitBrain = !sources.some(Boolean);
  if (splitBrain) for (let i = 0; i < n; i++) if (bricks[i]!.locked) sinks[i] = true;
  // Self-accusation counts as a witness too when nobody blames anyone else, or when the
  // self-accused brick also blames others (an operation interrupted mid pre-op).
  const anyBlame = blamesOthers.some(Boolean);
  for (let i = 0; i < n; i++) {
    if (selfAccused[i] && (!anyBlame || blamesOthers[i])) witness[i]! += m(i, i);
    witness[i]! += bricks[i]!.changelog.dirty[type];
  }
  return { sources, sinks, witness, splitBrain };
}

export type DataHealPlan =
  { kind: 'clean' } | { kind: 'heal'; source: number; sinks: boolean[] } | { kind: 'split-brain' };

/**
 * The data source and the bricks to overwrite. Without a split-brain, a disagreement in size
 * or in-flight witnesses among the sources is settled as stock does: the largest file, then
 * the most witnessed operations, then the newest ctime. The arbiter is never a data source.
 */
export function planDataHeal(dir: Direction, bricks: readonly BrickView[]): DataHealPlan {
  if (dir.splitBrain) return { kind: 'split-brain' };
  let sources = dir.sources.map((s, i) => s && !bricks[i]!.arbiter);
  if (!sources.some(Boolean)) return { kind: 'split-brain' };
  const sized = sources.flatMap((s, i) => (s ? [bricks[i]!.size ?? 0n] : []));
  const sizesDiffer = sized.some((s) => s !== sized[0]);
  const witnessed = sources.some((s, i) => s && dir.witness[i]! > 0);
  if (sizesDiffer || witnessed) {
    const biggest = maxOf(sources, (i) => bricks[i]!.size ?? 0n);
    sources = sources.map((s, i) => s && (bricks[i]!.size ?? 0n) === biggest);
    const most = maxOf(sources, (i) => BigInt(dir.witness[i]!));
    sources = sources.map((s, i) => s && BigInt(dir.witness[i]!) === most);
    const newest = lastIndexOfMax(sources, (i) => bricks[i]!.ctime ?? 0n);
    sources = sources.map((_, i) => i === newest);
  }
  const sinks = bricks.map((b, i) => b.locked && !sources[i] && !(b.arbiter && dir.sources[i]));
  if (!sinks.some(Boolean)) return { kind: 'clean' };
  return { kind: 'heal', source: sources.indexOf(true), sinks };
}

function maxOf(candidates: readonly boolean[], value: (i: number) => bigint): bigint {
  let best: bigint | undefined;
  candidates.forEach((c, i) => {
    if (c && (best === undefined || value(i) > best)) best = value(i);
  });
  return best ?? 0n;
}

/** The last candidate holding the maximum (stock's newest-ctime tie-break keeps the later one). */
function lastIndexOfMax(candidates: readonly boolean[], value: (i: number) => bigint): number {
  let best = -1;
  candidates.forEach((c, i) => {
    if (c && (best < 0 || value(i) >= value(best))) best = i;
  });
  return best;
}

/**
 * Which answering bricks may serve reads of one transaction type: those no credible brick
 * accuses (`undefined` = the brick did not answer). Unlike heal, this needs no locks and no
 * full set of answers; a brick nobody has heard from is simply not readable.
 */
export function readableFrom(type: TxnType, changelogs: readonly (BrickChangelog | undefined)[]): boolean[] {
  const n = changelogs.length;
  const m = (i: number, j: number) => changelogs[i]?.pending[j]?.[type] ?? 0;
  const accused = new Array<boolean>(n).fill(false);
  for (let i = 0; i < n; i++) {
    if (!changelogs[i] || m(i, i) !== 0) continue;
    for (let j = 0; j < n; j++) if (j !== i && m(i, j) !== 0) accused[j] = true;
  }
  return changelogs.map((c, i) => c !== undefined && !accused[i]);
}
