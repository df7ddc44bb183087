/**
 * GlusterFS 10's on-disk brick layout (posix-handle.c, posix-gfid-path.c), so that a brick
 * directory moves between stock glusterfsd and glusterts unchanged:
 *
 *     <brick>/                                 trusted.gfid = …01, trusted.glusterfs.volume-id
 *     <brick>/.glusterfs/                      mode 0600, hidden from clients
 *     <brick>/.glusterfs/xx/yy/<uuid>          xx, yy = first two gfid bytes in hex
 *         files, symlinks, fifos, devices:     a hard link to the inode
 *         directories:                         symlink → ../../p0/p1/<parent-uuid>/<name>
 *         the root:                            symlink → ../../..
 *     <brick>/.glusterfs/{indices,changelogs,unlink,landfill}
 *
 * Every non-directory also carries `trusted.gfid2path.<xxh64>` = "<parent-uuid>/<name>" per
 * name; directories do not (their handle symlink already names the parent).
 */
import { gfidToString } from '../../protocol/gfid.js';
import { xxh64Hex } from './checksums.js';

export const HIDDEN_DIR = '.glusterfs';
export const GFID_XATTR = 'trusted.gfid';
export const VOLUME_ID_XATTR = 'trusted.glusterfs.volume-id';
export const MDATA_XATTR = 'trusted.glusterfs.mdata';
export const GFID2PATH_PREFIX = 'trusted.gfid2path.';
/** Where stock's auxiliary translators keep state; created at init, like stock bricks have. */
export const AUX_DIRS = ['indices', 'changelogs', 'unlink', 'landfill'] as const;

/** `xx/yy/<uuid>` below .glusterfs. */
export function handleRelPath(gfid: Uint8Array): string {
  const s = gfidToString(gfid);
  return `${s.slice(0, 2)}/${s.slice(2, 4)}/${s}`;
}

/** What a directory's handle symlink holds: its parent's handle, then its name. */
export function dirHandleTarget(parentGfid: Uint8Array, name: string): string {
  return `../../${handleRelPath(parentGfid)}/${name}`;
}

export const ROOT_HANDLE_TARGET = '../../..';

/** The gfid2path xattr for one name of a non-directory: [key, value]. */
export function gfid2path(parentGfid: Uint8Array, name: string): [string, string] {
  const value = `${gfidToString(parentGfid)}/${name}`;
  return [GFID2PATH_PREFIX + xxh64Hex(value), value];
}
