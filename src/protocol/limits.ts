/**
 * Upper bounds for every variable-length field glusterts decodes. Values beyond these
 * are refused by the codec (XdrError XDR_TOO_LONG) before anything is allocated for them.
 * docs/wire-format.md lists them with their reasons.
 */
export const Limits = {
  /** A single path component (Linux NAME_MAX). */
  NAME: 255,
  /** Paths and symlink targets (Linux PATH_MAX). */
  PATH: 4096,
  /**
   * Names and symlink targets as they travel in FOP calls. Wider than NAME and PATH on
   * purpose: a name of 256 bytes must still decode so the brick can answer ENAMETOOLONG as
   * stock's does (stock decodes any length and lets the kernel refuse it); only absurd
   * lengths fail decoding (GARBAGE_ARGS).
   */
  NAME_FIELD: 16 * 1024,
  /** An xattr name (Linux XATTR_NAME_MAX). */
  XATTR_NAME: 255,
  /** Dict keys, including xattr names (XATTR_NAME_MAX is 255; internal keys are longer). */
  DICT_KEY: 4096,
  /** One dict value: xattrs are ≤ 64 KiB, quick-read content up to 1 MiB. */
  DICT_VALUE: 1024 * 1024,
  /** Pairs in one dict. */
  DICT_PAIRS: 1024,
  /** A whole serialized legacy dict (SETVOLUME, GETSPEC xdata). */
  LEGACY_DICT_BYTES: 4 * 1024 * 1024,
  /** A volfile returned by GETSPEC. */
  VOLFILE: 16 * 1024 * 1024,
  /** Lock owners (GF_MAX_LOCK_OWNER_LEN). */
  LK_OWNER: 1024,
  /** Lock domains (INODELK/ENTRYLK "volume"). */
  LOCK_DOMAIN: 4096,
  /** Entries in one READDIR(P) reply. */
  DIRENTS: 65536,
  /** Programs in a DUMP reply. */
  DUMP_PROGRAMS: 256,
  /** Strong checksum in RCHECKSUM (SHA-256 is 32). */
  CHECKSUM: 64,
  /** Error strings (op_errstr). */
  ERRSTR: 4096,
  /** Legacy opaque xdata in non-FOP programs. */
  OPAQUE_XDATA: 4 * 1024 * 1024,
  /** Locks in one GETACTIVELK/SETACTIVELK list. */
  LOCKS: 65536,
} as const;

/** The largest READ/WRITE/RCHECKSUM served or sent (QEMU's own limit); more is refused, not allocated. */
export const MAX_IO = 512 * 1024 * 1024;
