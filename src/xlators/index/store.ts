/**
 * The index directories under `<brick>/.glusterfs/indices`, laid out as stock's
 * features/index keeps them, so a brick moves between stock glusterfsd and glusterts with
 * its pending heals intact:
 *
 *     xattrop/xattrop-<uuid>          base file, zero length, mode 0000
 *     xattrop/<gfid>                  hard link to the base: some pending counter is non-zero
 *     dirty/dirty-<uuid>, dirty/<gfid>                the same for trusted.afr.dirty
 *     entry-changes/entry-changes-<uuid>              base of the granular entry index
 *     entry-changes/<dir gfid>/<name>                 link: this name needs an entry heal
 *
 * One uuid per process start (stock picks a new one at init; older base files stay and
 * keep their links). Every name that reaches the disk is either a canonical gfid string
 * or a checked single path component, so nothing is ever created outside these folders.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { FopError } from '../../protocol/errno.js';
import { gfidToString } from '../../protocol/gfid.js';

export type IndexKind = 'xattrop' | 'dirty' | 'entry-changes';
export const INDEX_KINDS: readonly IndexKind[] = ['xattrop', 'dirty', 'entry-changes'];

const GFID_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `name` is a canonical (lowercase) gfid string, the only names in xattrop/ and dirty/. */
export function isGfidName(name: string): boolean {
  return GFID_NAME.test(name);
}

/** A basename an entry-changes index may hold; EINVAL for anything else. */
export function checkEntryName(name: string): void {
  if (
    name.length === 0 ||
    name === '.' ||
    name === '..' ||
    name.includes('/') ||
    name.includes('\0') ||
    Buffer.byteLength(name) > 255
  ) {
    throw FopError.of('EINVAL', 'entry-changes name is not one path component');
  }
}

const errCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;

export class IndexStore {
  private uuid = randomUUID();

  constructor(readonly base: string) {}

  dir(kind: IndexKind): string {
    return join(this.base, kind);
  }

  /** The base file's name in its folder (left out of listings). */
  baseName(kind: IndexKind): string {
    return `${kind}-${this.uuid}`;
  }

  isBaseName(kind: IndexKind, name: string): boolean {
    return name.startsWith(`${kind}-`);
  }

  /**
   * Creates the three folders inside index-base (posix makes index-base itself at its
   * init). Never creates anything further up: a missing index-base is left for the first
   * add to report.
   */
  async init(): Promise<void> {
    for (const kind of INDEX_KINDS) await this.ensureDir(kind);
  }

  private async ensureDir(kind: IndexKind): Promise<void> {
    await fsp.mkdir(this.dir(kind), { mode: 0o600 }).catch((e: unknown) => {
      if (errCode(e) !== 'EEXIST' && errCode(e) !== 'ENOENT') throw e;
    });
  }

  /** Hard-links `path` to the kind's base file, creating the base on first use. */
  private async linkToBase(kind: IndexKind, path: string): Promise<void> {
    const base = join(this.dir(kind), this.baseName(kind));
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.link(base, path);
        return;
      } catch (e) {
        const code = errCode(e);
        if (code === 'EEXIST') return;
        if (attempt > 2) throw e;
        if (code === 'ENOENT') {
          // No base yet (first index entry since start): make it, mode 0000 as stock.
          await this.ensureDir(kind);
          const h = await fsp.open(base, 'wx', 0o000).catch((err: unknown) => {
            if (errCode(err) !== 'EEXIST') throw err;
            return null;
          });
          await h?.close();
        } else if (code === 'EMLINK') {
          // The base has as many links as the filesystem allows: start a new one.
          this.uuid = randomUUID();
        } else throw e;
      }
    }
  }

  async add(kind: 'xattrop' | 'dirty', gfid: Buffer): Promise<void> {
    await this.linkToBase(kind, join(this.dir(kind), gfidToString(gfid)));
  }

  async remove(kind: 'xattrop' | 'dirty', gfid: Buffer): Promise<void> {
    await fsp.unlink(join(this.dir(kind), gfidToString(gfid))).catch((e: unknown) => {
      if (errCode(e) !== 'ENOENT') throw e;
    });
  }

  async has(kind: 'xattrop' | 'dirty', gfid: Buffer): Promise<boolean> {
    return fsp.lstat(join(this.dir(kind), gfidToString(gfid))).then(
      () => true,
      () => false,
    );
  }

  /** entry-changes/<dir>/<name>: `name` in directory `dir` needs an entry heal. */
  async addEntry(dir: Buffer, name: string): Promise<void> {
    checkEntryName(name);
    const parent = join(this.dir('entry-changes'), gfidToString(dir));
    await fsp.mkdir(parent, { mode: 0o600 }).catch((e: unknown) => {
      if (errCode(e) !== 'EEXIST') throw e;
    });
    await this.linkToBase('entry-changes', join(parent, name));
  }

  async removeEntry(dir: Buffer, name: string): Promise<void> {
    checkEntryName(name);
    const parent = join(this.dir('entry-changes'), gfidToString(dir));
    await fsp.unlink(join(parent, name)).catch((e: unknown) => {
      if (errCode(e) !== 'ENOENT') throw e;
    });
  }

  /** Drops entry-changes/<dir> with every name in it (heal finished the directory). */
  async purgeEntries(dir: Buffer): Promise<void> {
    await fsp.rm(join(this.dir('entry-changes'), gfidToString(dir)), { recursive: true, force: true });
  }

  /**
   * The index names of a folder (`sub` for an entry-changes/<gfid> folder), base files
   * and, in the gfid folders, anything that is not a gfid left out.
   */
  async list(kind: IndexKind, sub?: Buffer): Promise<string[]> {
    const path = sub ? join(this.dir(kind), gfidToString(sub)) : this.dir(kind);
    const names = await fsp.readdir(path).catch((e: unknown) => {
      if (errCode(e) === 'ENOENT') return [] as string[];
      throw e;
    });
    return names.filter((n) => (sub ? n !== '.' && n !== '..' : isGfidName(n) && !this.isBaseName(kind, n)));
  }

  /** Whether a gfid folder holds any index entry; stops at the first. */
  async any(kind: 'xattrop' | 'dirty'): Promise<boolean> {
    const d = await fsp.opendir(this.dir(kind), { bufferSize: 32 }).catch(() => null);
    if (!d) return false;
    try {
      for await (const e of d) if (isGfidName(e.name)) return true;
      return false;
    } catch {
      return false;
    }
  }
}
