/**
 * Claiming a directory for a new volume's brick, as stock glusterd does at `volume create`
 * (glusterd_check_and_set_brick_xattr): the filesystem must take trusted xattrs; a directory
 * that is, or sits inside, another volume's brick (trusted.gfid or trusted.glusterfs.volume-id
 * on it or on a parent) is refused unless forced; then the new volume-id is stamped on it, so
 * a second create on the same directory is refused before either volume ever starts. With
 * force the old volume-id is overwritten, as stock does, instead of failing at brick start.
 */
import { dirname } from 'node:path';
import { Errno, GlusterTsError } from '../../errors/index.js';
import { lgetxattr, lremovexattr, lsetxattr, XATTR_CREATE } from '../../sys/index.js';
import { parseGfid } from '../../protocol/gfid.js';
import { GFID_XATTR, VOLUME_ID_XATTR } from './on-disk.js';

export class BrickClaimError extends GlusterTsError {
  static readonly codes = ['BRICK_CLAIM_REFUSED'] as const;
  constructor(message: string) {
    super('BRICK_CLAIM_REFUSED', Errno.EINVAL, message);
  }
}

/** strerror's text of a failed call ("Operation not supported"), as glusterd prints it. */
const reason = (e: unknown) => (e as Error).message.replace(/^[A-Z0-9]+: /, '').replace(/, \w+ '.*'$/, '');

/** Throws stock's refusal text when `path` cannot become a brick of a new volume. */
export async function checkBrickClaim(host: string, path: string, force: boolean): Promise<void> {
  try {
    await lsetxattr(path, 'trusted.glusterfs.test', Buffer.from('working\0'));
  } catch (e) {
    throw new BrickClaimError(
      `Glusterfs is not supported on brick: ${host}:${path}.\nSetting extended attributes failed, reason: ${reason(e)}.`,
    );
  }
  await lremovexattr(path, 'trusted.glusterfs.test');
  const owner = await claimedAncestor(path);
  if (owner === null || force) return;
  throw new BrickClaimError(
    owner === path
      ? `${path} is already part of a volume`
      : `parent directory ${owner} is already part of a volume`,
  );
}

/** Stamps the new volume's id (over an old one only when forced). */
export async function stampVolumeId(path: string, volumeId: string, force: boolean): Promise<void> {
  await lsetxattr(path, VOLUME_ID_XATTR, parseGfid(volumeId), force ? 0 : XATTR_CREATE);
}

/** The nearest of `path` and its parents that holds a brick's gfid or volume-id, or null. */
async function claimedAncestor(path: string): Promise<string | null> {
  for (let dir = path; ; dir = dirname(dir)) {
    for (const key of [GFID_XATTR, VOLUME_ID_XATTR]) {
      const present = await lgetxattr(dir, key).then(
        () => true,
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENODATA' || e.code === 'ENOTSUP' || e.code === 'EOPNOTSUPP') return false;
          throw new BrickClaimError(`Failed to get extended attribute ${key}, reason: ${reason(e)}`);
        },
      );
      if (present) return dir;
    }
    if (dir === '/') return null;
  }
}
