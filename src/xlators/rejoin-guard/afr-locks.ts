/**
 * Which INODELK ends one of AFR's data transactions on this brick: what features/rejoin-guard
 * and features/failed-writes both wait for (by then every post-op of that lock has landed
 * on every brick it was taken on).
 */
const METADATA_LOCK_START = 0x7fff_ffff_ffff_fffen;
const UNLCK = 2;

/** Whether an inodelk request ends one of AFR's data-transaction locks. */
export function endsDataLock(req: { volume: string; type: number; flock: { start: bigint } }): boolean {
  return (
    req.type === UNLCK &&
    !req.volume.endsWith(':self-heal') &&
    !req.volume.endsWith(':metadata') &&
    BigInt.asIntN(64, req.flock.start) !== METADATA_LOCK_START
  );
}
