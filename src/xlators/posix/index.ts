/**
 * storage/posix: the bottom of every brick graph. Serves the fops on a brick directory
 * laid out exactly as GlusterFS 10 lays it out, so stock glusterfsd and glusterts can take
 * turns on the same brick. See docs/posix.md.
 */
import { parseGfid } from '../../protocol/gfid.js';
import { FopError } from '../../protocol/errno.js';
import { defineTranslator, type FopHandler, type FopTable } from '../../xlator/translator.js';
import { Brick } from './brick.js';
import type { Posix } from './context.js';
import { dataOps } from './data-ops.js';
import { dirOps } from './dir-ops.js';
import { entryOps } from './entry-ops.js';
import { FdStates } from './fdctx.js';
import { inodeOps } from './inode-ops.js';
import { xattrOps } from './xattr-ops.js';

/** System calls fail with Node/addon errors; what leaves posix is always a FopError. */
function asFopErrors(fops: FopTable): FopTable {
  const out: Record<string, FopHandler<never>> = {};
  for (const [name, handler] of Object.entries(fops) as [string, FopHandler<never>][]) {
    out[name] = (req, ctx, next) =>
      handler(req, ctx, next).catch((e: unknown) => {
        throw FopError.from(e);
      });
  }
  return out as FopTable;
}

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
      fops: asFopErrors({ ...entryOps(p), ...inodeOps(p), ...dataOps(p), ...dirOps(p), ...xattrOps(p) }),
      init: () => brick.init(),
      fini: async () => {
        await p.fds.closeAll();
        await brick.fini();
      },
    };
  },
});
