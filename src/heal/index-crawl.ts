/**
 * Reading a brick's heal index through features/index's virtual interface (the one stock's
 * shd and `heal info` use): GETXATTR on the root of `glusterfs.xattrop_index_gfid`,
 * `…_dirty_gfid` or `…_entry_changes_gfid` gives a virtual folder's gfid; OPENDIR/READDIR on
 * it, with `get-gfid-type`, lists the indexed gfids; LOOKUP of `<dir gfid>` in entry-changes
 * names the folder of one directory's changed names.
 */
import { intValue } from '../protocol/dict.js';
import { Errno } from '../protocol/errno.js';
import { gfidToString, parseGfid, ROOT_GFID } from '../protocol/gfid.js';
import type { HealIo } from './bricks.js';

export type IndexKind = 'xattrop' | 'dirty' | 'entry-changes';
const VGFID_KEY: Record<IndexKind, string> = {
  xattrop: 'glusterfs.xattrop_index_gfid',
  dirty: 'glusterfs.xattrop_dirty_gfid',
  'entry-changes': 'glusterfs.xattrop_entry_changes_gfid',
};
const GFID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DT_DIR = 4;

export interface IndexEntry {
  gfid: Buffer;
  isDirectory: boolean;
}

/** The gfids in one index folder of brick i (the base file and non-gfid names left out). */
export async function listIndex(io: HealIo, i: number, kind: IndexKind): Promise<IndexEntry[]> {
  const vgfid = await io.getxattr(i, ROOT_GFID, VGFID_KEY[kind]);
  if (!vgfid || vgfid.length !== 16) return [];
  const entries = await io.list(i, vgfid, new Map([['get-gfid-type', intValue(1)]]));
  return entries
    .filter((e) => GFID_NAME.test(e.name))
    .map((e) => ({ gfid: parseGfid(e.name), isDirectory: e.type === DT_DIR }));
}

/** The names recorded as created or deleted in directory `dir` on brick i (granular entry heal). */
export async function entryChanges(io: HealIo, i: number, dir: Buffer): Promise<string[] | undefined> {
  const vgfid = await io.getxattr(i, ROOT_GFID, VGFID_KEY['entry-changes']);
  if (!vgfid || vgfid.length !== 16) return undefined;
  const found = await io.r.callChild(
    i,
    'LOOKUP',
    { gfid: Buffer.alloc(16), pargfid: vgfid, flags: 0, bname: gfidToString(dir), xdata: null },
    io.ctx,
  );
  if (!found.ok) {
    if (found.error.errno === Errno.ENOENT) return [];
    return undefined;
  }
  const entries = await io.list(i, found.value.prestat.gfid);
  return entries.map((e) => e.name);
}

/** What the up bricks of a set have indexed, listed once. */
export interface IndexListing {
  /** Every gfid any up brick has indexed (xattrop, dirty, entry-changes folders). */
  entries: Map<string, IndexEntry>;
  /** The xattrop (accusation) entries as `<brick>:<gfid>`: one brick's new charge is a new name. */
  accusations: Set<string>;
}

export async function listPending(io: HealIo): Promise<IndexListing> {
  const entries = new Map<string, IndexEntry>();
  const accusations = new Set<string>();
  for (const i of io.r.upChildren()) {
    for (const kind of ['xattrop', 'dirty', 'entry-changes'] as const) {
      const listed = await listIndex(io, i, kind).catch(() => []);
      for (const e of listed) {
        const key = gfidToString(e.gfid);
        if (kind === 'xattrop') accusations.add(`${i}:${key}`);
        const seen = entries.get(key);
        entries.set(key, {
          gfid: e.gfid,
          isDirectory: (seen?.isDirectory ?? false) || e.isDirectory || kind === 'entry-changes',
        });
      }
    }
  }
  return { entries, accusations };
}

/** Every gfid any up brick of the set has indexed (xattrop, dirty, entry-changes folders). */
export async function pendingGfids(io: HealIo): Promise<Map<string, IndexEntry>> {
  return (await listPending(io)).entries;
}

/** The up bricks' xattrop entries as `<brick>:<gfid>` (listPending's `accusations` alone). */
export async function listAccusations(io: HealIo): Promise<Set<string>> {
  const out = new Set<string>();
  for (const i of io.r.upChildren())
    for (const e of await listIndex(io, i, 'xattrop').catch(() => []))
      out.add(`${i}:${gfidToString(e.gfid)}`);
  return out;
}

/**
 * Drops `gfid` from every index folder of the up bricks, as stock's shd purges an entry
 * whose inode no brick has any more (removed while a brick was away: nothing is left to
 * heal, and `heal info` must not list it forever). Entries already gone are fine.
 */
export async function purgeIndexEntries(io: HealIo, gfid: Buffer): Promise<void> {
  const name = gfidToString(gfid);
  const xdata = null;
  for (const i of io.r.upChildren()) {
    for (const kind of ['xattrop', 'dirty', 'entry-changes'] as const) {
      const vgfid = await io.getxattr(i, ROOT_GFID, VGFID_KEY[kind]).catch(() => undefined);
      if (!vgfid || vgfid.length !== 16) continue;
      const x =
        kind === 'entry-changes'
          ? await io.r.callChild(i, 'RMDIR', { pargfid: vgfid, xflags: 0, bname: name, xdata }, io.ctx)
          : await io.r.callChild(i, 'UNLINK', { pargfid: vgfid, bname: name, xflags: 0, xdata }, io.ctx);
      if (!x.ok && x.error.errno !== Errno.ENOENT && x.error.errno !== Errno.ENOTEMPTY) throw x.error;
    }
  }
}
