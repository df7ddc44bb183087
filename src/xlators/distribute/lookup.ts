/**
 * LOOKUP, and finding where things are (docs/distribute.md, "Where a name is looked up"):
 * - a name is looked up on the subvolume its hash falls on in the parent's layout; a
 *   linkto file there is followed to the subvolume it names; a miss is final when the
 *   parent's layout commit hash equals the volume's (lookup-optimize), else the name is
 *   looked up everywhere, and a file found off its hashed subvolume gets a linkto there;
 * - a directory is looked up on every subvolume: copies missing on some are created
 *   (same gfid), the layout is read from `trusted.glusterfs.dht` and healed when it has
 *   holes or overlaps (a new layout, commit 1) or a copy has none (0/0, as stock);
 * - a gfid alone (nameless LOOKUP) is looked up on every subvolume unless remembered.
 */
import { ptrValue, type GfxDict } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import { NULL_GFID, randomGfid, ROOT_GFID, type Gfid } from '../../protocol/gfid.js';
import { classify, Replies, type Success } from '../../xlator/fanout.js';
import type { FopContext, FopReply, FopRequest } from '../../xlator/translator.js';
import {
  childPath,
  isAbsent,
  isDir,
  key,
  S_IFMT,
  type Dht,
  type DirInfo,
  type InodeInfo,
} from './context.js';
import { assignLayout, HASH_TYPE_DM_USER, Layout, LAYOUT_HASH_INVALID } from './layout.js';

type LookupReq = FopRequest<'LOOKUP'>;
type LookupReply = FopReply<'LOOKUP'>;
type Lookups = Replies<LookupReply>;

export type Named =
  | { kind: 'dir'; reply: LookupReply; info: DirInfo }
  | {
      kind: 'file';
      reply: LookupReply;
      /** Where the data file is. */
      cached: number;
      /** Where the name hashes to (-1: a hole in the parent's layout). */
      hashed: number;
      /** True when `hashed` holds a linkto for it (hashed !== cached). */
      linkto: boolean;
    };

const isRoot = (gfid: Uint8Array) => ROOT_GFID.equals(gfid);

function nameless(gfid: Gfid, xdata: GfxDict = null): LookupReq {
  return { gfid, pargfid: NULL_GFID, flags: 0, bname: '', xdata };
}

/** A directory's layout and path: remembered, or looked up (and healed) now. */
export function dirInfo(dht: Dht, gfid: Gfid, ctx: FopContext): Promise<DirInfo> {
  const known = dht.remembered(gfid);
  if (known?.dir) return Promise.resolve(known);
  if (known) return Promise.reject(FopError.of('ENOTDIR'));
  const pending = dht.pendingDirs;
  const k = key(gfid);
  let p = pending.get(k);
  if (!p) {
    const path = isRoot(gfid) ? '/' : null;
    p = lookupDir(dht, nameless(gfid), ctx, new Replies([]), path)
      .then((r) => r.info)
      .finally(() => pending.delete(k));
    pending.set(k, p);
  }
  return p;
}

/** Forgets a directory's layout and reads it again (after a stale-layout failure). */
export async function refreshDir(dht: Dht, gfid: Gfid, ctx: FopContext): Promise<DirInfo> {
  const known = dht.remembered(gfid);
  dht.forget(gfid);
  const info = await dirInfo(dht, gfid, ctx);
  if (known?.dir && info.path === null) info.path = known.path;
  return info;
}

/**
 * Looks a directory up on every subvolume not in `known`, creates missing copies (named
 * lookups only), heals the layout, remembers it and returns the merged reply.
 */
