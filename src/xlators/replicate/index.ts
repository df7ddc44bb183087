/**
 * cluster/replicate (AFR): every brick of a replica set holds the whole file. Writes go to all
 * up bricks inside transactions that leave stock GlusterFS 10.3's changelog on the bricks, so
 * stock clients, stock bricks and stock's self-heal daemon read them as their own; reads go to
 * one brick that nobody blames. docs/replication.md describes the on-brick format and the rules.
 *
 * The pieces: replica.ts (children, liveness, per-inode state, fan-out), transaction.ts (lock →
 * pre-op → op → post-op → unlock, eager data locks), reads.ts (LOOKUP and reads), writes.ts
 * (data and metadata fops), entries.ts (namespace fops), fd-ops.ts (opens, flush, locks,
 * listings); and pure decisions with no I/O: changelog.ts, quorum.ts, read-child.ts,
 * heal-direction.ts.
 */
import { Errno, FopError } from '../../protocol/errno.js';
import type { FopName } from '../../protocol/fops.js';
import type { FopHandler, FopTable } from '../../xlator/translator.js';
import { defineTranslator } from '../../xlator/translator.js';
import { entryOps } from './entries.js';
import { fdOps } from './fd-ops.js';
import { replicateOptions } from './options.js';
import { readOps } from './reads.js';
import { Replica } from './replica.js';
import { writeOps } from './writes.js';

export { Replica } from './replica.js';
export * from './changelog.js';
export * from './quorum.js';
export { chooseReadChild, superFastHash } from './read-child.js';
export {
  findDirection,
  planDataHeal,
  readableFrom,
  type BrickView,
  type DataHealPlan,
  type Direction,
} from './heal-direction.js';

/** Fops replicate does not carry (none of QEMU, fio, FUSE or the client library needs them). */
const UNSUPPORTED: readonly FopName[] = [
  'IPC',
  'LEASE',
  'GETACTIVELK',
  'SETACTIVELK',
  'ICREATE',
  'NAMELINK',
  'PUT',
  'COPY_FILE_RANGE',
];

/** How long after quorum is up the translator waits for the remaining bricks before serving. */
const LATE_CHILD_GRACE_MS = 2000;

export const replicate = defineTranslator({
  type: 'cluster/replicate',
  children: 'many',
  options: replicateOptions,
  create({ name, options: o, children }) {
    if (children.length < 2)
      throw new FopError(Errno.EINVAL, `${name}: cluster/replicate needs at least 2 subvolumes`);
    const names = o['afr-pending-xattr']
      ? o['afr-pending-xattr'].split(',').map((s) => s.trim())
      : children.map((c) => c.name);
    if (names.length !== children.length)
      throw new FopError(
        Errno.EINVAL,
        `${name}: afr-pending-xattr names ${names.length} bricks for ${children.length} subvolumes`,
      );
    const preferredByName = o['read-subvolume']
      ? children.findIndex((c) => c.name === o['read-subvolume'])
      : -1;
    const preferred = o['read-subvolume-index'] >= 0 ? o['read-subvolume-index'] : preferredByName;
    const r = new Replica({
      name,
      children,
      pendingKeys: names.map((n) => `trusted.afr.${n}`),
      dirtyKey: o['afr-dirty-xattr'],
      quorum: {
        type: (o['quorum-type'] || (children.length > 2 ? 'auto' : 'none')) as 'none' | 'auto' | 'fixed',
        count: o['quorum-count'],
      },
      arbiter: o['arbiter-count'] === 1,
      eagerLock: o['eager-lock'],
      postOpDelayMs: o['post-op-delay-secs'] * 1000,
      readHashMode: o['read-hash-mode'] === 0 ? 0 : 1,
      ...(preferred >= 0 && preferred < children.length ? { preferredChild: preferred } : {}),
      granularEntryHeal: o['granular-entry-heal'],
    });
    const fops: FopTable = { ...readOps(r), ...writeOps(r), ...entryOps(r), ...fdOps(r) };
    const table = fops as Record<string, FopHandler<never>>;
    for (const fop of UNSUPPORTED)
      table[fop] = (() =>
        Promise.reject(
          new FopError(Errno.EOPNOTSUPP, `${name}: ${fop} is not supported by cluster/replicate`),
        )) as never;
    return {
      fops,
      replica: r,
      /** Serving starts once a quorum of bricks is up, after a short wait for the rest. */
      async whenReady(signal?: AbortSignal) {
        let quorumSince: number | undefined;
        for (;;) {
          if (signal?.aborted) throw signal.reason;
          const up = r.upVector();
          if (up.every(Boolean)) return;
          if (r.hasQuorum(up) && up.some(Boolean)) {
            quorumSince ??= Date.now();
            if (Date.now() - quorumSince >= LATE_CHILD_GRACE_MS) return;
          } else quorumSince = undefined;
          await new Promise((res) => setTimeout(res, 50));
        }
      },
    };
  },
});
