/**
 * Changed-range records on disk, one small file per inode under `<index-base>/ranges/`:
 *
 *     ranges/<gfid>           a record (below), replaced atomically (write <gfid>.tmp,
 *                             fdatasync, rename)
 *     ranges/clean-shutdown   present only between a clean stop and the next start
 *
 * A record file, big-endian:
 *
 *     0   "GTRR"        magic
 *     4   u8  1         version
 *     5   u8  flags     bit 0 complete, bit 1 sealed (written at a clean stop)
 *     6   u16 0
 *     8   u32 count
 *     12  u32 ctime ns  of the file when sealed
 *     16  u64 ctime s
 *     24  u64 size      of the file when sealed
 *     32  count × (u64 offset, u64 length)
 *     ..  SHA-256 of everything before it
 *     ..  zeros up to the file's size (a multiple of 4 KiB)
 *
 * A new file, or one the record outgrew, is written whole and renamed into place; FSYNC's
 * later versions overwrite it in place (same size and blocks, so fdatasync needs no journal
 * commit). A file that is short, torn, or fails its checksum reads as damaged (null).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { gfidToString } from '../../protocol/gfid.js';
import type { ByteRange } from './range-set.js';

const MAGIC = Buffer.from('GTRR');
const VERSION = 1;
const COMPLETE = 1;
const SEALED = 2;
const HEADER = 32;
const PAIR = 16;
const DIGEST = 32;
/** Record files are padded to a multiple of this, so most updates fit in place. */
const BLOCK = 4096;
/** More ranges than any record may hold (the per-inode limit's maximum). */
export const MAX_STORED_RANGES = 65536;
export const CLEAN_MARKER = 'clean-shutdown';

/** What a clean stop saw of the file, to notice changes made while glusterts was not running. */
export interface Seal {
  ctimeSec: number;
  ctimeNsec: number;
  size: number;
}

export interface StoredRecord {
  complete: boolean;
  ranges: readonly ByteRange[];
  seal: Seal | null;
}

const errCode = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code;
const ignoreMissing = (e: unknown) => {
  if (errCode(e) !== 'ENOENT') throw e;
};

function padded(b: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  b.copy(out);
  return out;
}

