/**
 * Stock cluster/distribute's placement rules, for tests that check where files landed on
 * bricks (docs: /work/shared/reference/dht-afr-shard.md §1.1–1.3):
 * - `dmHash`: libglusterfs's gf_dm_hashfn (Davies–Meyer over a TEA-like round; bytes read
 *   as little-endian words, the tail bytes as *signed* chars, as on x86);
 * - `dhtNameHash`: the name DHT hashes (the default rsync-hash-regex `^\.(.+)\.[^.]+$`
 *   hashes `.name.tmp` as `name`);
 * - `parseLayout`/`layoutOwner`: the 16-byte `trusted.glusterfs.dht` xattr and the search.
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

const RSYNC_TEMP = /^\.(.+)\.[^.]+$/s;

/** The hash DHT places a basename by (default options). */
export function dhtNameHash(name: string | Uint8Array): number {
  const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
  // latin1 maps bytes 1:1 to chars, so the regex sees bytes, as regexec does.
  const m = RSYNC_TEMP.exec(bytes.toString('latin1'));
  return dmHash(m ? Buffer.from(m[1]!, 'latin1') : bytes);
}

export interface DiskLayout {
  commit: number;
  type: number;
  start: number;
  stop: number;
}

/** The 16-byte on-disk layout: four big-endian words. */
export function parseLayout(value: Buffer): DiskLayout {
  if (value.length !== 16) throw new Error(`layout xattr of ${value.length} bytes, expected 16`);
  return {
    commit: value.readUInt32BE(0),
    type: value.readUInt32BE(4),
    start: value.readUInt32BE(8),
    stop: value.readUInt32BE(12),
  };
}

/** True when no entry has a range (start = stop = 0 means "none"). */
function hasRange(l: DiskLayout): boolean {
  return !(l.start === 0 && l.stop === 0);
}

/**
 * Checks that the layouts of one directory (one per brick) cover 0..0xffffffff exactly,
 * without holes or overlaps; returns a description of the problem or '' when sound.
 */
export function layoutProblem(layouts: readonly DiskLayout[]): string {
  const ranges = layouts.filter(hasRange).sort((a, b) => a.start - b.start);
  let next = 0;
  for (const r of ranges) {
    if (r.start !== next)
      return `range ${r.start.toString(16)}..${r.stop.toString(16)} after ${next.toString(16)}`;
    if (r.stop < r.start) return `inverted range ${r.start.toString(16)}..${r.stop.toString(16)}`;
    next = r.stop + 1;
  }
  return next === 0x1_0000_0000 ? '' : `layout ends at ${(next - 1).toString(16)}`;
}

/** Index of the brick whose range holds `hash` (dht_layout_search), or -1. */
export function layoutOwner(layouts: readonly DiskLayout[], hash: number): number {
  return layouts.findIndex((l) => hasRange(l) && l.start <= hash && hash <= l.stop);
}