export async function lookupDir(
  dht: Dht,
  req: LookupReq,
  ctx: FopContext,
  known: Lookups,
  path: string | null,
  first = -1,
): Promise<{ reply: LookupReply; info: DirInfo }> {
  const root = !req.bname && isRoot(req.gfid);
  const xdata = dht.lookupXdata(req.xdata, root);
  const ask = dht.indexes().filter((i) => !known.get(i));
  const replies = known.and(await dht.wind('LOOKUP', { ...req, xdata }, ctx, { to: ask }));

  const dirs = new Map<number, LookupReply>();
  for (const r of replies.ok) if (isDir(r.value.prestat)) dirs.set(r.target, r.value);
  if (dirs.size === 0) throw notFound(replies);
  const base = dirs.get(first) ?? dirs.values().next().value!;
  const gfid = base.prestat.gfid;
  if (root) for (const r of dirs.values()) dht.noteCommitHash(r.xdata);

  // Copies missing on some subvolumes (created behind DHT's back, a new brick): mkdir them.
  if (req.bname) {
    const absent = replies.failed.filter((f) => isAbsent(f.error)).map((f) => f.target);
    await Promise.all(absent.map((i) => healMissingDir(dht, i, req, base, ctx, dirs)));
  }

  const before = dht.remembered(gfid);
  path ??= before?.dir ? before.path : null;
  const layout = await healLayout(dht, gfid, [...dirs.keys()], ctx, path, dirs);
  const info: DirInfo = { dir: true, layout, path };
  dht.remember(gfid, info);
  const order = [base, ...[...dirs.values()].filter((r) => r !== base)];
  return {
    info,
    reply: {
      prestat: dht.mergeDirStats(order.map((r) => r.prestat)),
      poststat: base.poststat,
      xdata: dht.cleanXdata(base.xdata, req.xdata),
    },
  };
}

async function healMissingDir(
  dht: Dht,
  i: number,
  req: LookupReq,
  base: LookupReply,
  ctx: FopContext,
  dirs: Map<number, LookupReply>,
): Promise<void> {
  const st = base.prestat;
  const internal = dht.internal(ctx);
  try {
    await dht.call(
      i,
      'MKDIR',
      {
        pargfid: req.pargfid,
        bname: req.bname,
        mode: st.mode & ~S_IFMT,
        umask: 0,
        xdata: dht.gfidReqXdata(null, st.gfid),
      },
      internal,
    );
  } catch (e) {
    if (!(e instanceof FopError && e.code === 'EEXIST')) return;
  }
  try {
    const r = await dht.call(i, 'LOOKUP', { ...req, xdata: dht.lookupXdata(req.xdata) }, ctx);
    if (isDir(r.prestat) && r.prestat.gfid.equals(st.gfid)) dirs.set(i, r);
  } catch {
    // Left for the next lookup.
  }
}

/**
 * The layout of a directory present on `present`, from the copies' xattrs; written anew
 * when it has holes or overlaps (unless the user set it), and 0/0 where a copy has none.
 */
async function healLayout(
  dht: Dht,
  gfid: Gfid,
  present: readonly number[],
  ctx: FopContext,
  path: string | null,
  dirs: Map<number, LookupReply>,
): Promise<Layout> {
  const entries = dht.indexes().map((i) => (dirs.has(i) ? dht.diskLayoutIn(dirs.get(i)!.xdata) : null));
  const found = new Layout(entries);
  let layout = found;
  let write: number[];
  if (!found.sound && !entries.some((e) => e?.type === HASH_TYPE_DM_USER)) {
    const eligible = dht.indexes().map((i) => present.includes(i));
    layout = assignLayout({
      names: dht.names,
      key: dht.layoutKeyFor(path, gfid),
      hasher: dht.settings.hasher,
      commit: LAYOUT_HASH_INVALID,
      weights: await dht.weights(ctx),
      eligible,
    });
    write = [...present];
  } else {
    write = present.filter((i) => entries[i] === null);
  }
  if (write.length === 0) return layout;
  const internal = dht.internal(ctx);
  await dht.wind(
    'SETXATTR',
    (i) => ({
      gfid,
      flags: 0,
      dict: new Map([[dht.layoutKey, ptrValue(layout.diskLayout(i))]]),
      xdata: null,
    }),
    internal,
    { to: write },
  );
  // What now stands on disk: 0/0 entries for copies that had none.
  return new Layout(
    dht.indexes().map((i) => layout.entries[i] ?? (present.includes(i) ? zero(layout) : null)),
  );
}

