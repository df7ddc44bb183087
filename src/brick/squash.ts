/**
 * Root-squash and all-squash (protocol/server's `root-squash`, `all-squash`, `anonuid`,
 * `anongid`; volume keys `server.*`), with stock 10.3's rules (docs/security.md):
 *
 * - root-squash maps uid 0 to anonuid and gid 0 to anongid; all-squash maps every uid and
 *   gid. Both replace only the supplementary gids that are 0 (all-squash keeps the others).
 * - A caller is left alone only when its session logged in with the volume's credentials
 *   (a trusted client: glusterd's own daemons and local mounts) and its pid is one stock
 *   reserves for an internal client that must act as root: gsyncd -1, rebalance -3,
 *   `--no-root-squash` mounts -4, quota -5, the self-heal daemon -6. pid 1 (gNFS) is
 *   squashed even when trusted.
 */
import type { Caller } from '../xlator/index.js';

export interface SquashPolicy {
  rootSquash: boolean;
  allSquash: boolean;
  anonUid: number;
  anonGid: number;
}

/** nfsnobody, stock's default anonuid and anongid. */
export const ANON_ID = 65534;

export const NO_SQUASH: SquashPolicy = {
  rootSquash: false,
  allSquash: false,
  anonUid: ANON_ID,
  anonGid: ANON_ID,
};

/** Stock's special client pids exempt from squashing when their session is trusted. */
export const UNSQUASHED_PIDS: ReadonlySet<number> = new Set([
  -1, // GF_CLIENT_PID_GSYNCD
  -3, // GF_CLIENT_PID_DEFRAG
  -4, // GF_CLIENT_PID_NO_ROOT_SQUASH
  -5, // GF_CLIENT_PID_QUOTA_MOUNT
  -6, // GF_CLIENT_PID_SELF_HEALD
]);

const NFS_PID = 1;

/** The caller the brick acts for: `caller` squashed as the policy says, or unchanged. */
export function squashCaller(caller: Caller, policy: SquashPolicy, trusted: boolean): Caller {
  if (!policy.rootSquash && !policy.allSquash) return caller;
  if (trusted && caller.pid !== NFS_PID && UNSQUASHED_PIDS.has(caller.pid)) return caller;
  let { uid, gid } = caller;
  if (policy.allSquash) {
    uid = policy.anonUid;
    gid = policy.anonGid;
  } else {
    if (uid === 0) uid = policy.anonUid;
    if (gid === 0) gid = policy.anonGid;
  }
  const groups = caller.groups.includes(0)
    ? caller.groups.map((g) => (g === 0 ? policy.anonGid : g))
    : caller.groups;
  return { ...caller, uid, gid, groups };
}
