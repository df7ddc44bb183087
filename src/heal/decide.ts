/**
 * From the bricks' answers under the heal locks to "who is the source, who are the sinks" for
 * one transaction type: replicate's pure findDirection/planDataHeal, plus a split-brain policy
 * when one was given. No I/O here.
 */
import {
  findDirection,
  planDataHeal,
  TxnType,
  type BrickView,
  type Replica,
} from '../xlators/replicate/index.js';
import type { BrickState } from './bricks.js';
import { pickSource, type SplitBrainPolicy } from './policy.js';

export type Decision =
  | { kind: 'clean' }
  | { kind: 'heal'; source: number; sinks: boolean[]; bySplitBrainPolicy: boolean }
  | { kind: 'split-brain'; reason: string };

export function views(r: Replica, states: readonly BrickState[], locked: readonly boolean[]): BrickView[] {
  return states.map((s, i) => ({
    answered: s.ok,
    locked: s.ok && locked[i]!,
    changelog: s.changelog ?? { dirty: [0, 0, 0], pending: r.cfg.pendingKeys.map(() => [0, 0, 0] as const) },
    ...(s.stat
      ? { size: BigInt(s.stat.size), ctime: BigInt(s.stat.ctime) * 1_000_000_000n + BigInt(s.stat.ctimeNsec) }
      : {}),
    arbiter: r.isArbiter(i),
  }));
}

/** Does any brick hold a non-zero counter of this type (pending or dirty)? */
export function needsHeal(type: TxnType, states: readonly BrickState[]): boolean {
  return states.some(
    (s) => s.changelog && (s.changelog.dirty[type] !== 0 || s.changelog.pending.some((c) => c[type] !== 0)),
  );
}

export function decide(
  r: Replica,
  type: TxnType,
  states: readonly BrickState[],
  locked: readonly boolean[],
  policy: SplitBrainPolicy | undefined,
): Decision {
  const bricks = views(r, states, locked);
  const healQuorum = Math.floor(r.n / 2) + 1;
  const dir = findDirection(type, bricks, healQuorum);
  if (dir === 'ENOTCONN') return { kind: 'split-brain', reason: 'not every brick answered' };
  let plan: { source: number; sinks: boolean[] } | 'clean' | 'split-brain';
  if (type === TxnType.DATA) {
    const p = planDataHeal(dir, bricks);
    plan = p.kind === 'heal' ? p : p.kind;
  } else if (dir.splitBrain) plan = 'split-brain';
  else {
    // Metadata and entries: the first source (stock picks the lowest index among equals).
    const source = dir.sources.indexOf(true);
    const sinks = bricks.map((b, i) => b.locked && i !== source && (dir.sinks[i]! || !dir.sources[i]));
    plan = sinks.some(Boolean) ? { source, sinks } : 'clean';
  }
  if (plan === 'clean') return { kind: 'clean' };
  if (plan !== 'split-brain') return { kind: 'heal', ...plan, bySplitBrainPolicy: false };
  if (!policy) return { kind: 'split-brain', reason: 'no brick is free of accusations' };
  const candidates = bricks.flatMap((b, i) => (b.locked && !(type === TxnType.DATA && b.arbiter) ? [i] : []));
  const source = pickSource(policy, states, candidates);
  if (typeof source === 'string') return { kind: 'split-brain', reason: source };
  const sinks = bricks.map((b, i) => b.locked && i !== source);
  return { kind: 'heal', source, sinks, bySplitBrainPolicy: true };
}
