/**
 * features/locks: the brick's lock manager. It answers LK (POSIX record locks),
 * INODELK/FINODELK (range locks in named domains) and ENTRYLK/FENTRYLK (name locks in
 * directories) itself, releases POSIX locks on FLUSH and RELEASE as close() does, and
 * everything a session held when it ends. Every other fop passes through, and on the way
 * back gets the lock counts its xdata asked for (xdata.ts).
 *
 * Requests are read as stock's protocol/server and locks xlator read them
 * (server-rpc-fops_v2.c, xlators/features/locks/src/posix.c):
 * - the lock type is the request's `type` field, which overrides flock.type;
 * - the owner is (session, lk_owner of the RPC credential); flock.lkOwner is ignored;
 * - whence is ignored (clients send absolute offsets);
 * - GETLK_FD is answered as GETLK; reservation locks (RESLK_*) are not implemented: EINVAL.
 */
import { FopError } from '../../protocol/errno.js';
import { EntrylkCmd, LockCmd } from '../../protocol/locks.js';
import type { Flock } from '../../protocol/structs.js';
import { OptionError } from '../../xlator/options.js';
import type { OpenFd } from '../../xlator/fd.js';
import {
  defineTranslator,
  type FopContext,
  type FopReply,
  type FopRequest,
  type FopTable,
  type Translator,
} from '../../xlator/translator.js';
import { LockManager } from './manager.js';
import { ownerOf } from './owner.js';
import { RDLCK, UNLCK, type LockType } from './posix.js';
import { OFFSET_MAX, inodelkRange, posixRange, rangeLen } from './range.js';
import type { EntryLock } from './records.js';
import { addLockCounts, asksForLockCounts, type CountTarget } from './xdata.js';

export { LockManager } from './manager.js';

/** The translator features/locks creates; `manager` is its state (tests, dumps). */
export type LocksTranslator = Translator & { readonly manager: LockManager };

function lockType(type: number): LockType {
  if (type !== 0 && type !== 1 && type !== 2) throw FopError.of('EINVAL', `lock type ${type}`);
  return type;
}

/** AFR's metadata lock range goes to its own domain (stock _pl_convert_volume_for_special_range). */
function inodelkDomain(domain: string, start: bigint, len: bigint): string {
  if (start !== OFFSET_MAX - 1n || len !== 0n || domain.endsWith(':metadata')) return domain;
  return `${domain}:metadata`;
}

const options = {
  'max-locks-per-session': {
    type: 'int',
    default: 16384,
    min: 1,
    max: 1 << 24,
    description:
      'lock records (POSIX, inode, entry; held or awaited) one client session may have; ENOLCK beyond',
  },
  'max-locks': {
    type: 'int',
    default: 1 << 20,
    min: 0,
    max: 1 << 26,
    description: 'lock records all sessions together may have (0: no bound); ENOLCK beyond (docs/limits.md)',
  },
  'max-blocked-per-session': {
    type: 'int',
    default: 1024,
    min: 0,
    max: 1 << 20,
    description: 'blocking lock requests one client session may have waiting; ENOLCK beyond',
  },
  // Stock options. Those that would change lock semantics are only accepted at their
  // default, so a volfile asking for them fails to load instead of silently misbehaving.
  'mandatory-locking': {
    type: 'string',
    default: 'off',
    description: 'stock mandatory locking mode; only "off" is supported',
  },
  'enforce-mandatory-lock': {
    type: 'bool',
    default: false,
    description: 'stock lock preemption for mandatory locks; only off is supported',
  },
  'revocation-secs': { type: 'int', default: 0, description: 'stock lock revocation; only 0 is supported' },
  'revocation-max-blocked': {
    type: 'int',
    default: 0,
    description: 'stock lock revocation; only 0 is supported',
  },
  'notify-contention': {
    type: 'bool',
    default: true,
    description: 'accepted; contention upcalls are not sent (they are hints to AFR eager locking)',
  },
  trace: { type: 'bool', default: false, description: 'accepted and ignored' },
} as const;

