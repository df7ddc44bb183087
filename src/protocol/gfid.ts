/** GlusterFS inode identifiers: 16-byte UUIDs, root = …0001. */
import { randomUUID } from 'node:crypto';

export type Gfid = Buffer;

export const GFID_LENGTH = 16;
export const ROOT_GFID: Gfid = Buffer.from('00000000000000000000000000000001', 'hex');
export const NULL_GFID: Gfid = Buffer.alloc(16);

export function gfidToString(gfid: Uint8Array): string {
  const h = Buffer.from(gfid.buffer, gfid.byteOffset, gfid.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function parseGfid(s: string): Gfid {
  const hex = s.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a gfid: ${s}`);
  return Buffer.from(hex, 'hex');
}

/** A fresh random (v4) gfid, as clients send in `gfid-req`. */
export function randomGfid(): Gfid {
  return parseGfid(randomUUID());
}

/** GlusterFS reports ino as the last 8 bytes of the gfid, big-endian; the root is 1. */
export function gfidToIno(gfid: Uint8Array): bigint {
  return Buffer.from(gfid.buffer, gfid.byteOffset, 16).readBigUInt64BE(8);
}
