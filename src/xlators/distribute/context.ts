/**
 * What every part of cluster/distribute shares: the children, the option values, the
 * keys, and what DHT remembers per inode (stock keeps it in inode contexts; here a bounded
 * map by gfid): a directory's layout and path, a file's cached subvolume. Anything not
 * remembered is found again (a nameless LOOKUP on every subvolume), so a fresh instance
 * works on bricks written by any client.
 */
import {
  DictType,
  gfuuidValue,
  uintValue,
  type Dict,
  type DictValue,
  type GfxDict,
} from '../../protocol/dict.js';
import { Errno, FopError } from '../../protocol/errno.js';
import { gfidToString, randomGfid, ROOT_GFID, type Gfid } from '../../protocol/gfid.js';
import type { Iatt } from '../../protocol/iatt.js';
import { Children } from '../../xlator/fanout.js';
import type { Layer } from '../../xlator/layer.js';
import type { FopContext } from '../../xlator/translator.js';
import type { NameHasher } from './hash.js';
import {
  HASH_TYPE_DM,
  HASH_TYPE_DM_USER,
  Layout,
  parseDiskLayout,
  statfsChunks,
  type DiskLayout,
} from './layout.js';

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_ISVTX = 0o1000;
export const S_ISGID = 0o2000;
/** Stock's merged directory stat: size and blocks are these, whatever the bricks say. */
const DIR_STAT_SIZE = 4096;
const DIR_STAT_BLOCKS = 8;
/** Weights (STATFS) are refreshed at most this often, as stock's du refresh. */
const DU_REFRESH_MS = 5000;
const MAX_INODES = 1 << 17;

export interface DhtSettings {
  hasher: NameHasher;
  /** Base key (`xattr-name`); `.linkto`, `.mds`, `.commithash` derive from it. */
  xattrName: string;
  lookupOptimize: boolean;
  weightedRebalance: boolean;
  readdirOptimize: boolean;
  randomizeByGfid: boolean;
}

export interface DirInfo {
  dir: true;
  layout: Layout;
  /** Full path ("/a/b") when known; new layouts start from its hash. */
  path: string | null;
}
export interface FileInfo {
  dir: false;
  subvol: number;
}
export type InodeInfo = DirInfo | FileInfo;

export const isDir = (st: Iatt): boolean => (st.mode & S_IFMT) === S_IFDIR;

/** ENOENT and ESTALE both mean "not on this subvolume". */
export function isAbsent(e: unknown): boolean {
  return e instanceof FopError && (e.errno === Errno.ENOENT || e.errno === Errno.ESTALE);
}

export const key = (gfid: Uint8Array): string => Buffer.from(gfid).toString('hex');

/** The gfid a creation fop asks for (`gfid-req`), or a fresh one. */
export function gfidOf(xdata: GfxDict): Gfid {
  const v = xdata?.get('gfid-req');
  return v?.type === DictType.GFUUID ? v.value : randomGfid();
}