export function encodeRecord(r: StoredRecord): Buffer {
  const body = Buffer.alloc(HEADER + PAIR * r.ranges.length);
  MAGIC.copy(body, 0);
  body.writeUInt8(VERSION, 4);
  body.writeUInt8((r.complete ? COMPLETE : 0) | (r.seal ? SEALED : 0), 5);
  body.writeUInt32BE(r.ranges.length, 8);
  if (r.seal) {
    body.writeUInt32BE(r.seal.ctimeNsec, 12);
    body.writeBigUInt64BE(BigInt(r.seal.ctimeSec), 16);
    body.writeBigUInt64BE(BigInt(r.seal.size), 24);
  }
  r.ranges.forEach((range, i) => {
    body.writeBigUInt64BE(BigInt(range.offset), HEADER + PAIR * i);
    body.writeBigUInt64BE(BigInt(range.length), HEADER + PAIR * i + 8);
  });
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** The record in `b` (zero padding after it allowed), or null when it is damaged. */
export function decodeRecord(b: Buffer): StoredRecord | null {
  if (b.length < HEADER + DIGEST || !b.subarray(0, 4).equals(MAGIC)) return null;
  const count = b.readUInt32BE(8);
  const end = HEADER + PAIR * count;
  if (count > MAX_STORED_RANGES || b.length < end + DIGEST) return null;
  const body = b.subarray(0, end);
  const digest = createHash('sha256').update(body).digest();
  if (!digest.equals(b.subarray(end, end + DIGEST))) return null;
  if (b.subarray(end + DIGEST).some((x) => x !== 0)) return null;
  if (body.readUInt8(4) !== VERSION) return null;
  const flags = body.readUInt8(5);
  const ranges: ByteRange[] = [];
  for (let i = 0; i < count; i++) {
    const offset = Number(body.readBigUInt64BE(HEADER + PAIR * i));
    const length = Number(body.readBigUInt64BE(HEADER + PAIR * i + 8));
    if (!Number.isSafeInteger(offset + length)) return null;
    ranges.push({ offset, length });
  }
  const seal =
    flags & SEALED
      ? {
          ctimeNsec: body.readUInt32BE(12),
          ctimeSec: Number(body.readBigUInt64BE(16)),
          size: Number(body.readBigUInt64BE(24)),
        }
      : null;
  return { complete: (flags & COMPLETE) !== 0, ranges, seal };
}

export class RangeStore {
  readonly dir: string;

  constructor(indexBase: string) {
    this.dir = join(indexBase, 'ranges');
  }

  private path(gfid: Buffer): string {
    return join(this.dir, gfidToString(gfid));
  }

  /** Creates ranges/ inside index-base (posix makes index-base at its init). */
  async init(): Promise<void> {
    await fsp.mkdir(this.dir, { mode: 0o700 }).catch((e: unknown) => {
      if (errCode(e) !== 'EEXIST') throw e;
    });
  }

  /**
   * Writes the record and fdatasyncs it. `inPlace`: overwrite the existing file when the
   * record fits (torn by a crash, it reads as damaged, as a crash makes every record
   * anyway); otherwise, or for a new file, write `<gfid>.tmp` and rename it over.
   */
  async write(gfid: Buffer, r: StoredRecord, inPlace = false): Promise<void> {
    const target = this.path(gfid);
    const record = encodeRecord(r);
    if (inPlace && (await this.overwrite(target, record))) return;
    const tmp = `${target}.tmp`;
    const h = await fsp.open(tmp, 'w', 0o600);
    try {
      await h.writeFile(padded(record, Math.ceil(record.length / BLOCK) * BLOCK));
      await h.datasync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, target);
  }

  /** Overwrites `target` with `record` when it exists and is large enough. */
  private async overwrite(target: string, record: Buffer): Promise<boolean> {
    const h = await fsp.open(target, 'r+').catch(() => null);
    if (!h) return false;
    try {
      const { size } = await h.stat();
      if (size < record.length || size % BLOCK !== 0) return false;
      await h.write(padded(record, size), 0, size, 0);
      await h.datasync();
      return true;
    } finally {
      await h.close();
    }
  }

  /** The stored record; null when damaged; undefined when there is none. */
  async read(gfid: Buffer): Promise<StoredRecord | null | undefined> {
    const h = await fsp.open(this.path(gfid), 'r').catch((e: unknown) => {
      ignoreMissing(e);
      return null;
    });
    if (!h) return undefined;
    try {
      const { size } = await h.stat();
      if (size > Math.ceil((HEADER + PAIR * MAX_STORED_RANGES + DIGEST) / BLOCK) * BLOCK) return null;
      return decodeRecord(await h.readFile());
    } finally {
      await h.close();
    }
  }

  async remove(gfid: Buffer): Promise<void> {
    await fsp.unlink(this.path(gfid)).catch(ignoreMissing);
  }

  /** The names of ranges/ that may be records (leftover .tmp files are removed). */
  async list(): Promise<string[]> {
    const names = await fsp.readdir(this.dir).catch((e: unknown) => {
      ignoreMissing(e);
      return [] as string[];
    });
    for (const n of names.filter((n) => n.endsWith('.tmp')))
      await fsp.unlink(join(this.dir, n)).catch(ignoreMissing);
    return names.filter((n) => !n.endsWith('.tmp') && n !== CLEAN_MARKER);
  }

  /** Whether the last stop was clean; the marker is gone (durably) once this resolves. */
  async takeCleanMarker(): Promise<boolean> {
    const had = await fsp.unlink(join(this.dir, CLEAN_MARKER)).then(
      () => true,
      (e: unknown) => {
        ignoreMissing(e);
        return false;
      },
    );
    if (had) await this.syncDir();
    return had;
  }

  /** Marks a clean stop, after every record was written. */
  async putCleanMarker(): Promise<void> {
    await this.syncDir(); // the records' renames first
    const h = await fsp.open(join(this.dir, CLEAN_MARKER), 'w', 0o600);
    try {
      await h.writeFile(`${new Date().toISOString()}\n`);
      await h.sync();
    } finally {
      await h.close();
    }
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const h = await fsp.open(this.dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}
