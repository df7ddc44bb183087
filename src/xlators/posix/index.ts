/**
 * storage/posix: the bottom of every brick graph. Serves the fops on a brick directory
 * laid out exactly as GlusterFS 10 lays it out, so stock glusterfsd and glusterts can take
 * turns on the same brick. See docs/posix.md.
 */
import { parseGfid } from '../../protocol/gfid.js';
import { defineTranslator } from '../../xlator/translator.js';
import { Brick } from './brick.js';
import type { Posix } from './context.js';
import { dataOps } from './data-ops.js';
import { dirOps } from './dir-ops.js';
import { entryOps } from './entry-ops.js';
import { FdStates } from './fdctx.js';
import { inodeOps } from './inode-ops.js';
import { xattrOps } from './xattr-ops.js';

export const posix = defineTranslator({
  type: 'storage/posix',
  children: 'none',
  options: {
    directory: { type: 'required-string', description: 'The brick directory.' },
    'volume-id': {
      type: 'string',
      default: '',
      description:
        'The volume uuid: stored as trusted.glusterfs.volume-id on a fresh brick; a brick holding another is refused.',
    },
    'o-direct': { type: 'bool', default: true, description: 'Honour O_DIRECT in client OPEN/CREATE flags.' },
  },
  create({ options }) {
    if (options['volume-id']) parseGfid(options['volume-id']);
    const brick = new Brick({ directory: options.directory, volumeId: options['volume-id'] });
    const owner = {};
    const p: Posix = { brick, fds: new FdStates(owner, brick), oDirect: options['o-direct'] };
    return {
      fops: { ...entryOps(p), ...inodeOps(p), ...dataOps(p), ...dirOps(p), ...xattrOps(p) },
      init: () => brick.init(),
      fini: () => brick.fini(),
    };
  },
});
