/**
 * features/shard: stores each regular file as fixed-size pieces, byte-compatible with
 * stock GlusterFS 10.3's client-side shard, so stock FUSE/gfapi and this client read and
 * write the same sharded files on the same bricks. Block 0 is the base file; block N ≥ 1
 * is `/.shard/<base gfid>.<N>`; the base file's xattrs hold the block size and the
 * logical size and block count (docs/shard.md).
 *
 * The pieces: geometry.ts (offset → shard, pure), size-xattr.ts (the xattr formats, pure),
 * context.ts (per-file state, hidden directories, finding and creating shards), attrs.ts
 * (stats, creation, names, xattrs), io.ts (reads, writes, discard, zerofill, fallocate,
 * fsync, seek), truncate.ts (truncate, open with O_TRUNC), remove.ts (unlink and rename
 * over a file, background deletion of its shards).
 */
import { defineTranslator } from '../../xlator/translator.js';
import { attrOps } from './attrs.js';
import { Shard } from './context.js';
import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from './geometry.js';
import { ioOps } from './io.js';
import { deleteMarked, removeOps } from './remove.js';
import { truncateOps } from './truncate.js';

export { Shard, DOT_SHARD_GFID, REMOVE_ME_GFID } from './context.js';
export {
  blockOf,
  lastBlock,
  pieces,
  shardName,
  MIN_BLOCK_SIZE,
  MAX_BLOCK_SIZE,
  type Piece,
} from './geometry.js';
export * from './size-xattr.js';
export { SEEK_ACROSS_SHARDS } from './io.js';

const options = {
  'shard-block-size': {
    type: 'size',
    default: 64 * 1024 * 1024,
    min: MIN_BLOCK_SIZE,
    max: MAX_BLOCK_SIZE,
    description: 'the size of each piece of files created through this client',
  },
  'shard-deletion-rate': {
    type: 'int',
    default: 100,
    min: 100,
    description: 'shards unlinked at a time when a file is deleted',
  },
  'shard-lru-limit': {
    type: 'int',
    default: 16384,
    min: 20,
    description: 'shard gfids and file states remembered',
  },
  shard: {
    type: 'bool',
    default: false,
    description: 'accepted (glusterd writes it); the translator is on when present',
  },
} as const;

export const shard = defineTranslator({
  type: 'features/shard',
  children: 'one',
  options,
  create({ name, options: o, children }) {
    const s = new Shard(name, children[0]!, {
      blockSize: o['shard-block-size'],
      deletionRate: o['shard-deletion-rate'],
      lruLimit: o['shard-lru-limit'],
    });
    s.sweep = (ctx) => deleteMarked(s, ctx);
    return {
      fops: { ...attrOps(s), ...ioOps(s), ...truncateOps(s), ...removeOps(s) },
      fini: () => s.close(),
    };
  },
});
