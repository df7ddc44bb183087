/**
 * The name hash stock cluster/distribute places entries by (docs/distribute.md, "The name hash"):
 * - `dmHash`: libglusterfs's gf_dm_hashfn, Davies–Meyer over a TEA-like round. Bytes are
 *   read as little-endian words and the tail bytes as *signed* chars, as on x86;
 * - `NameHasher`: dht_hash_compute's munging first. A name matching `extra-hash-regex`,
 *   else `rsync-hash-regex` (default `^\.(.+)\.[^.]+$`, "none" disables it), hashes as its
 *   first capture group, so rsync's `.name.XXXX` temp files land where `name` will.
 */

const DELTA = 0x9e3779b9;

/** One Davies–Meyer step: `rounds` TEA rounds of the block keyed into (h0, h1). */
function dmRound(rounds: number, a: Uint32Array, h: Uint32Array): void {
  let b0 = h[0]!;
  let b1 = h[1]!;
  let sum = 0;
  for (let n = 0; n < rounds; n++) {
    sum = (sum + DELTA) >>> 0;
    b0 = (b0 + ((((b1 << 4) + a[0]!) ^ (b1 + sum) ^ ((b1 >>> 5) + a[1]!)) >>> 0)) >>> 0;
    b1 = (b1 + ((((b0 << 4) + a[2]!) ^ (b0 + sum) ^ ((b0 >>> 5) + a[3]!)) >>> 0)) >>> 0;
  }
  h[0] = (h[0]! + b0) >>> 0;
  h[1] = (h[1]! + b1) >>> 0;
}

/** gf_dm_hashfn over raw bytes (no NUL). */
export function dmHash(msg: Uint8Array): number {
  const len = msg.length;
  const h = new Uint32Array([0x9464a485, 0x542e1a94]);
  let pad = (len | (len << 8)) >>> 0;
  pad = (pad | (pad << 16)) >>> 0;
  const word = (i: number) =>
    (msg[i]! | (msg[i + 1]! << 8) | (msg[i + 2]! << 16) | (msg[i + 3]! << 24)) >>> 0;
  const block = new Uint32Array(4);
  let pos = 0;
  for (; pos + 16 <= len; pos += 16) {
    for (let j = 0; j < 4; j++) block[j] = word(pos + 4 * j);
    dmRound(6, block, h);
  }
  // The final block is always mixed: remaining whole words, then the tail word (pad
  // shifted left by each leftover byte, sign-extended), then pad.
  let tailDone = false;
  for (let j = 0; j < 4; j++) {
    if (pos + 4 <= len) {
      block[j] = word(pos);
      pos += 4;
    } else if (!tailDone) {
      let w = pad;
      for (; pos < len; pos++) {
        const signed = msg[pos]! >= 0x80 ? (0xffffff00 | msg[pos]!) >>> 0 : msg[pos]!;
        w = ((w << 8) | signed) >>> 0;
      }
      block[j] = w;
      tailDone = true;
    } else {
      block[j] = pad;
    }
  }
  dmRound(10, block, h);
  return (h[0]! ^ h[1]!) >>> 0;
}

/** Stock's default `rsync-hash-regex`. */
export const RSYNC_HASH_REGEX = '^\\.(.+)\\.[^.]+$';

/**
 * dht_hash_compute: munges a name by the configured regexes, then hashes it. The regexes
 * are POSIX EREs in stock; the simple ones used in practice mean the same in JavaScript.
 * Names are matched as bytes (latin1 maps each byte to one char), as regexec sees them.
 */
export class NameHasher {
  private readonly regexes: RegExp[];

  constructor(opts: { rsyncHashRegex?: string; extraHashRegex?: string } = {}) {
    const rsync = opts.rsyncHashRegex ?? RSYNC_HASH_REGEX;
    this.regexes = [opts.extraHashRegex ?? '', rsync === 'none' ? '' : rsync]
      .filter((r) => r !== '')
      .map((r) => new RegExp(r, 's'));
  }

  hash(name: string | Uint8Array): number {
    const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
    for (const re of this.regexes) {
      const m = re.exec(bytes.toString('latin1'));
      // Stock uses the first capture group whenever it took part in the match.
      if (m && m[1] !== undefined) return dmHash(Buffer.from(m[1], 'latin1'));
    }
    return dmHash(bytes);
  }
}

const DEFAULT_HASHER = new NameHasher();

/** The hash DHT places a basename by, with the default options. */
export function dhtNameHash(name: string | Uint8Array): number {
  return DEFAULT_HASHER.hash(name);
}
