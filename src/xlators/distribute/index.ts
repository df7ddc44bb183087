/**
 * cluster/distribute (DHT): spreads a volume's names over its subvolumes by the hash of
 * each name, compatible with stock GlusterFS 10's DHT on the same bricks: the same hash,
 * the same `trusted.glusterfs.dht` layouts (assigned the same way), linkto files, and the
 * same lookup fallbacks, so either client finds what the other placed. With one
 * subvolume it is a pass-through, as stock's, except MKDIR (a full-range layout is stored
 * with the directory) and xattr listings (DHT's keys hidden).
 */
import { ptrValue, type Dict } from '../../protocol/dict.js';
import type { FopTable } from '../../xlator/translator.js';
import { defineTranslator } from '../../xlator/translator.js';
import { Dht } from './context.js';
import { dirOps } from './dir-ops.js';
import { entryOps } from './entry-ops.js';
import { NameHasher, RSYNC_HASH_REGEX } from './hash.js';
import { inodeOps } from './inode-ops.js';
import { encodeDiskLayout, HASH_TYPE_DM, LAYOUT_XATTR } from './layout.js';
import { lookup } from './lookup.js';

export { dmHash, dhtNameHash, NameHasher, RSYNC_HASH_REGEX } from './hash.js';
export {
  assignLayout,
  encodeDiskLayout,
  hasRange,
  Layout,
  LAYOUT_XATTR,
  layoutOwner,
  layoutProblem,
  parseDiskLayout,
  statfsChunks,
  type DiskLayout,
} from './layout.js';
export { decodeDirOffset, encodeDirOffset } from './doff.js';

const on = (description: string) => ({ type: 'bool', default: true, description }) as const;
const off = (description: string) => ({ type: 'bool', default: false, description }) as const;
/** Options glusterd writes or users set that change nothing glusterts does (no rebalance, no tiering). */
const ignored = (description: string) =>
  ({ type: 'string', default: '', description: `accepted, ignored: ${description}` }) as const;

const options = {
  'lookup-optimize': on('a miss on the hashed subvolume is final when the parent layout is committed'),
  'weighted-rebalance': on('weight new layouts by subvolume size (STATFS)'),
  'readdir-optimize': off('list directories from the first subvolume only'),
  'randomize-hash-range-by-gfid': off("start a new layout from the directory's gfid, not its path"),
  'rsync-hash-regex': {
    type: 'string',
    default: RSYNC_HASH_REGEX,
    description: 'names matching it hash as their first group (rsync temp files); "none" disables',
  },
  'extra-hash-regex': { type: 'string', default: '', description: 'tried before rsync-hash-regex' },
  'xattr-name': { type: 'string', default: LAYOUT_XATTR, description: 'the layout xattr key' },
  'lock-migration': ignored('lock migration during rebalance'),
  'force-migration': ignored('rebalance of files open for writing'),
  'lookup-unhashed': ignored('superseded by lookup-optimize'),
  'min-free-disk': ignored('new files always go to the hashed subvolume'),
  'min-free-inodes': ignored('new files always go to the hashed subvolume'),
  'unhashed-sticky-bit': ignored('rebalance marks'),
  'use-readdirp': ignored('READDIR is always served from READDIRP'),
  'assert-no-child-down': ignored('child-down handling'),
  'directory-layout-spread': ignored('every subvolume gets a range'),
  'decommissioned-bricks': ignored('remove-brick'),
  'rebalance-cmd': ignored('rebalance daemon'),
  'commit-hash': ignored('rebalance daemon'),
  'node-uuid': ignored('rebalance daemon'),
  'rebalance-stats': ignored('rebalance daemon'),
  'rebalance-filter': ignored('rebalance daemon'),
  'local-volume-name': ignored('nufa'),
  'pattern.switch.case': ignored('cluster/switch'),
  'rebal-throttle': ignored('rebalance daemon'),
  'ensure-durability': ignored('rebalance daemon'),
} as const;

/** Single-subvolume DHT (stock dht_pt_fops): MKDIR stores a full-range layout. */
function passThrough(xattrName: string): FopTable {
  const full = encodeDiskLayout({ commit: 0, type: HASH_TYPE_DM, start: 0, stop: 0xffffffff });
  const hide = [xattrName, `${xattrName}.mds`, `${xattrName}.commithash`];
  const strip = <R extends { dict: Dict | null }>(r: R): R => {
    if (!r.dict || !hide.some((k) => r.dict!.has(k))) return r;
    const dict: Dict = new Map(r.dict);
    for (const k of hide) dict.delete(k);
    return { ...r, dict };
  };
  return {
    async MKDIR(req, _ctx, next) {
      const xdata: Dict = new Map(req.xdata ?? []);
      xdata.set(xattrName, ptrValue(full));
      return next({ ...req, xdata });
    },
    GETXATTR: async (req, _ctx, next) => strip(await next(req)),
    FGETXATTR: async (req, _ctx, next) => strip(await next(req)),
  };
}

export const distribute = defineTranslator({
  type: 'cluster/distribute',
  children: 'many',
  options,
  create({ options: o, children }) {
    if (children.length === 1) return { fops: passThrough(o['xattr-name']) };
    const dht = new Dht(children, {
      hasher: new NameHasher({
        rsyncHashRegex: o['rsync-hash-regex'],
        extraHashRegex: o['extra-hash-regex'],
      }),
      xattrName: o['xattr-name'],
      lookupOptimize: o['lookup-optimize'],
      weightedRebalance: o['weighted-rebalance'],
      readdirOptimize: o['readdir-optimize'],
      randomizeByGfid: o['randomize-hash-range-by-gfid'],
    });
    return {
      fops: {
        LOOKUP: (req, ctx) => lookup(dht, req, ctx),
        ...entryOps(dht),
        ...dirOps(dht),
        ...inodeOps(dht),
      },
    };
  },
});
