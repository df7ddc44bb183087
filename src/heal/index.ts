/**
 * Self-heal: the engine that makes the bricks of a replica set agree again for one inode
 * (entries, metadata, data) under stock AFR's locks, the index crawl, and the daemon that
 * runs it (the glustershd role). docs/heal.md describes the rules and the wire pattern.
 */
export { HealIo, type BrickState } from './bricks.js';
export { healInode, healed, inSplitBrain, type InodeHeal } from './engine.js';
export { healData, CHUNK, IN_FLIGHT } from './data.js';
export { healEntry } from './entry.js';
export { healMetadata } from './metadata.js';
export { indexHealPass, type PassReport, type PassOptions } from './crawl.js';
export { listIndex, pendingGfids, type IndexEntry, type IndexKind } from './index-crawl.js';
export { SelfHealDaemon, replicasOf, healContext, type DaemonOptions, type FileProgress } from './daemon.js';
export { favoriteChildPolicy, pickSource, type SplitBrainPolicy } from './policy.js';
export {
  decodeHealRanges,
  encodeHealRanges,
  piecesToCopy,
  batchPieces,
  wholeFilePieces,
  HEAL_RANGES_KEY,
  type ByteRange,
} from './ranges.js';
export type { HealOutcome, HealProgress, HealOptions, HealKind } from './outcome.js';
export { decide, needsHeal, views, type Decision } from './decide.js';
