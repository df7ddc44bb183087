/**
 * A small inode cache: inodes keyed by gfid, and (parent gfid, name) entries pointing at
 * them, so that resolving `/a/b/c` twice costs one LOOKUP (the last component, always
 * sent, so attributes are fresh) instead of three. Entries live `ttlMs` (FUSE's
 * entry-timeout idea: another client's rename becomes visible within it) and are dropped
 * at once by this client's own namespace changes, or when a call answers ESTALE (the gfid
 * is gone); the caller then resolves again without the cache. Bounded: the oldest entries
 * are evicted first.
 */
import { S_IFMT } from './stats.js';

export interface Inode {
  readonly gfid: Buffer;
  readonly key: string;
  /** S_IFMT bits of the mode. */
  readonly type: number;
}

interface Entry {
  inode: Inode;
  expires: number;
}

export function gfidKey(gfid: Buffer): string {
  return gfid.toString('hex');
}

export class InodeCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly ttlMs = 1000,
    readonly maxEntries = 4096,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** An inode from a stat's gfid and mode (the gfid is copied: stats are views of records). */
  inode(gfid: Buffer, mode: number): Inode {
    return { gfid: Buffer.from(gfid), key: gfidKey(gfid), type: mode & S_IFMT };
  }

  lookup(parent: Inode, name: string, now = Date.now()): Inode | undefined {
    const k = `${parent.key}/${name}`;
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(k);
      return undefined;
    }
    return e.inode;
  }

  link(parent: Inode, name: string, inode: Inode): void {
    if (this.ttlMs <= 0) return;
    const k = `${parent.key}/${name}`;
    this.entries.delete(k);
    this.entries.set(k, { inode, expires: Date.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  unlink(parent: Inode, name: string): void {
    this.entries.delete(`${parent.key}/${name}`);
  }

  /** The gfid is gone (ESTALE) or replaced: forget it and every entry naming it. */
  forget(gfid: Buffer): void {
    const key = gfidKey(gfid);
    for (const [k, e] of this.entries)
      if (e.inode.key === key || k.startsWith(`${key}/`)) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }
}
