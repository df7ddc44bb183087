/** SETATTR/FSETATTR: apply the `valid` bits to a path (non-directories) or an fd. */
import { constants, promises as fsp } from 'node:fs';
import { FopError } from '../../protocol/errno.js';
import { SetattrValid, type Iatt } from '../../protocol/iatt.js';
import { AT_SYMLINK_NOFOLLOW, UTIME_NOW, UTIME_OMIT, futimens, utimensat } from '../../sys/index.js';
import { closeQuietly, fchmod, fchown, ftruncate, lstat, open } from './fsx.js';
import { checkDataFile } from './security.js';

/** What to change on: an fd (directories, FSETATTR) or a non-directory's handle path. */
export type AttrTarget = { fd: number; isDir: boolean } | { path: string };

function times(stbuf: Iatt, valid: number): [number, number, number, number] | null {
  const V = SetattrValid;
  const a = valid & V.ATIME_NOW ? UTIME_NOW : valid & V.ATIME ? stbuf.atimeNsec : UTIME_OMIT;
  const m = valid & V.MTIME_NOW ? UTIME_NOW : valid & V.MTIME ? stbuf.mtimeNsec : UTIME_OMIT;
  if (a === UTIME_OMIT && m === UTIME_OMIT) return null;
  for (const ns of [stbuf.atimeNsec, stbuf.mtimeNsec]) {
    if (ns >= 1_000_000_000 && a !== UTIME_NOW && m !== UTIME_NOW) throw FopError.of('EINVAL', 'nsec ≥ 1e9');
  }
  return [stbuf.atime, a, stbuf.mtime, m];
}

export async function applySetattr(target: AttrTarget, stbuf: Iatt, valid: number): Promise<void> {
  const V = SetattrValid;
  const uid = valid & V.UID ? stbuf.uid : -1;
  const gid = valid & V.GID ? stbuf.gid : -1;
  const t = times(stbuf, valid);
  if ('fd' in target) {
    if (valid & V.MODE) await fchmod(target.fd, stbuf.mode & 0o7777);
    if (uid !== -1 || gid !== -1) await fchown(target.fd, uid, gid);
    // DHT's directory heal sends valid = 0xffffffff: the size bit means nothing for a
    // directory and is ignored (stock posix ignores it on everything).
    if (valid & V.SIZE && !target.isDir) await ftruncate(target.fd, stbuf.size);
    if (t) await futimens(target.fd, t[0], t[1], t[2], t[3]);
    return;
  }
  const { path } = target;
  const st = await lstat(path);
  // Linux cannot change a symlink's permissions; stock skips it too.
  if (valid & V.MODE && !st.isSymbolicLink()) await fsp.chmod(path, stbuf.mode & 0o7777);
  if (uid !== -1 || gid !== -1) await fsp.lchown(path, uid, gid);
  if (valid & V.SIZE) await truncatePath(path, stbuf.size);
  if (t) await utimensat(path, t[0], t[1], t[2], t[3], AT_SYMLINK_NOFOLLOW);
}

/** truncate(2) on a handle path, only for regular files and without following symlinks. */
export async function truncatePath(path: string, size: number): Promise<void> {
  checkDataFile(await lstat(path));
  const fd = await open(path, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    await ftruncate(fd, size);
  } finally {
    await closeQuietly(fd);
  }
}