export const locks = defineTranslator({
  type: 'features/locks',
  options,
  children: 'one',
  create({ name, options: o }): LocksTranslator {
    const refuse = (key: string, value: unknown) => {
      throw new OptionError(`volume ${name}: option ${key} ${String(value)} is not supported by glusterts`);
    };
    if (o['mandatory-locking'] !== 'off') refuse('mandatory-locking', o['mandatory-locking']);
    if (o['enforce-mandatory-lock']) refuse('enforce-mandatory-lock', 'on');
    if (o['revocation-secs'] !== 0) refuse('revocation-secs', o['revocation-secs']);
    if (o['revocation-max-blocked'] !== 0) refuse('revocation-max-blocked', o['revocation-max-blocked']);

    const manager = new LockManager({
      maxRecords: o['max-locks-per-session'],
      maxWaiting: o['max-blocked-per-session'],
      maxRecordsTotal: o['max-locks'],
    });

    async function inodelk(
      gfid: Buffer,
      req: { cmd: number; type: number; flock: Flock; volume: string },
      ctx: FopContext,
    ) {
      if (req.cmd !== LockCmd.SETLK && req.cmd !== LockCmd.SETLKW) {
        // Stock answers the other known commands (GETLK, ...) with ENOTSUP.
        throw req.cmd <= LockCmd.GETLK_FD
          ? FopError.of('EOPNOTSUPP', `inodelk cmd ${req.cmd}`)
          : FopError.of('EINVAL', `inodelk cmd ${req.cmd}`);
      }
      const type = lockType(req.type);
      const owner = ownerOf(ctx);
      const range = inodelkRange(req.flock.start, req.flock.len);
      const domain = inodelkDomain(req.volume, range.start, BigInt.asIntN(64, req.flock.len));
      await manager.inode.with(LockManager.domainKey(gfid, domain), (t) =>
        type === UNLCK
          ? t.unlock({ ...range, type: RDLCK, owner })
          : t.lock({ ...range, type, owner }, req.cmd === LockCmd.SETLKW, ctx.signal),
      );
      return { xdata: null };
    }

    async function entrylk(
      gfid: Buffer,
      req: { cmd: number; type: number; namelen: number; name: string; volume: string },
      ctx: FopContext,
    ) {
      if (req.cmd !== EntrylkCmd.LOCK && req.cmd !== EntrylkCmd.UNLOCK && req.cmd !== EntrylkCmd.LOCK_NB) {
        throw FopError.of('EINVAL', `entrylk cmd ${req.cmd}`);
      }
      const type = req.type === 0 ? 0 : req.type === 1 ? 1 : undefined;
      if (type === undefined) throw FopError.of('EINVAL', `entrylk type ${req.type}`);
      const lock: EntryLock = { name: req.namelen ? req.name : null, type, owner: ownerOf(ctx) };
      await manager.entry.with(LockManager.domainKey(gfid, req.volume), (t) =>
        req.cmd === EntrylkCmd.UNLOCK
          ? t.unlock(lock)
          : t.lock(lock, req.cmd === EntrylkCmd.LOCK, ctx.signal),
      );
      return { xdata: null };
    }

    /** LK: POSIX record locks. `answer.waited` is set when a SETLKW has to wait. */
    async function posixLk(req: FopRequest<'LK'>, ctx: FopContext, answer: { waited: boolean }) {
      const { cmd, flock } = req;
      const getlk = cmd === LockCmd.GETLK || cmd === LockCmd.GETLK_FD;
      if (!getlk && cmd !== LockCmd.SETLK && cmd !== LockCmd.SETLKW) {
        throw FopError.of('EINVAL', `lk cmd ${cmd} is not supported`);
      }
      const type = lockType(req.type);
      const owner = ownerOf(ctx);
      const range = posixRange(flock.start, flock.len);
      const lock = { ...range, type, owner, pid: flock.pid, fd: req.fd };
      const key = LockManager.posixKey(req.fd.gfid);
      const asked: Flock = { ...flock, type, start: range.start, len: rangeLen(range) };

      if (getlk) {
        if (type === UNLCK) throw FopError.of('EINVAL', 'GETLK of an unlock');
        const conf = manager.posix.get(key)?.conflict(lock);
        // As stock's posix_lock_to_flock: the conflicting lock, or the request as UNLCK.
        return conf
          ? {
              ...asked,
              type: conf.type,
              start: conf.start,
              len: rangeLen(conf),
              pid: conf.pid,
              lkOwner: conf.owner.lkOwner,
            }
          : { ...asked, type: UNLCK, lkOwner: owner.lkOwner };
      }
      return manager.posix.with(key, async (t) => {
        answer.waited = cmd === LockCmd.SETLKW && t.conflict(lock) !== undefined;
        await t.set(lock, cmd === LockCmd.SETLKW, ctx.signal);
        // Stock tells an unlocker whether its fd still holds locks (for NLM).
        if (type === UNLCK) asked.type = t.hasLocksOf(req.fd) ? RDLCK : UNLCK;
        return asked;
      });
    }

    /** Passes a fop down, then answers the lock counts its xdata asked for (xdata.ts). */
    const counting =
      (target: (req: any, reply: any) => CountTarget) =>
      async (req: any, _ctx: FopContext, next: (r: any) => Promise<any>) => {
        const reply = await next(req);
        if (!asksForLockCounts(req.xdata)) return reply;
        return { ...reply, xdata: addLockCounts(manager, req.xdata, target(req, reply), reply.xdata) };
      };
    const byGfid = counting((req: { gfid: Buffer }) => ({ gfid: req.gfid }));
    const byFd = counting((req: { fd: OpenFd }) => ({ gfid: req.fd.gfid }));
    const countingFops = {
      LOOKUP: counting((req: FopRequest<'LOOKUP'>, reply: FopReply<'LOOKUP'>) => ({
        gfid: reply.prestat.gfid,
        parent: req.bname ? req.pargfid : undefined,
        name: req.bname || undefined,
      })),
      STAT: byGfid,
      SETATTR: byGfid,
      TRUNCATE: byGfid,
      OPEN: byGfid,
      GETXATTR: byGfid,
      SETXATTR: byGfid,
      REMOVEXATTR: byGfid,
      XATTROP: byGfid,
      FSTAT: byFd,
      READ: byFd,
      WRITE: byFd,
      FSETATTR: byFd,
      FTRUNCATE: byFd,
      FSYNC: byFd,
      FGETXATTR: byFd,
      FSETXATTR: byFd,
      FREMOVEXATTR: byFd,
      FXATTROP: byFd,
      FALLOCATE: byFd,
      DISCARD: byFd,
      ZEROFILL: byFd,
    } as FopTable;

    return {
      manager,
      fops: {
        ...countingFops,
        async LK(req, ctx) {
          // Stock's pl_lk answers with the request's xdata, but for a SETLKW granted after
          // waiting. Stock AFR needs it: before reopening an fd on a brick that came back, it
          // sends GETLK with `fd-reopen-status` to every brick, and stock protocol/client
          // writes its verdict into the reply's dict. With no dict it cannot, AFR never
          // reopens the fd there (afr_is_reopen_allowed_cbk) and loses quorum at the next fault.
          const answer = { waited: false };
          try {
            const flock = await posixLk(req, ctx, answer);
            return { xdata: answer.waited ? null : req.xdata, flock };
          } catch (e) {
            if (answer.waited || !req.xdata || !(e instanceof FopError) || e.xdata) throw e;
            throw new FopError(e.errno, e.message, { cause: e, xdata: req.xdata });
          }
        },

        INODELK: (req, ctx) => inodelk(req.gfid, req, ctx),
        FINODELK: (req, ctx) => inodelk(req.fd.gfid, req, ctx),
        ENTRYLK: (req, ctx) => entrylk(req.gfid, req, ctx),
        FENTRYLK: (req, ctx) => entrylk(req.fd.gfid, req, ctx),

        async FLUSH(req, ctx, next) {
          manager.flush(req.fd, ctx.session.id, ctx.caller.lkOwner);
          return next(req);
        },
        async RELEASE(req, _ctx, next) {
          manager.release(req.fd);
          return next(req);
        },
      },
      sessionEnded(session) {
        manager.sessionEnded(session.id);
      },
    };
  },
});
