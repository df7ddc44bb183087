/** What every group of posix fops shares. */
import type { GfxDict } from '../../protocol/dict.js';
import { DictType } from '../../protocol/dict.js';
import { FopError } from '../../protocol/errno.js';
import type { Brick } from './brick.js';
import type { FdStates } from './fdctx.js';

export interface Posix {
  brick: Brick;
  fds: FdStates;
  /** Honour O_DIRECT from clients. */
  oDirect: boolean;
}

/** The client-chosen gfid for a new inode (`gfid-req`); creation without one is EINVAL. */
export function gfidReq(xdata: GfxDict, required = true): Buffer | null {
  const v = xdata?.get('gfid-req');
  const gfid = v?.type === DictType.GFUUID ? v.value : null;
  if (gfid && gfid.length === 16 && gfid.some((b) => b !== 0) && !isRootGfid(gfid)) return gfid;
  if (required) throw FopError.of('EINVAL', 'gfid-req missing or invalid');
  return null;
}

function isRootGfid(g: Buffer): boolean {
  return g.subarray(0, 15).every((b) => b === 0) && g[15] === 1;
}