function zero(l: Layout) {
  return { commit: l.commit, type: 0, start: 0, stop: 0 };
}

/** Resolves a name in a directory: a directory, or a file with where it is cached. */
export async function resolveName(dht: Dht, req: LookupReq, ctx: FopContext): Promise<Named> {
  // One gfid for every brick that adopts an entry made behind GlusterFS's back.
  if (!req.xdata?.has('gfid-req')) req = { ...req, xdata: dht.gfidReqXdata(req.xdata, randomGfid()) };
  const parent = await dirInfo(dht, req.pargfid, ctx);
  const path = childPath(parent.path, req.bname);
  const hashed = parent.layout.search(dht.hash(req.bname));
  const xdata = dht.lookupXdata(req.xdata);
  let known: Lookups = new Replies([]);
  if (hashed >= 0) {
    try {
      const r = await dht.call(hashed, 'LOOKUP', { ...req, xdata }, ctx);
      if (isDir(r.prestat)) {
        known = new Replies([{ target: hashed, ok: true, value: r }]);
        return { kind: 'dir', ...(await lookupDir(dht, req, ctx, known, path, hashed)) };
      }
      if (!dht.isLinkto(r.prestat, r.xdata))
        return { kind: 'file', reply: r, cached: hashed, hashed, linkto: false };
      const target = dht.linkTarget(r.xdata);
      if (target >= 0 && target !== hashed) {
        try {
          const data = await dht.call(target, 'LOOKUP', { ...req, xdata }, ctx);
          if (!dht.isLinkto(data.prestat, data.xdata) && data.prestat.gfid.equals(r.prestat.gfid)) {
            return { kind: 'file', reply: data, cached: target, hashed, linkto: true };
          }
        } catch (e) {
          if (!isAbsent(e)) throw e;
        }
      }
      known = new Replies([{ target: hashed, ok: true, value: r }]);
    } catch (e) {
      if (!isAbsent(e)) throw e;
      if (dht.settings.lookupOptimize && parent.layout.commit === dht.volCommitHash) throw e;
      known = new Replies([{ target: hashed, ok: false, ...classify(e) }]);
    }
  }
  return lookupEverywhere(dht, req, ctx, known, hashed, path);
}

/** dht_lookup_everywhere: the name on every subvolume; a data file off its hashed one gets a linkto. */
async function lookupEverywhere(
  dht: Dht,
  req: LookupReq,
  ctx: FopContext,
  known: Lookups,
  hashed: number,
  path: string | null,
): Promise<Named> {
  const xdata = dht.lookupXdata(req.xdata);
  const ask = dht.indexes().filter((i) => !known.get(i));
  const replies = known.and(await dht.wind('LOOKUP', { ...req, xdata }, ctx, { to: ask }));
  if (replies.ok.some((r) => isDir(r.value.prestat))) {
    const dirsOnly = new Replies(replies.outcomes.filter((r) => !r.ok || isDir(r.value.prestat)));
    return { kind: 'dir', ...(await lookupDir(dht, req, ctx, dirsOnly, path)) };
  }
  const data = dataFile(dht, replies);
  if (!data) throw notFound(replies);
  const { target: cached, value: reply } = data;
  let linkto = false;
  if (hashed >= 0 && hashed !== cached) {
    const there = replies.get(hashed);
    if (there?.ok) linkto = dht.isLinkto(there.value.prestat, there.value.xdata);
    else {
      linkto = await createLinkto(dht, hashed, cached, req.pargfid, req.bname, reply.prestat.gfid, ctx).then(
        () => true,
        () => false,
      );
    }
  }
  return { kind: 'file', reply, cached, hashed, linkto };
}

