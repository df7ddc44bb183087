/**
 * The numbers lock requests carry on the wire (LK, INODELK/FINODELK, ENTRYLK/FENTRYLK), one
 * place for the translators that send them (replicate, shard) and the one that serves them
 * (features/locks). Values are glusterfs' own (GF_LK_*, gf_proto_flock types, ENTRYLK_*).
 */

/** LK and INODELK/FINODELK `cmd`. */
export const LockCmd = {
  GETLK: 0,
  SETLK: 1,
  SETLKW: 2,
  RESLK_LCK: 3,
  RESLK_LCKW: 4,
  RESLK_UNLCK: 5,
  GETLK_FD: 6,
} as const;

/** `gf_proto_flock.type` (and INODELK's `type`). */
export const LockType = { RDLCK: 0, WRLCK: 1, UNLCK: 2 } as const;

/** ENTRYLK/FENTRYLK `cmd`. */
export const EntrylkCmd = { LOCK: 0, UNLOCK: 1, LOCK_NB: 2 } as const;

/** ENTRYLK/FENTRYLK `type`. */
export const EntrylkType = { RDLCK: 0, WRLCK: 1 } as const;
