/**
 * Metadata heal of one inode: under AFR's metadata lock (INODELK `<afr>` at LLONG_MAX−1, as
 * stock), the source's owner, mode, times and user/trusted xattrs (not AFR's changelog, nor
 * the identity keys a brick keeps for itself) are given to the sinks, then the observed
 * metadata counters are undone.
 */
import { ptrValue, DictType, type Dict } from '../protocol/dict.js';
import { TxnType } from '../xlators/replicate/index.js';
import {
  flagged,
  isAfrKey,
  METADATA_LOCK_START,
  notAllAnswered,
  type BrickState,
  type HealIo,
} from './bricks.js';
import { resetChangelog } from './changelog-reset.js';
import { decide, needsHeal } from './decide.js';
import type { HealOptions, HealOutcome } from './outcome.js';

const VALID_MODE = 0x1;
const VALID_UID = 0x2;
const VALID_GID = 0x4;
const VALID_ATIME = 0x10;
const VALID_MTIME = 0x20;
const S_IFLNK = 0o120000;

/** xattrs heal copies: user.* and trusted.*, except AFR's and a brick's own identity keys. */
export function healableXattr(key: string): boolean {
  if (!key.startsWith('user.') && !key.startsWith('trusted.')) return false;
  if (isAfrKey(key)) return false;
  return !(
    key === 'trusted.gfid' ||
    key === 'trusted.glusterfs.volume-id' ||
    // A brick's own record of the times (features.ctime). Bricks list it to internal
    // clients only; SETATTR carries atime and mtime, and glusterts's posix refuses the key.
    key === 'trusted.glusterfs.mdata' ||
    key.startsWith('trusted.gfid2path.') ||
    key.startsWith('trusted.glusterfs.quota') ||
    key === 'trusted.pgfid'
  );
}

const bytes = (v: { type: DictType; value: unknown }): Buffer =>
  Buffer.isBuffer(v.value) ? v.value : Buffer.from(String(v.value));

export async function healMetadata(io: HealIo, gfid: Buffer, opts: HealOptions = {}): Promise<HealOutcome> {
  const r = io.r;
  const target = { kind: 'inode' as const, gfid, start: METADATA_LOCK_START, len: 0n };
  return io.withLock(r.domain, target, r.upChildren(), async (granted) => {
    const states: BrickState[] = await io.inspect(gfid);
    if (states.some((s) => !s.ok)) throw notAllAnswered(states, 'metadata heal');
    if (!needsHeal(TxnType.METADATA, states))
      return { kind: 'metadata', result: 'clean' } satisfies HealOutcome;
    const decision = decide(r, TxnType.METADATA, states, granted, opts.policy);
    const locked = flagged(granted);
    if (decision.kind === 'split-brain')
      return { kind: 'metadata', result: 'split-brain', reason: decision.reason } satisfies HealOutcome;
    if (decision.kind === 'clean') {
      await resetChangelog(io, gfid, [TxnType.METADATA], states, locked);
      return { kind: 'metadata', result: 'healed', sinks: [] } satisfies HealOutcome;
    }
    const { source } = decision;
    const sinks = flagged(decision.sinks);
    const src = states[source]!.stat!;
    const srcX = await io.listXattrs(source, gfid);
    for (const i of sinks) {
      const isLink = (src.mode & 0o170000) === S_IFLNK;
      const valid = (isLink ? 0 : VALID_MODE) | VALID_UID | VALID_GID | VALID_ATIME | VALID_MTIME;
      const res = await r.callChild(i, 'SETATTR', { gfid, stbuf: src, valid, xdata: null }, io.ctx);
      if (!res.ok) throw res.error;
      const sinkX = await io.listXattrs(i, gfid);
      const set: Dict = new Map();
      for (const [k, v] of srcX)
        if (healableXattr(k) && !(sinkX.has(k) && bytes(sinkX.get(k)!).equals(bytes(v))))
          set.set(k, ptrValue(bytes(v)));
      if (set.size) {
        const x = await r.callChild(i, 'SETXATTR', { gfid, flags: 0, dict: set, xdata: null }, io.ctx);
        if (!x.ok) throw x.error;
      }
      for (const k of sinkX.keys())
        if (healableXattr(k) && !srcX.has(k)) {
          const x = await r.callChild(i, 'REMOVEXATTR', { gfid, name: k, xdata: null }, io.ctx);
          if (!x.ok) throw x.error;
        }
    }
    await resetChangelog(io, gfid, [TxnType.METADATA], states, locked);
    return { kind: 'metadata', result: 'healed', source, sinks } satisfies HealOutcome;
  });
}