/** dht_linkfile_create: a mode-01000 empty file on `at` naming `target`, same gfid. */
export async function createLinkto(
  dht: Dht,
  at: number,
  target: number,
  pargfid: Gfid,
  bname: string,
  gfid: Gfid,
  ctx: FopContext,
): Promise<void> {
  const xdata = dht.gfidReqXdata(null, gfid);
  xdata.set(dht.linktoKey, dht.linktoValue(target));
  await dht.call(
    at,
    'MKNOD',
    { pargfid, bname, mode: 0o101000, umask: 0, dev: 0n, xdata },
    dht.internal(ctx),
  );
}

/** Nameless LOOKUP: by what is remembered of the gfid, else on every subvolume. */
async function lookupByGfid(dht: Dht, req: LookupReq, ctx: FopContext): Promise<LookupReply> {
  const known = dht.remembered(req.gfid);
  if (known && !known.dir) {
    try {
      const r = await dht.call(known.subvol, 'LOOKUP', { ...req, xdata: dht.lookupXdata(req.xdata) }, ctx);
      if (!dht.isLinkto(r.prestat, r.xdata) && !isDir(r.prestat)) return fileReply(dht, r, req.xdata);
    } catch (e) {
      if (!isAbsent(e)) throw e;
    }
    dht.forget(req.gfid);
  }
  const path = known?.dir ? known.path : isRoot(req.gfid) ? '/' : null;
  if (known?.dir || isRoot(req.gfid)) return (await lookupDir(dht, req, ctx, new Replies([]), path)).reply;
  const xdata = dht.lookupXdata(req.xdata);
  const replies = await dht.wind('LOOKUP', { ...req, xdata }, ctx);
  if (replies.ok.some((r) => isDir(r.value.prestat)))
    return (await lookupDir(dht, req, ctx, replies, path)).reply;
  const data = dataFile(dht, replies);
  if (!data) throw notFound(replies);
  dht.remember(req.gfid, { dir: false, subvol: data.target });
  return fileReply(dht, data.value, req.xdata);
}

/** The data file (not a linkto) on the lowest-numbered subvolume that has one. */
function dataFile(dht: Dht, replies: Lookups): Success<LookupReply> | undefined {
  const data = replies.ok.filter((r) => !dht.isLinkto(r.value.prestat, r.value.xdata));
  return data.sort((a, b) => a.target - b.target)[0];
}

/** Nothing found: the first real failure, else ENOENT. */
function notFound(replies: Lookups): FopError {
  return replies.error({ prefer: (e) => !isAbsent(e), otherwise: FopError.of('ENOENT') });
}

function fileReply(dht: Dht, r: LookupReply, asked: GfxDict): LookupReply {
  return { ...r, prestat: dht.cleanFileStat(r.prestat), xdata: dht.cleanXdata(r.xdata, asked) };
}

/** Where an inode lives: remembered, or found now. */
export async function locate(dht: Dht, gfid: Gfid, ctx: FopContext): Promise<InodeInfo> {
  const known = dht.remembered(gfid);
  if (known) return known;
  await lookupByGfid(dht, nameless(gfid), ctx);
  const found = dht.remembered(gfid);
  if (!found) throw FopError.of('ENOENT', 'inode not found on any subvolume');
  return found;
}

export async function lookup(dht: Dht, req: LookupReq, ctx: FopContext): Promise<LookupReply> {
  if (!req.bname) return lookupByGfid(dht, req, ctx);
  if (req.bname === '.' || req.bname === '..') {
    return (await lookupDir(dht, req, ctx, new Replies([]), null)).reply;
  }
  const r = await resolveName(dht, req, ctx);
  if (r.kind === 'dir') return r.reply;
  dht.remember(r.reply.prestat.gfid, { dir: false, subvol: r.cached });
  return fileReply(dht, r.reply, req.xdata);
}
