/**
 * NBD wire constants (fixed newstyle handshake, transmission, structured replies), from the
 * protocol document NetworkBlockDevice/nbd doc/proto.md. Every field on the wire is
 * big-endian. One table per namespace; nothing here has behaviour.
 */

/** 'NBDMAGIC', the first 8 bytes the server sends. */
export const NBDMAGIC = 0x4e42444d41474943n;
/** 'IHAVEOPT': the newstyle magic, and the magic in front of every option. */
export const IHAVEOPT = 0x49484156454f5054n;
/** Magic in front of every option reply. */
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server, 16 bits). */
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_NO_ZEROES = 1 << 1;
/** Client flags (32 bits). Any other bit makes the server drop the connection. */
export const FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_C_NO_ZEROES = 1 << 1;

/** Transmission flags (16 bits). */
export const TFLAG = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
} as const;

/** Options (option haggling). */
export const OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  PEEK_EXPORT: 4,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
} as const;

/** Option reply types; errors have bit 31 set. */
export const REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: 0x8000_0001,
  ERR_POLICY: 0x8000_0002,
  ERR_INVALID: 0x8000_0003,
  ERR_PLATFORM: 0x8000_0004,
  ERR_TLS_REQD: 0x8000_0005,
  ERR_UNKNOWN: 0x8000_0006,
  ERR_SHUTDOWN: 0x8000_0007,
  ERR_BLOCK_SIZE_REQD: 0x8000_0008,
  ERR_TOO_BIG: 0x8000_0009,
} as const;

/** NBD_REP_INFO item types (also what NBD_OPT_INFO/GO may request). */
export const INFO = {
  EXPORT: 0,
  NAME: 1,
  DESCRIPTION: 2,
  BLOCK_SIZE: 3,
} as const;

/** Transmission commands. */
export const CMD = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

/** Command flags (16 bits). */
export const CMD_FLAG = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
} as const;

/** Structured reply chunk flags and types. */
export const REPLY_FLAG_DONE = 1 << 0;
export const REPLY_TYPE = {
  NONE: 0,
  OFFSET_DATA: 1,
  OFFSET_HOLE: 2,
  BLOCK_STATUS: 5,
  ERROR: (1 << 15) + 1,
  ERROR_OFFSET: (1 << 15) + 2,
} as const;

/** base:allocation extent flags. */
export const STATE_HOLE = 1 << 0;
export const STATE_ZERO = 1 << 1;

/** The one metadata context this server offers, and the id it carries. */
export const BASE_ALLOCATION = 'base:allocation';
export const BASE_ALLOCATION_ID = 1;

/** Errors on the wire: the spec's fixed numbers (Linux values). */
export const NBD_ERRNO = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;
export type NbdErrno = keyof typeof NBD_ERRNO;

/**
 * The NBD error for an errno name from a backend: the spec allows only the eight above, so
 * the rest fold into the nearest (read-only and permission errors into EPERM, quota and
 * file-too-big into ENOSPC) and everything unknown into EIO.
 */
export function nbdErrno(code: unknown): number {
  switch (code) {
    case 'EPERM':
    case 'EACCES':
    case 'EROFS':
      return NBD_ERRNO.EPERM;
    case 'ENOMEM':
      return NBD_ERRNO.ENOMEM;
    case 'EINVAL':
      return NBD_ERRNO.EINVAL;
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return NBD_ERRNO.ENOSPC;
    case 'EOVERFLOW':
      return NBD_ERRNO.EOVERFLOW;
    case 'ENOTSUP':
    case 'EOPNOTSUPP':
      return NBD_ERRNO.ENOTSUP;
    case 'ESHUTDOWN':
      return NBD_ERRNO.ESHUTDOWN;
    default:
      return NBD_ERRNO.EIO;
  }
}

/** Lengths of the fixed-size messages. */
export const OPTION_HEADER_SIZE = 16;
export const REQUEST_SIZE = 28;
export const SIMPLE_REPLY_SIZE = 16;
export const STRUCTURED_HEADER_SIZE = 20;
/** The longest string (export name, query) the spec allows. */
export const MAX_STRING = 4096;
