/**
 * Client quorum (cluster.quorum-type), as stock AFR decides it. With `auto` a replica set has
 * quorum when more than half of its bricks are up, or exactly half including the first brick;
 * `fixed` wants `quorum-count` bricks; `none` always has it. The arbiter counts like any brick
 * here. glusterd writes `auto` for replica 3 volumes. Without quorum a write fails with
 * ENOTCONN (10.x), and so does a read when quorum is on and no brick is readable.
 */
export type QuorumType = 'none' | 'auto' | 'fixed';

export interface QuorumPolicy {
  type: QuorumType;
  /** For `fixed`. */
  count?: number;
}

/** Does the set of bricks marked true in `up` (one entry per brick of the set) have quorum? */
export function hasQuorum(policy: QuorumPolicy, up: readonly boolean[]): boolean {
  const n = up.length;
  const upCount = up.filter(Boolean).length;
  switch (policy.type) {
    case 'none':
      return true;
    case 'fixed':
      return upCount >= (policy.count ?? n);
    case 'auto':
      return upCount * 2 > n || (upCount * 2 === n && up[0] === true);
  }
}

/**
 * How many accusations make a brick unfit as a fallback heal source when no brick is clean
 * (stock's quorum count: n/2 + 1 for auto, quorum-count for fixed, 0 — no fallback — for none).
 */
export function healQuorumCount(policy: QuorumPolicy, n: number): number {
  if (policy.type === 'auto') return Math.floor(n / 2) + 1;
  if (policy.type === 'fixed') return policy.count ?? n;
  return 0;
}
