/**
 * Which brick of a replica set serves reads of an inode. Stock AFR's default
 * (cluster.read-hash-mode 1) hashes the inode's gfid with SuperFastHash (Paul Hsieh's hash,
 * over the 16 gfid bytes read as little-endian 16-bit words) modulo the set's size, so every
 * client reads a given file from the same brick; if that brick is not readable (down, or
 * blamed by someone's changelog) the first readable brick serves. An explicitly chosen read
 * child (cluster.read-subvolume, or a local brick with choose-local) comes first.
 */

/** SuperFastHash over `data` as GlusterFS's libglusterfs computes it on x86 (signed tail byte). */
export function superFastHash(data: Uint8Array): number {
  let len = data.length;
  if (len <= 0) return 0;
  let hash = len >>> 0;
  const rem = len & 3;
  len >>>= 2;
  const u16 = (i: number) => data[i]! | (data[i + 1]! << 8);
  let p = 0;
  for (; len > 0; len--) {
    hash = (hash + u16(p)) >>> 0;
    const tmp = ((u16(p + 2) << 11) ^ hash) >>> 0;
    hash = ((hash << 16) ^ tmp) >>> 0;
    p += 4;
    hash = (hash + (hash >>> 11)) >>> 0;
  }
  const signedByte = (i: number) => (data[i]! >= 0x80 ? data[i]! - 0x100 : data[i]!);
  switch (rem) {
    case 3:
      hash = (hash + u16(p)) >>> 0;
      hash = (hash ^ (hash << 16)) >>> 0;
      hash = (hash ^ (signedByte(p + 2) << 18)) >>> 0;
      hash = (hash + (hash >>> 11)) >>> 0;
      break;
    case 2:
      hash = (hash + u16(p)) >>> 0;
      hash = (hash ^ (hash << 11)) >>> 0;
      hash = (hash + (hash >>> 17)) >>> 0;
      break;
    case 1:
      hash = (hash + signedByte(p)) >>> 0;
      hash = (hash ^ (hash << 10)) >>> 0;
      hash = (hash + (hash >>> 1)) >>> 0;
      break;
  }
  hash = (hash ^ (hash << 3)) >>> 0;
  hash = (hash + (hash >>> 5)) >>> 0;
  hash = (hash ^ (hash << 4)) >>> 0;
  hash = (hash + (hash >>> 17)) >>> 0;
  hash = (hash ^ (hash << 25)) >>> 0;
  hash = (hash + (hash >>> 6)) >>> 0;
  return hash;
}

export interface ReadChildChoice {
  /** One entry per brick of the set: may this brick serve the read? */
  readable: readonly boolean[];
  gfid: Uint8Array;
  /** cluster.read-subvolume-index or the local brick, when set. */
  preferred?: number;
  /** 0 = first readable, 1 = gfid hash (stock default). */
  hashMode?: 0 | 1;
}

/** The brick index to read from, or -1 when no brick is readable. */
export function chooseReadChild(c: ReadChildChoice): number {
  const n = c.readable.length;
  if (c.preferred !== undefined && c.readable[c.preferred]) return c.preferred;
  if ((c.hashMode ?? 1) === 1 && n > 0) {
    const hashed = superFastHash(c.gfid) % n;
    if (c.readable[hashed]) return hashed;
  }
  return c.readable.indexOf(true);
}
