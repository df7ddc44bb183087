/**
 * features/index: remembers on disk which inodes need a heal, so the self-heal daemon
 * finds them without crawling the brick (stock xlators/features/index; docs/replication.md).
 *
 * - XATTROP/FXATTROP with ADD_ARRAY or ADD_ARRAY64 that touch a watched key: before the
 *   op goes down, a non-zero request value adds the inode to xattrop/ (pending keys) or
 *   dirty/ (the dirty key), and the xdata keys `glusterfs.xattrop-entry-create` /
 *   `-entry-delete` add or drop entry-changes/<gfid>/<name>; after a successful reply, a
 *   kind whose watched values all read zero drops the inode again, and
 *   `glusterfs.xattrop-purge-index` drops the directory's whole entry-changes folder.
 * - The virtual interface the self-heal daemon and `heal info` use: GETXATTR of
 *   `glusterfs.xattrop_index_gfid` (and _dirty_, _entry_changes_) returns a gfid that
 *   LOOKUP, OPENDIR and READDIR(P) treat as that folder; `glusterfs.xattrop_index_count`
 *   and `glusterfs.xattrop_dirty_count` count entries; LOOKUP xdata `link-count` asks
 *   whether the xattrop index is non-empty; UNLINK (and RMDIR of an entry-changes folder)
 *   by name in a virtual folder drops an index entry the daemon found stale.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  dictString,
  intValue,
  ptrValue,
  uintValue,
  type Dict,
  type DictValue,
  type GfxDict,
} from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import { gfidToIno, gfidToString, parseGfid } from '../../protocol/gfid.js';
import { zeroIatt, type Iatt } from '../../protocol/iatt.js';
import type { Dirent, DirentPlus } from '../../protocol/structs.js';
import type { OpenFd } from '../../xlator/fd.js';
import { defineTranslator } from '../../xlator/translator.js';
import { iattFromStat } from '../posix/iatt.js';
import { handleRelPath } from '../posix/on-disk.js';
import { bytesOf, isZero, nonZero, parseWatchlist, watched, WATCHLIST_OPTIONS } from './watchlist.js';
import { IndexStore, isGfidName, type IndexKind } from './store.js';

export const ENTRY_CREATE = 'glusterfs.xattrop-entry-create';
export const ENTRY_DELETE = 'glusterfs.xattrop-entry-delete';
export const PURGE_INDEX = 'glusterfs.xattrop-purge-index';
export const INDEX_COUNT = 'glusterfs.xattrop_index_count';
export const DIRTY_COUNT = 'glusterfs.xattrop_dirty_count';
export const LINK_COUNT = 'link-count';
export const GET_GFID_TYPE = 'get-gfid-type';
export const VGFID_KEYS: Record<string, IndexKind> = {
  'glusterfs.xattrop_index_gfid': 'xattrop',
  'glusterfs.xattrop_dirty_gfid': 'dirty',
  'glusterfs.xattrop_entry_changes_gfid': 'entry-changes',
};

const ADD_ARRAY = 0;
const ADD_ARRAY64 = 1;
const DT_UNKNOWN = 0;
const DT_DIR = 4;
const DT_REG = 8;
/** Cost of one listed name against READDIR's size, as posix counts it. */
const ENTRY_COST = 256;

/** A folder of the index seen as a directory: a kind, or one entry-changes/<gfid>. */
interface VirtualDir {
  kind: IndexKind;
  sub?: Buffer;
}

interface ListState {
  dir: VirtualDir;
  names?: string[];
}

