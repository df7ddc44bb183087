/**
 * Which bricks an fd is open on. An fd opened while a brick was away is not open there when
 * the brick returns (protocol/client re-opens only what it had opened), so before an fd fop
 * goes to such a brick, replicate opens the fd there first with the same flags (stock's
 * afr_fix_open). Without it the brick could only answer with the anonymous fd, or EBADF.
 */
import type { OpenFd } from '../../xlator/fd.js';
import type { FopContext } from '../../xlator/translator.js';
import type { Replica } from './replica.js';

const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;

/** The bricks `fd` is open on, as replicate opened it (undefined: not opened through replicate). */
export function openOn(r: Replica, fd: OpenFd): Set<number> | undefined {
  return fd.get<Set<number>>(r);
}

export function recordOpen(r: Replica, fd: OpenFd, children: Iterable<number>): void {
  fd.set(r, new Set(children));
}

/** Opens `fd` on each brick of `which` it is not open on yet; failures are left to the fop. */
export async function fixOpen(
  r: Replica,
  fd: OpenFd | undefined,
  which: readonly number[],
  ctx: FopContext,
): Promise<void> {
  if (!fd || fd.anonymous) return;
  const opened = openOn(r, fd);
  if (!opened) return;
  const missing = which.filter((i) => !opened.has(i));
  if (!missing.length) return;
  const results = fd.isDirectory
    ? await r.fanOut(missing, 'OPENDIR', { gfid: fd.gfid, fd, xdata: null }, ctx)
    : await r.fanOut(
        missing,
        'OPEN',
        { gfid: fd.gfid, flags: fd.flags & ~(O_CREAT | O_EXCL | O_TRUNC), fd, xdata: null },
        ctx,
      );
  for (const res of results) if (res.ok) opened.add(res.target);
}