export function childPath(parent: string | null, name: string): string | null {
  if (parent === null) return null;
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

export class Dht extends Children {
  readonly names: readonly string[];
  readonly layoutKey: string;
  readonly linktoKey: string;
  readonly mdsKey: string;
  readonly commitKey: string;
  /** The volume's commit hash (root `.commithash`, written by rebalance); 0 before one. */
  volCommitHash = 0;
  private readonly inodes = new Map<string, InodeInfo>();
  /** Directory lookups in flight by gfid, so concurrent callers share one (and one heal). */
  readonly pendingDirs = new Map<string, Promise<DirInfo>>();
  private du: { at: number; weights: number[] | null } | null = null;

  constructor(
    children: readonly Layer[],
    readonly settings: DhtSettings,
  ) {
    super(children);
    this.names = children.map((c) => c.name);
    this.layoutKey = settings.xattrName;
    this.linktoKey = `${settings.xattrName}.linkto`;
    this.mdsKey = `${settings.xattrName}.mds`;
    this.commitKey = `${settings.xattrName}.commithash`;
  }

  /** The caller's identity replaced by root, as stock runs its internal fops (FRAME_SU_DO). */
  internal(ctx: FopContext): FopContext {
    return { ...ctx, caller: { ...ctx.caller, uid: 0, gid: 0, groups: [] } };
  }

  hash(name: string): number {
    return this.settings.hasher.hash(name);
  }

  // ---- what DHT asks bricks for, and what it hides again --------------------------

  /** LOOKUP xdata with DHT's keys added (size hints as stock sends them). */
  lookupXdata(xdata: GfxDict, root = false): Dict {
    const d: Dict = new Map(xdata ?? []);
    if (!d.has(this.layoutKey)) d.set(this.layoutKey, uintValue(16));
    if (!d.has(this.mdsKey)) d.set(this.mdsKey, uintValue(4));
    if (!d.has(this.linktoKey)) d.set(this.linktoKey, uintValue(256));
    if (root && !d.has(this.commitKey)) d.set(this.commitKey, uintValue(4));
    return d;
  }

  /** Reply xdata without the DHT keys the caller did not ask for itself. */
  cleanXdata(reply: GfxDict, asked: GfxDict): GfxDict {
    if (!reply) return reply;
    const keys = [this.layoutKey, this.mdsKey, this.linktoKey, this.commitKey].filter((k) => !asked?.has(k));
    if (!keys.some((k) => reply.has(k))) return reply;
    const d: Dict = new Map(reply);
    for (const k of keys) d.delete(k);
    return d;
  }

  /** A linkto file: mode exactly sticky (with the type bits) and the linkto key present. */
  isLinkto(st: Iatt, xdata: GfxDict): boolean {
    return (st.mode & ~S_IFMT) === S_ISVTX && (xdata?.has(this.linktoKey) ?? false);
  }

  /** The subvolume a linkto names, or -1. */
  linkTarget(xdata: GfxDict): number {
    const v = xdata?.get(this.linktoKey);
    if (!v || (v.type !== DictType.PTR && v.type !== DictType.STR && v.type !== DictType.STR_OLD)) return -1;
    const raw = v.value;
    const name = (raw.length && raw[raw.length - 1] === 0 ? raw.subarray(0, raw.length - 1) : raw).toString();
    return this.names.indexOf(name);
  }

  /** The linkto xattr value naming subvolume `i`, NUL included as stock stores it. */
  linktoValue(i: number): DictValue {
    return { type: DictType.STR, value: Buffer.from(`${this.names[i]}\0`) };
  }

  /** A subvolume's layout from its LOOKUP reply xdata; null when absent or invalid. */
  diskLayoutIn(xdata: GfxDict): DiskLayout | null {
    const v = xdata?.get(this.layoutKey);
    if (!v || (v.type !== DictType.PTR && v.type !== DictType.STR)) return null;
    if (v.value.length !== 16) return null;
    const l = parseDiskLayout(v.value);
    return l.type === HASH_TYPE_DM || l.type === HASH_TYPE_DM_USER ? l : null;
  }

  /** Reads the root's commit hash (ASCII decimal, strtoul) from a LOOKUP reply. */
  noteCommitHash(xdata: GfxDict): void {
    const v = xdata?.get(this.commitKey);
    if (!v || (v.type !== DictType.PTR && v.type !== DictType.STR)) return;
    const m = /^\s*(\d+)/.exec(v.value.toString('latin1'));
    if (m) this.volCommitHash = Number(BigInt(m[1]!) & 0xffffffffn);
  }

  // ---- inode memory ------------------------------------------------------------------

  remembered(gfid: Uint8Array): InodeInfo | undefined {
    return this.inodes.get(key(gfid));
  }

  remember(gfid: Uint8Array, info: InodeInfo): void {
    const k = key(gfid);
    this.inodes.delete(k);
    this.inodes.set(k, info);
    if (this.inodes.size > MAX_INODES) this.inodes.delete(this.inodes.keys().next().value!);
  }

  forget(gfid: Uint8Array): void {
    this.inodes.delete(key(gfid));
  }

  /** What the alloc start of a new directory's layout hashes (its path, or its gfid). */
  layoutKeyFor(path: string | null, gfid: Gfid): string {
    if (this.settings.randomizeByGfid || path === null) return gfidToString(gfid);
    return path;
  }

  // ---- stats -------------------------------------------------------------------------

  /** dht_iatt_merge over one directory's copies: max owner and times; fixed size. */
  mergeDirStats(stats: readonly Iatt[]): Iatt {
    const out: Iatt = { ...stats[0]! };
    for (const s of stats.slice(1)) {
      out.uid = Math.max(out.uid, s.uid);
      out.gid = Math.max(out.gid, s.gid);
      for (const t of ['atime', 'mtime', 'ctime'] as const) {
        const ns = `${t}Nsec` as const;
        if (s[t] > out[t] || (s[t] === out[t] && s[ns] > out[ns])) {
          out[t] = s[t];
          out[ns] = s[ns];
        }
      }
    }
    if (stats.length > 1) {
      out.size = DIR_STAT_SIZE;
      out.blocks = DIR_STAT_BLOCKS;
    }
    return out;
  }

  /** Rebalance's phase-1 mark (sticky + setgid on a data file) is not the user's. */
  cleanFileStat(st: Iatt): Iatt {
    if ((st.mode & S_IFMT) === S_IFREG && st.mode & S_ISVTX && st.mode & S_ISGID) {
      return { ...st, mode: st.mode & ~(S_ISVTX | S_ISGID) };
    }
    return st;
  }

  /** Per-subvolume layout weights from STATFS, refreshed every few seconds. */
  async weights(ctx: FopContext): Promise<number[] | null> {
    if (!this.settings.weightedRebalance) return null;
    if (this.du && Date.now() - this.du.at < DU_REFRESH_MS) return this.du.weights;
    const replies = await this.wind('STATFS', { gfid: ROOT_GFID, xdata: null }, this.internal(ctx));
    const weights = this.indexes().map((i) => {
      const r = replies.get(i);
      return r?.ok ? statfsChunks(r.value.statfs.bsize, r.value.statfs.blocks) : 0;
    });
    this.du = { at: Date.now(), weights: weights.every((w) => w > 0) ? weights : null };
    return this.du.weights;
  }

  gfidReqXdata(xdata: GfxDict, gfid: Gfid): Dict {
    const d: Dict = new Map(xdata ?? []);
    d.set('gfid-req', gfuuidValue(gfid));
    return d;
  }
}
