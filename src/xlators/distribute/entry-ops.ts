/**
 * Namespace changes (docs/distribute.md):
 * - CREATE, MKNOD, SYMLINK, PUT: on the subvolume the name hashes to. CREATE and MKDIR
 *   carry the parent's layout for that subvolume as a precondition
 *   (`glusterfs.preop.parent.key`); a brick with another layout fails them with EIO and
 *   `glusterfs.preop.check.failed`, and DHT re-reads the layout and tries once more.
 * - MKDIR: the hashed subvolume first (with the `.mds` key), then all others with the
 *   same gfid; then a layout assigned as stock does is set on every copy.
 * - LINK: on the file's subvolume, plus a linkto where the new name hashes, if elsewhere.
 * - UNLINK: the data file, then the linkto on the hashed subvolume. RMDIR: checks every
 *   copy is empty (linkto files aside, which are removed), then removes the copies, the
 *   hashed one last.
 * - RENAME of a file: stock's migration-free protocol (dht-rename.c): the data stays on
 *   its subvolume, hard-linked to the new name there, and the new name's hashed subvolume
 *   gets a linkto (created under the old name and renamed, so the new name appears
 *   atomically); leftovers are unlinked. A directory is renamed on every subvolume, the
 *   new name's hashed one first.
 */
import { ptrValue, strValue, type Dict, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { NULL_GFID, type Gfid } from '../../protocol/gfid.js';
import type { Iatt } from '../../protocol/iatt.js';
import { fanout } from '../../xlator/fanout.js';
import type { FopContext, FopReply, FopRequest, FopTable } from '../../xlator/translator.js';
import { childPath, gfidOf, isAbsent, S_IFMT, S_ISVTX, type Dht, type DirInfo } from './context.js';
import { listSubvol } from './dir-ops.js';
import { assignLayout, LAYOUT_HASH_INVALID } from './layout.js';
import { createLinkto, dirInfo, locate, refreshDir, resolveName, type Named } from './lookup.js';

const PREOP_PARENT_KEY = 'glusterfs.preop.parent.key';
const PREOP_CHECK_FAILED = 'glusterfs.preop.check.failed';

function isStaleLayout(e: unknown): boolean {
  return e instanceof FopError && e.code === 'EIO' && (e.xdata?.has(PREOP_CHECK_FAILED) ?? false);
}

/** Finds the hashed subvolume for a new name; EIO when the hash falls in a hole. */
function hashedFor(dht: Dht, parent: DirInfo, name: string): number {
  const i = parent.layout.search(dht.hash(name));
  if (i < 0) throw FopError.of('EIO', `no subvolume in the layout for hash of ${name}`);
  return i;
}

/**
 * Runs a creation on the hashed subvolume with the parent-layout precondition; on a
 * stale-layout failure re-reads the layout and retries once (stock gives up when the
 * layout did not change: "loop detected").
 */
async function onHashed<T>(
  dht: Dht,
  pargfid: Gfid,
  name: string,
  ctx: FopContext,
  xdata: GfxDict,
  fn: (hashed: number, xdata: Dict, parent: DirInfo) => Promise<T>,
): Promise<{ result: T; hashed: number; parent: DirInfo }> {
  let parent = await dirInfo(dht, pargfid, ctx);
  for (let attempt = 0; ; attempt++) {
    const hashed = hashedFor(dht, parent, name);
    const withCheck: Dict = new Map(xdata ?? []);
    withCheck.set(dht.layoutKey, ptrValue(parent.layout.diskLayout(hashed)));
    withCheck.set(PREOP_PARENT_KEY, strValue(dht.layoutKey));
    try {
      return { result: await fn(hashed, withCheck, parent), hashed, parent };
    } catch (e) {
      if (attempt > 0 || !isStaleLayout(e)) throw e;
      const before = parent.layout.diskLayout(hashed);
      parent = await refreshDir(dht, pargfid, ctx);
      if (parent.layout.diskLayout(hashed).equals(before)) throw e;
    }
  }
}

function lookupReq(pargfid: Gfid, bname: string): FopRequest<'LOOKUP'> {
  return { gfid: NULL_GFID, pargfid, flags: 0, bname, xdata: null };
}

async function resolveOrNull(dht: Dht, pargfid: Gfid, bname: string, ctx: FopContext): Promise<Named | null> {
  try {
    return await resolveName(dht, lookupReq(pargfid, bname), ctx);
  } catch (e) {
    if (isAbsent(e)) return null;
    throw e;
  }
}

const ignore = () => undefined;

/** ENOTEMPTY unless every copy holds nothing but linkto files (which are removed). */
async function emptyOrThrow(dht: Dht, gfid: Gfid, ctx: FopContext): Promise<void> {
  const internal = dht.internal(ctx);
  const linktos: [number, string][] = [];
  const lists = await fanout(dht.indexes(), (i) => listSubvol(dht, i, gfid, internal));
  for (const { target, value: entries } of lists.require('all').ok) {
    for (const e of entries) {
      if (e.name === '.' || e.name === '..') continue;
      if (!dht.isLinkto(e.stat, e.dict)) throw FopError.of('ENOTEMPTY');
      linktos.push([target, e.name]);
    }
  }
  await Promise.all(
    linktos.map(([i, bname]) =>
      dht.call(i, 'UNLINK', { pargfid: gfid, bname, xflags: 0, xdata: null }, internal).catch(ignore),
    ),
  );
}

export function entryOps(dht: Dht): FopTable {
  return {
    async CREATE(req, ctx) {
      const { result, hashed } = await onHashed(dht, req.pargfid, req.bname, ctx, req.xdata, (i, xdata) =>
        dht.call(i, 'CREATE', { ...req, xdata }, ctx),
      );
      // O_CREAT on a name whose data lives elsewhere opened the linkto: open the data instead.
      if ((result.stat.mode & ~S_IFMT) === S_ISVTX && result.stat.size === 0) {
        const named = await resolveOrNull(dht, req.pargfid, req.bname, ctx);
        if (named?.kind === 'file' && named.cached !== hashed) {
          await dht
            .call(hashed, 'RELEASE', { gfid: result.stat.gfid, fd: req.fd, xdata: null }, ctx)
            .catch(ignore);
          const flags = req.flags & ~0o300; // O_CREAT | O_EXCL
          const opened = await dht.call(
            named.cached,
            'OPEN',
            { gfid: result.stat.gfid, flags, xdata: req.xdata, fd: req.fd },
            ctx,
          );
          req.fd.set(dht, named.cached);
          dht.remember(result.stat.gfid, { dir: false, subvol: named.cached });
          return { ...result, stat: dht.cleanFileStat(named.reply.prestat), xdata: opened.xdata };
        }
      }
      req.fd.set(dht, hashed);
      dht.remember(result.stat.gfid, { dir: false, subvol: hashed });
      return { ...result, xdata: dht.cleanXdata(result.xdata, req.xdata) };
    },

    async MKNOD(req, ctx) {
      const hashed = hashedFor(dht, await dirInfo(dht, req.pargfid, ctx), req.bname);
      const reply = await dht.call(hashed, 'MKNOD', req, ctx);
      dht.remember(reply.stat.gfid, { dir: false, subvol: hashed });
      return reply;
    },

    async SYMLINK(req, ctx) {
      const hashed = hashedFor(dht, await dirInfo(dht, req.pargfid, ctx), req.bname);
      const reply = await dht.call(hashed, 'SYMLINK', req, ctx);
      dht.remember(reply.stat.gfid, { dir: false, subvol: hashed });
      return reply;
    },

    async PUT(req, ctx) {
      const hashed = hashedFor(dht, await dirInfo(dht, req.pargfid, ctx), req.bname);
      const reply = await dht.call(hashed, 'PUT', req, ctx);
      dht.remember(reply.stat.gfid, { dir: false, subvol: hashed });
      return reply;
    },

    async MKDIR(req, ctx) {
      const gfid = gfidOf(req.xdata);
      const base = dht.gfidReqXdata(req.xdata, gfid);
      const first: Dict = new Map(base);
      first.set(dht.mdsKey, ptrValue(Buffer.alloc(4)));
      const { result, hashed, parent } = await onHashed(dht, req.pargfid, req.bname, ctx, first, (i, xdata) =>
        dht.call(i, 'MKDIR', { ...req, xdata }, ctx),
      );
      const others = dht.indexes().filter((i) => i !== hashed);
      const made = await dht.wind('MKDIR', { ...req, xdata: base }, ctx, { to: others });
      const eligible = dht.indexes().map((i) => {
        const r = made.get(i);
        return i === hashed || (r !== undefined && (r.ok || r.error.code === 'EEXIST'));
      });
      const path = childPath(parent.path, req.bname);
      const layout = assignLayout({
        names: dht.names,
        key: dht.layoutKeyFor(path, gfid),
        hasher: dht.settings.hasher,
        commit: dht.settings.lookupOptimize ? dht.volCommitHash : LAYOUT_HASH_INVALID,
        weights: await dht.weights(ctx),
        eligible,
      });
      await dht.wind(
        'SETXATTR',
        (i) => ({
          gfid,
          flags: 0,
          dict: new Map([[dht.layoutKey, ptrValue(layout.diskLayout(i))]]),
          xdata: null,
        }),
        dht.internal(ctx),
        { to: dht.indexes().filter((i) => eligible[i]) },
      );
      dht.remember(gfid, { dir: true, layout, path });
      return { ...result, xdata: dht.cleanXdata(result.xdata, req.xdata) };
    },

    async LINK(req, ctx) {
      const info = await locate(dht, req.oldgfid, ctx);
      if (info.dir) throw FopError.of('EPERM', 'hard links to directories');
      const hashed = hashedFor(dht, await dirInfo(dht, req.newgfid, ctx), req.newbname);
      if (hashed !== info.subvol) {
        await createLinkto(dht, hashed, info.subvol, req.newgfid, req.newbname, req.oldgfid, ctx);
      }
      try {
        return await dht.call(info.subvol, 'LINK', req, ctx);
      } catch (e) {
        if (hashed !== info.subvol) {
          const unlink = { pargfid: req.newgfid, bname: req.newbname, xflags: 0, xdata: null };
          await dht.call(hashed, 'UNLINK', unlink, dht.internal(ctx)).catch(ignore);
        }
        throw e;
      }
    },

    async UNLINK(req, ctx) {
      const named = await resolveName(dht, lookupReq(req.pargfid, req.bname), ctx);
      if (named.kind === 'dir') throw FopError.of('EISDIR');
      const reply = await dht.call(named.cached, 'UNLINK', req, ctx);
      if (named.linkto) {
        const linkto = { ...req, xdata: null };
        await dht.call(named.hashed, 'UNLINK', linkto, dht.internal(ctx)).catch(ignore);
      }
      return reply;
    },

    async RMDIR(req, ctx) {
      const named = await resolveName(dht, lookupReq(req.pargfid, req.bname), ctx);
      if (named.kind !== 'dir') throw FopError.of('ENOTDIR');
      const gfid = named.reply.prestat.gfid;
      await emptyOrThrow(dht, gfid, ctx);
      const parent = await dirInfo(dht, req.pargfid, ctx);
      const hashed = parent.layout.search(dht.hash(req.bname));
      const last = hashed >= 0 ? hashed : 0;
      const others = await dht.wind('RMDIR', req, ctx, { to: dht.indexes().filter((i) => i !== last) });
      const failed = others.failed.find((f) => !isAbsent(f.error));
      if (failed) throw failed.error;
      let reply: FopReply<'RMDIR'> | undefined;
      try {
        reply = await dht.call(last, 'RMDIR', req, ctx);
      } catch (e) {
        if (!isAbsent(e)) throw e;
        const any = others.first();
        if (!any) throw e;
        reply = any.value;
      }
      dht.forget(gfid);
      return reply;
    },

    async RENAME(req, ctx) {
      const src = await resolveName(dht, lookupReq(req.oldgfid, req.oldbname), ctx);
      const dstParent = await dirInfo(dht, req.newgfid, ctx);
      const dstHashed = hashedFor(dht, dstParent, req.newbname);
      const dst = await resolveOrNull(dht, req.newgfid, req.newbname, ctx);
      if (src.kind === 'dir') {
        if (dst?.kind === 'file') throw FopError.of('ENOTDIR');
        if (dst?.kind === 'dir') await emptyOrThrow(dht, dst.reply.prestat.gfid, ctx);
        const reply = await dht.call(dstHashed, 'RENAME', req, ctx);
        await dht.wind('RENAME', req, ctx, { to: dht.indexes().filter((i) => i !== dstHashed) });
        const gfid = src.reply.prestat.gfid;
        dht.remember(gfid, { ...src.info, path: childPath(dstParent.path, req.newbname) });
        if (dst) dht.forget(dst.reply.prestat.gfid);
        return reply;
      }
      if (dst?.kind === 'dir') throw FopError.of('EISDIR');
      return renameFile(dht, req, ctx, src, dst, dstHashed);
    },
  };
}

/** dht_rename_create_links → dht_do_rename → dht_rename_unlink, for a file. */
async function renameFile(
  dht: Dht,
  req: FopRequest<'RENAME'>,
  ctx: FopContext,
  src: Extract<Named, { kind: 'file' }>,
  dst: Extract<Named, { kind: 'file' }> | null,
  dstHashed: number,
): Promise<FopReply<'RENAME'>> {
  const internal = dht.internal(ctx);
  const gfid = src.reply.prestat.gfid;
  const srcCached = src.cached;
  const srcHashed = src.hashed;
  const dstCached = dst ? dst.cached : -1;
  const oldName = { pargfid: req.oldgfid, bname: req.oldbname, xflags: 0, xdata: null };
  const newName = { pargfid: req.newgfid, bname: req.newbname, xflags: 0, xdata: null };
  let madeLinkto = false;
  let linked: Iatt | null = null;

  if (srcCached === dstCached) {
    if (dstHashed !== dstCached && dst?.linkto)
      await dht.call(dstHashed, 'UNLINK', newName, internal).catch(ignore);
  } else if (srcCached !== dstHashed) {
    if (dstHashed !== srcHashed) {
      await createLinkto(dht, dstHashed, srcCached, req.oldgfid, req.oldbname, gfid, ctx);
      madeLinkto = true;
    }
    try {
      const link = { oldgfid: gfid, newgfid: req.newgfid, newbname: req.newbname, xdata: null };
      linked = (await dht.call(srcCached, 'LINK', link, ctx)).stat;
    } catch (e) {
      if (madeLinkto) await dht.call(dstHashed, 'UNLINK', oldName, internal).catch(ignore);
      throw e;
    }
  }

  const renameAt = srcCached === dstCached ? srcCached : dstHashed;
  let reply: FopReply<'RENAME'>;
  try {
    reply = await dht.call(renameAt, 'RENAME', req, ctx);
  } catch (e) {
    if (linked) await dht.call(srcCached, 'UNLINK', newName, internal).catch(ignore);
    if (madeLinkto) await dht.call(dstHashed, 'UNLINK', oldName, internal).catch(ignore);
    throw e;
  }

  const cleanup: Promise<unknown>[] = [];
  if (srcCached !== dstHashed && srcCached !== dstCached)
    cleanup.push(dht.call(srcCached, 'UNLINK', oldName, internal));
  if (srcHashed >= 0 && srcHashed !== renameAt && srcHashed !== srcCached) {
    cleanup.push(dht.call(srcHashed, 'UNLINK', oldName, internal));
  }
  if (dstCached >= 0 && dstCached !== dstHashed && dstCached !== srcCached) {
    cleanup.push(dht.call(dstCached, 'UNLINK', newName, internal));
  }
  if (srcCached === dstCached && dstHashed !== dstCached) {
    cleanup.push(createLinkto(dht, dstHashed, srcCached, req.newgfid, req.newbname, gfid, ctx));
  }
  await Promise.all(cleanup.map((p) => p.catch(ignore)));

  dht.remember(gfid, { dir: false, subvol: srcCached });
  if (dst && !dst.reply.prestat.gfid.equals(gfid)) dht.forget(dst.reply.prestat.gfid);
  let stat = reply.stat;
  if (renameAt !== srcCached) {
    stat = linked ?? (await dht.call(srcCached, 'STAT', { gfid, xdata: null }, ctx)).stat;
  }
  return { ...reply, stat: dht.cleanFileStat(stat) };
}
