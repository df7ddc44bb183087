/**
 * Fops on an inode or an open fd go where the inode is: a file to the subvolume holding
 * its data (the one its fd was opened on, else the one remembered for its gfid, else
 * found by a nameless lookup; a remembered subvolume that no longer has it is looked up
 * again once), a directory to every copy (attributes and xattrs) or to its first copy
 * (reads, locks). STATFS sums the subvolumes as stock does.
 */
import type { Dict, GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import type { FopName } from '../../protocol/fops.js';
import type { Statfs } from '../../protocol/structs.js';
import type { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopHandler, FopTable } from '../../xlator/translator.js';
import { isAbsent, type Dht, type DirInfo } from './context.js';
import { dirInfo, locate } from './lookup.js';

/** Directory fops that change every copy; the rest read or lock the first. */
const ON_EVERY_COPY = new Set<FopName>([
  'STAT',
  'FSTAT',
  'SETATTR',
  'FSETATTR',
  'SETXATTR',
  'FSETXATTR',
  'REMOVEXATTR',
  'FREMOVEXATTR',
]);

/** Routed by gfid or fd: everything that names an inode and is not an entry fop. */
const ROUTED = [
  'STAT',
  'READLINK',
  'TRUNCATE',
  'OPEN',
  'READ',
  'WRITE',
  'FLUSH',
  'FSYNC',
  'SETXATTR',
  'GETXATTR',
  'REMOVEXATTR',
  'ACCESS',
  'FTRUNCATE',
  'FSTAT',
  'LK',
  'INODELK',
  'FINODELK',
  'ENTRYLK',
  'FENTRYLK',
  'XATTROP',
  'FXATTROP',
  'FGETXATTR',
  'FSETXATTR',
  'RCHECKSUM',
  'SETATTR',
  'FSETATTR',
  'RELEASE',
  'FREMOVEXATTR',
  'FALLOCATE',
  'DISCARD',
  'ZEROFILL',
  'SEEK',
  'LEASE',
  'GETACTIVELK',
  'SETACTIVELK',
] as const satisfies readonly FopName[];

type Routed = (typeof ROUTED)[number];
type AnyReq = { gfid: Buffer; fd?: OpenFd; xdata: GfxDict; name?: string; namelen?: number | bigint };
type AnyReply = Record<string, any>;

/** The first subvolume holding a copy of the directory. */
function firstCopy(info: DirInfo): number {
  const i = info.layout.entries.findIndex((e) => e !== null);
  return i < 0 ? 0 : i;
}

export function inodeOps(dht: Dht): FopTable {
  const strip = (fop: FopName, req: AnyReq, reply: AnyReply): AnyReply => {
    // Listing all xattrs: DHT's own keys are not the user's (dht_getxattr_cbk).
    if ((fop === 'GETXATTR' || fop === 'FGETXATTR') && !req.name && reply.dict) {
      const dict: Dict = new Map(reply.dict);
      for (const k of [dht.layoutKey, dht.mdsKey, dht.commitKey]) dict.delete(k);
      return { ...reply, dict };
    }
    return reply;
  };

  async function onDir(fop: Routed, req: AnyReq, ctx: FopContext, info: DirInfo): Promise<AnyReply> {
    const call = (i: number) => dht.call(i, fop, req as never, ctx) as Promise<AnyReply>;
    if (!ON_EVERY_COPY.has(fop)) {
      if ((fop === 'ENTRYLK' || fop === 'FENTRYLK') && req.name) {
        const i = info.layout.search(dht.hash(req.name));
        return call(i >= 0 ? i : firstCopy(info));
      }
      return call(firstCopy(info));
    }
    const copies = dht.indexes().filter((i) => info.layout.entries[i] !== null);
    const results = await dht.wind(fop, req as never, ctx, { to: copies.length ? copies : dht.indexes() });
    // A copy missing on some subvolumes is tolerated; any other failure is not.
    const tolerable = (e: FopError) => isAbsent(e);
    results.require((r) => r.ok.length > 0 && r.failed.every((f) => tolerable(f.error)), {
      prefer: (e) => !tolerable(e),
    });
    const ok = results.values() as AnyReply[];
    const reply = { ...ok[0]! };
    for (const f of ['stat', 'prestat', 'poststat']) {
      if (reply[f]) reply[f] = dht.mergeDirStats(ok.map((r) => r[f]));
    }
    return reply;
  }

  function routed(fop: Routed): FopHandler<Routed> {
    return (async (req: AnyReq, ctx: FopContext) => {
      const fd = req.fd;
      const pinned = fd?.get<unknown>(dht);
      if (typeof pinned === 'number') {
        const reply = strip(fop, req, await dht.call(pinned, fop, req as never, ctx));
        if (fop === 'RELEASE') fd!.delete(dht);
        return reply;
      }
      const gfid = fd && req.gfid.every((b) => b === 0) ? fd.gfid : req.gfid;
      let info = await locate(dht, gfid, ctx);
      if (info.dir) return strip(fop, req, await onDir(fop, req, ctx, await dirInfo(dht, gfid, ctx)));
      let reply: AnyReply;
      try {
        reply = await dht.call(info.subvol, fop, req as never, ctx);
      } catch (e) {
        // Moved (rebalance) or removed behind our back: look it up afresh, once.
        if (!isAbsent(e)) throw e;
        const was = info.subvol;
        dht.forget(gfid);
        info = await locate(dht, gfid, ctx);
        if (info.dir || info.subvol === was) throw e;
        reply = await dht.call(info.subvol, fop, req as never, ctx);
      }
      if (fop === 'OPEN' && fd) fd.set(dht, info.subvol);
      for (const f of ['stat', 'prestat', 'poststat', 'buf'])
        if (reply[f]) reply[f] = dht.cleanFileStat(reply[f]);
      return strip(fop, req, reply);
    }) as unknown as FopHandler<Routed>;
  }

  const table: Record<string, unknown> = {};
  for (const fop of ROUTED) table[fop] = routed(fop);

  return {
    ...(table as FopTable),

    async STATFS(req, ctx) {
      const ok = (await dht.wind('STATFS', req, ctx)).require('any').values();
      return { ...ok[0]!, statfs: sumStatfs(ok.map((r) => r.statfs)) };
    },

    async IPC(req, ctx) {
      return (await dht.wind('IPC', req, ctx)).unwrap(0);
    },

    async COPY_FILE_RANGE(req, ctx) {
      const where = async (fd: OpenFd) => {
        const pinned = fd.get<unknown>(dht);
        if (typeof pinned === 'number') return pinned;
        const info = await locate(dht, fd.gfid, ctx);
        if (info.dir) throw FopError.of('EISDIR');
        return info.subvol;
      };
      const [from, to] = await Promise.all([where(req.fdIn), where(req.fdOut)]);
      if (from !== to) throw FopError.of('EXDEV', 'copy between subvolumes');
      return dht.call(from, 'COPY_FILE_RANGE', req, ctx);
    },
  };
}

/** dht_statfs_cbk: block counts normalized to the largest fragment size, then summed. */
export function sumStatfs(all: readonly Statfs[]): Statfs {
  const bsize = all.reduce((m, s) => (s.bsize > m ? s.bsize : m), 0n);
  const frsize = all.reduce((m, s) => (s.frsize > m ? s.frsize : m), 0n);
  const out: Statfs = { ...all[all.length - 1]!, bsize, frsize, blocks: 0n, bfree: 0n, bavail: 0n };
  out.files = 0n;
  out.ffree = 0n;
  out.favail = 0n;
  for (const s of all) {
    const scale = (v: bigint) =>
      s.frsize === frsize || frsize === 0n
        ? v
        : BigInt(Math.trunc((Number(s.frsize) / Number(frsize)) * Number(v)));
    out.blocks += scale(s.blocks);
    out.bfree += scale(s.bfree);
    out.bavail += scale(s.bavail);
    out.files += s.files;
    out.ffree += s.ffree;
    out.favail += s.favail;
  }
  return out;
}
