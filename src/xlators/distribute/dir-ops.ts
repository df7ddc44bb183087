/**
 * Directory listings across subvolumes (stock dht_readdirp): subvolume 0 first, then the
 * next when one reports its end. Linkto files are left out, and a directory, which exists
 * on every subvolume, is listed only from the subvolume its name hashes to (or the first
 * one, with readdir-optimize or when the hash falls in a hole). Cookies carry the
 * subvolume (doff.ts). READDIR is served from the subvolumes' READDIRP, which tells linkto
 * files apart.
 */
import { uintValue, type Dict } from '../../protocol/dict.js';
import { Errno } from '../../protocol/errno.js';
import type { DirentPlus } from '../../protocol/structs.js';
import { OpenFd } from '../../xlator/fd.js';
import type { FopContext, FopReply, FopRequest, FopTable } from '../../xlator/translator.js';
import { isAbsent, isDir, type Dht } from './context.js';
import { decodeDirOffset, encodeDirOffset } from './doff.js';
import { dirInfo } from './lookup.js';

const DT_DIR = 4;

/** What an OPENDIR left on the fd: the subvolumes it is open on. */
interface DirFd {
  opened: boolean[];
}

function openedOn(dht: Dht, fd: OpenFd): boolean[] {
  const s = fd.get<DirFd | number>(dht);
  return typeof s === 'object' ? s.opened : dht.indexes().map(() => true);
}

/** One page of the merged listing from `offset` (a DHT cookie). */
async function listPage(
  dht: Dht,
  req: FopRequest<'READDIRP'>,
  ctx: FopContext,
): Promise<{ entries: DirentPlus[]; eof: boolean; xdata: FopReply<'READDIRP'>['xdata'] }> {
  const opened = openedOn(dht, req.fd);
  const firstOpen = opened.indexOf(true);
  const lastOpen = opened.lastIndexOf(true);
  const layout = (await dirInfo(dht, req.fd.gfid, ctx)).layout;
  const xdata: Dict = new Map(req.xdata ?? []);
  if (!xdata.has(dht.linktoKey)) xdata.set(dht.linktoKey, uintValue(256));
  let { subvol, offset } = decodeDirOffset(req.offset, dht.n);
  for (;;) {
    if (subvol > lastOpen || subvol < 0) return { entries: [], eof: true, xdata: null };
    if (!opened[subvol]) {
      subvol++;
      offset = 0n;
      continue;
    }
    let r: FopReply<'READDIRP'>;
    try {
      r = await dht.call(subvol, 'READDIRP', { ...req, offset, xdata }, ctx);
    } catch (e) {
      if (!isAbsent(e)) throw e;
      subvol++;
      offset = 0n;
      continue;
    }
    const out: DirentPlus[] = [];
    for (const e of r.entries) {
      if (e.type === DT_DIR || isDir(e.stat)) {
        const owner = dht.settings.readdirOptimize ? -1 : layout.search(dht.hash(e.name));
        if (owner >= 0 ? owner !== subvol : subvol !== firstOpen) continue;
      } else if (dht.isLinkto(e.stat, e.dict)) {
        continue;
      } else if (e.stat.gfid.some((b) => b !== 0)) {
        dht.remember(e.stat.gfid, { dir: false, subvol });
      }
      out.push({
        ...e,
        off: encodeDirOffset(e.off, subvol, dht.n),
        stat: dht.cleanFileStat(e.stat),
        dict: dht.cleanXdata(e.dict, req.xdata) ?? new Map(),
      });
    }
    const ended = r.entries.length === 0 || r.opErrno === Errno.ENOENT;
    if (out.length > 0) return { entries: out, eof: ended && subvol === lastOpen, xdata: r.xdata };
    if (ended) {
      subvol++;
      offset = 0n;
    } else {
      offset = r.entries[r.entries.length - 1]!.off;
    }
  }
}

/** Every entry of one subvolume's copy of a directory (rmdir's emptiness check). */
export async function listSubvol(dht: Dht, i: number, gfid: Buffer, ctx: FopContext): Promise<DirentPlus[]> {
  const fd = new OpenFd(gfid, 0, true);
  try {
    await dht.call(i, 'OPENDIR', { gfid, fd, xdata: null }, ctx);
  } catch (e) {
    if (isAbsent(e)) return [];
    throw e;
  }
  const all: DirentPlus[] = [];
  try {
    const xdata: Dict = new Map([[dht.linktoKey, uintValue(256)]]);
    let offset = 0n;
    for (;;) {
      const r = await dht.call(i, 'READDIRP', { gfid, fd, offset, size: 65536, xdata }, ctx);
      all.push(...r.entries);
      if (r.entries.length === 0 || r.opErrno === Errno.ENOENT) return all;
      offset = r.entries[r.entries.length - 1]!.off;
    }
  } finally {
    await dht.call(i, 'RELEASEDIR', { gfid, fd, xdata: null }, ctx).catch(() => undefined);
  }
}

export function dirOps(dht: Dht): FopTable {
  return {
    async OPENDIR(req, ctx) {
      const results = (await dht.wind('OPENDIR', req, ctx)).require('any');
      const opened = dht.indexes().map((i) => results.get(i)?.ok === true);
      req.fd.set(dht, { opened } satisfies DirFd);
      return { xdata: results.first()!.value.xdata };
    },

    async READDIRP(req, ctx) {
      const page = await listPage(dht, req, ctx);
      return {
        entries: page.entries,
        opRet: page.entries.length,
        opErrno: page.eof ? Errno.ENOENT : 0,
        xdata: page.xdata,
      };
    },

    async READDIR(req, ctx) {
      const page = await listPage(dht, { ...req, xdata: req.xdata }, ctx);
      const entries = page.entries.map(({ ino, off, len, type, name }) => ({ ino, off, len, type, name }));
      return { entries, opRet: entries.length, opErrno: page.eof ? Errno.ENOENT : 0, xdata: page.xdata };
    },

    async RELEASEDIR(req, ctx) {
      const opened = openedOn(dht, req.fd);
      await dht.wind('RELEASEDIR', req, ctx, { to: dht.indexes().filter((i) => opened[i]) });
      req.fd.delete(dht);
      return { xdata: null };
    },

    async FSYNCDIR(req, ctx) {
      const opened = openedOn(dht, req.fd);
      const results = await dht.wind('FSYNCDIR', req, ctx, { to: dht.indexes().filter((i) => opened[i]) });
      results.require('all');
      return { xdata: null };
    },
  };
}
