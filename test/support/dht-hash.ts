/**
 * Stock cluster/distribute's placement rules, for tests that check where files landed on
 * bricks (docs/distribute.md). The one implementation
 * is the translator's (src/xlators/distribute); this module keeps the names tests use:
 * - `dmHash`: libglusterfs's gf_dm_hashfn;
 * - `dhtNameHash`: the name DHT hashes (default rsync-hash-regex);
 * - `parseLayout`/`layoutProblem`/`layoutOwner`: the 16-byte `trusted.glusterfs.dht` xattr,
 *   the coverage check and the search.
 */
export { dhtNameHash, dmHash } from '../../src/xlators/distribute/hash.js';
export {
  layoutOwner,
  layoutProblem,
  parseDiskLayout as parseLayout,
  type DiskLayout,
} from '../../src/xlators/distribute/layout.js';
