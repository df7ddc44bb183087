/**
 * Picking the source of a split-brain inode. Heal never guesses: without a policy a split-brain
 * is reported and left alone. A policy names how to choose — the volume's
 * `cluster.favorite-child-policy` (size, ctime, mtime, majority) or the CLI's
 * `split-brain bigger-file | latest-mtime | source-brick` — and the choice must be unique.
 */
import type { BrickState } from './bricks.js';

export type SplitBrainPolicy =
  | { kind: 'bigger-file' }
  | { kind: 'latest-mtime' }
  | { kind: 'latest-ctime' }
  | { kind: 'majority' }
  | { kind: 'source-brick'; brick: number };

/** The favorite-child-policy option's value as a policy (`none` → undefined). */
export function favoriteChildPolicy(value: string | undefined): SplitBrainPolicy | undefined {
  switch (value) {
    case 'size':
      return { kind: 'bigger-file' };
    case 'mtime':
      return { kind: 'latest-mtime' };
    case 'ctime':
      return { kind: 'latest-ctime' };
    case 'majority':
      return { kind: 'majority' };
    default:
      return undefined;
  }
}

const mtimeNs = (b: BrickState) => BigInt(b.stat!.mtime) * 1_000_000_000n + BigInt(b.stat!.mtimeNsec);
const ctimeNs = (b: BrickState) => BigInt(b.stat!.ctime) * 1_000_000_000n + BigInt(b.stat!.ctimeNsec);

/**
 * The brick a policy picks among `candidates` (the bricks that answered and are not the arbiter
 * for data), or a reason why it picks none (a tie, or sizes/times that do not decide).
 */
export function pickSource(
  policy: SplitBrainPolicy,
  states: readonly BrickState[],
  candidates: readonly number[],
): number | string {
  if (policy.kind === 'source-brick')
    return candidates.includes(policy.brick) ? policy.brick : `brick ${policy.brick} cannot be the source`;
  if (policy.kind === 'majority') {
    // A copy that more than half of the bricks hold byte-for-byte-alike in size and mtime.
    const key = (i: number) => `${states[i]!.stat!.size}:${mtimeNs(states[i]!)}`;
    for (const i of candidates)
      if (candidates.filter((j) => key(j) === key(i)).length * 2 > states.length) return i;
    return 'no majority';
  }
  const value =
    policy.kind === 'bigger-file'
      ? (i: number) => BigInt(states[i]!.stat!.size)
      : policy.kind === 'latest-mtime'
        ? (i: number) => mtimeNs(states[i]!)
        : (i: number) => ctimeNs(states[i]!);
  let best: number | undefined;
  let tie = false;
  for (const i of candidates) {
    if (best === undefined || value(i) > value(best)) {
      best = i;
      tie = false;
    } else if (value(i) === value(best)) tie = true;
  }
  if (best === undefined) return 'no candidate';
  if (tie)
    return `${policy.kind}: no single ${policy.kind === 'bigger-file' ? 'biggest file' : 'newest copy'}`;
  return best;
}