export const index = defineTranslator({
  type: 'features/index',
  children: 'one',
  options: {
    ...WATCHLIST_OPTIONS,
    'xattrop64-watchlist': {
      type: 'string',
      default: '',
      description: 'Stock (disperse) ADD_ARRAY64 keys indexed in xattrop/; accepted and watched.',
    },
  },
  create({ options: o }) {
    const store = new IndexStore(o['index-base']);
    const pending = [
      ...parseWatchlist(o['xattrop-pending-watchlist']),
      ...parseWatchlist(o['xattrop64-watchlist']),
    ];
    const dirty = parseWatchlist(o['xattrop-dirty-watchlist']);
    const owner = {};
    // Virtual gfids are new at every start, as stock's.
    const vgfids = new Map<IndexKind, Buffer>(
      (['xattrop', 'dirty', 'entry-changes'] as const).map((k) => [k, randomBytes(16)]),
    );
    const handleStore = dirname(o['index-base']);

    /** entry-changes/<gfid> as a directory has a gfid derived from the folder's and the name. */
    const entryDirGfid = (dir: Buffer) =>
      createHash('sha256').update(vgfids.get('entry-changes')!).update(dir).digest().subarray(0, 16);

    function virtualDir(gfid: Buffer): VirtualDir | null {
      for (const [kind, v] of vgfids) if (v.equals(gfid)) return { kind };
      return null;
    }

    /** LOOKUP (entry-changes gfid, "<dir gfid>") names a folder, remembered for OPENDIR. */
    const entryDirs = new Map<string, Buffer>();
    function resolveVirtual(gfid: Buffer): VirtualDir | null {
      const top = virtualDir(gfid);
      if (top) return top;
      const sub = entryDirs.get(gfid.toString('hex'));
      return sub ? { kind: 'entry-changes', sub } : null;
    }

    function folderPath(d: VirtualDir): string {
      return d.sub ? join(store.dir(d.kind), gfidToString(d.sub)) : store.dir(d.kind);
    }

    async function dirIatt(d: VirtualDir, gfid: Buffer): Promise<Iatt> {
      return iattFromStat(await fsp.stat(folderPath(d), { bigint: true }), gfid);
    }

    /** d_type of an indexed gfid, from its handle (a directory's is a symlink with one link). */
    async function gfidType(name: string): Promise<number> {
      const st = await fsp.lstat(join(handleStore, handleRelPath(parseGfid(name)))).catch(() => null);
      if (!st) return DT_UNKNOWN;
      if (st.isSymbolicLink() && st.nlink === 1) return DT_DIR;
      if (st.isFile()) return DT_REG;
      if (st.isSymbolicLink()) return 10;
      return DT_UNKNOWN;
    }

    /** Request phase: what the op is about to make non-zero gets indexed first. */
    async function beforeXattrop(gfid: Buffer, op: number, dict: GfxDict, xdata: GfxDict): Promise<boolean> {
      const create = dictString(xdata, ENTRY_CREATE);
      const remove = dictString(xdata, ENTRY_DELETE);
      if (create !== undefined) await store.addEntry(gfid, create);
      if (remove !== undefined) await store.removeEntry(gfid, remove);
      if (op !== ADD_ARRAY && op !== ADD_ARRAY64) return false;
      let tracked = false;
      for (const [key, v] of dict ?? []) {
        const isPending = watched(key, pending);
        const isDirty = watched(key, dirty);
        if (!isPending && !isDirty) continue;
        tracked = true;
        const value = bytesOf(v);
        if (!value || isZero(value)) continue;
        if (isPending) await store.add('xattrop', gfid);
        if (isDirty) await store.add('dirty', gfid);
      }
      return tracked;
    }

    /** Reply phase: a kind whose watched values are all zero now is healed on this brick. */
    async function afterXattrop(gfid: Buffer, reply: GfxDict, xdata: GfxDict): Promise<void> {
      for (const [kind, prefixes] of [
        ['xattrop', pending],
        ['dirty', dirty],
      ] as const) {
        const any = nonZero(reply, prefixes);
        if (any === undefined) continue;
        if (any) await store.add(kind, gfid);
        else await store.remove(kind, gfid);
      }
      if (xdata?.get(PURGE_INDEX) && nonZero(reply, pending) !== true) await store.purgeEntries(gfid);
    }

    async function xattrop<R extends { dict: GfxDict }>(
      gfid: Buffer,
      req: { flags: number; dict: GfxDict; xdata: GfxDict },
      wind: () => Promise<R>,
    ): Promise<R> {
      const tracked = await beforeXattrop(gfid, req.flags, req.dict, req.xdata);
      const reply = await wind();
      if (tracked || req.xdata?.has(PURGE_INDEX)) await afterXattrop(gfid, reply.dict, req.xdata);
      return reply;
    }

    async function count(kind: 'xattrop' | 'dirty'): Promise<number> {
      return (await store.list(kind)).length;
    }

    function virtualReply(name: string, value: DictValue, opRet: number) {
      const dict: Dict = new Map([[name, value]]);
      return { opRet, dict, xdata: null, prestat: zeroIatt(), poststat: zeroIatt() };
    }

    /** One page of a virtual folder's listing; d_off is the position plus one. */
    async function page(fd: OpenFd, offset: bigint, size: number, xdata: GfxDict) {
      const s = fd.get<ListState>(owner)!;
      // "." and ".." first, with no type, as stock lists them.
      s.names ??= ['.', '..', ...(await store.list(s.dir.kind, s.dir.sub))];
      const withType = xdata?.has(GET_GFID_TYPE) ?? false;
      const start = Number(offset);
      if (!Number.isSafeInteger(start) || start < 0) throw FopError.of('EINVAL', 'bad directory offset');
      const out: Dirent[] = [];
      let used = 0;
      for (let i = start; i < s.names.length; i++) {
        const name = s.names[i]!;
        const cost = ENTRY_COST + Buffer.byteLength(name) + 1;
        if (out.length > 0 && used + cost > size) break;
        used += cost;
        const type = withType && isGfidName(name) ? await gfidType(name) : DT_UNKNOWN;
        const ino = isGfidName(name) ? gfidToIno(parseGfid(name)) : BigInt(i + 1);
        out.push({ ino, off: BigInt(i + 1), len: Buffer.byteLength(name), type, name });
      }
      const eof = start + out.length >= s.names.length;
      return { entries: out, eof };
    }

    return {
      init: () => store.init(),
      fops: {
        async XATTROP(req, _ctx, next) {
          return xattrop(req.gfid, req, () => next(req));
        },
        async FXATTROP(req, _ctx, next) {
          return xattrop(req.fd.gfid, req, () => next(req));
        },

        async GETXATTR(req, _ctx, next) {
          const kind = VGFID_KEYS[req.name];
          if (kind) return virtualReply(req.name, ptrValue(vgfids.get(kind)!), 16);
          if (req.name === INDEX_COUNT || req.name === DIRTY_COUNT) {
            const n = await count(req.name === INDEX_COUNT ? 'xattrop' : 'dirty');
            return virtualReply(req.name, uintValue(n), 8);
          }
          if (resolveVirtual(req.gfid)) throw FopError.of('ENODATA', 'index folders have no xattrs');
          return next(req);
        },

        async LOOKUP(req, _ctx, next) {
          if (req.bname) {
            const parent = virtualDir(req.pargfid);
            if (parent) {
              // Only entry-changes lists folders: entry-changes/<dir gfid>.
              if (parent.kind !== 'entry-changes' || !isGfidName(req.bname)) throw FopError.of('ENOENT');
              const sub = parseGfid(req.bname);
              const gfid = entryDirGfid(sub);
              const stat = await dirIatt({ kind: 'entry-changes', sub }, gfid).catch(() => {
                throw FopError.of('ENOENT');
              });
              if (entryDirs.size > 65536) entryDirs.clear();
              entryDirs.set(gfid.toString('hex'), sub);
              return { prestat: stat, poststat: await dirIatt(parent, req.pargfid), xdata: null };
            }
          } else {
            const d = resolveVirtual(req.gfid);
            if (d) return { prestat: await dirIatt(d, req.gfid), poststat: zeroIatt(), xdata: null };
          }
          const reply = await next(req);
          if (dictString(req.xdata, LINK_COUNT) !== INDEX_COUNT) return reply;
          // AFR: is anything pending on this brick at all? (1 also when unsure.)
          const xdata: Dict = new Map(reply.xdata ?? []);
          xdata.set(LINK_COUNT, intValue((await store.any('xattrop')) ? 1 : 0));
          return { ...reply, xdata };
        },

        async OPENDIR(req, _ctx, next) {
          const d = resolveVirtual(req.gfid);
          if (!d) return next(req);
          await fsp.access(folderPath(d)).catch(() => {
            throw FopError.of('ENOENT');
          });
          req.fd.set(owner, { dir: d } satisfies ListState);
          return { xdata: null };
        },

        async READDIR(req, _ctx, next) {
          if (!req.fd.get(owner)) return next(req);
          const { entries, eof } = await page(req.fd, req.offset, req.size, req.xdata);
          return { opRet: entries.length, opErrno: eof ? Errno.ENOENT : 0, entries, xdata: null };
        },

        async READDIRP(req, _ctx, next) {
          if (!req.fd.get(owner)) return next(req);
          const { entries, eof } = await page(req.fd, req.offset, req.size, req.xdata);
          const plus: DirentPlus[] = entries.map((e) => ({ ...e, stat: zeroIatt(), dict: new Map() }));
          return { opRet: plus.length, opErrno: eof ? Errno.ENOENT : 0, entries: plus, xdata: null };
        },

        // The self-heal daemon drops index entries whose inode is gone (stale) by name.
        async UNLINK(req, _ctx, next) {
          const d = resolveVirtual(req.pargfid);
          if (!d) return next(req);
          if (d.kind === 'entry-changes' && d.sub) await store.removeEntry(d.sub, req.bname);
          else if (d.kind !== 'entry-changes' && isGfidName(req.bname))
            await store.remove(d.kind, parseGfid(req.bname));
          else throw FopError.of('ENOENT');
          const st = await dirIatt(d, req.pargfid);
          return { prestat: st, poststat: st, xdata: null };
        },
        async RMDIR(req, _ctx, next) {
          const d = resolveVirtual(req.pargfid);
          if (!d) return next(req);
          if (d.kind !== 'entry-changes' || d.sub || !isGfidName(req.bname)) throw FopError.of('ENOENT');
          await store.purgeEntries(parseGfid(req.bname));
          const st = await dirIatt(d, req.pargfid);
          return { prestat: st, poststat: st, xdata: null };
        },

        async RELEASEDIR(req, _ctx, next) {
          if (!req.fd.get(owner)) return next(req);
          req.fd.delete(owner);
          return { xdata: null };
        },
      },
    };
  },
});
