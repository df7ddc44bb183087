/** RPC program numbers and versions of GlusterFS 10 (rpc/rpc-lib, protocol-common.h). */
export const Program = {
  /** GF-DUMP: DUMP and PING, served by glusterd and every brick. */
  DUMP: { prog: 123451501, vers: 1 },
  /** Handshake: SETVOLUME (brick), GETSPEC and friends (glusterd). */
  HANDSHAKE: { prog: 14398633, vers: 2 },
  /** Portmap: glusterd only. A brick must never list it in DUMP. */
  PORTMAP: { prog: 34123456, vers: 1 },
  /** The FOP program, 4.x layout (gfx_* structs). */
  FOP: { prog: 1298437, vers: 400 },
  /** The legacy 3.3 FOP layout; bricks list it, glusterts does not serve it. */
  FOP_LEGACY: { prog: 1298437, vers: 330 },
  /** Server → client callbacks. */
  CALLBACK: { prog: 52743234, vers: 1 },
} as const;

export const DumpProc = { NULL: 0, DUMP: 1, PING: 2 } as const;

export const HandshakeProc = {
  NULL: 0,
  SETVOLUME: 1,
  GETSPEC: 2,
  PING: 3,
  SET_LK_VER: 4,
  EVENT_NOTIFY: 5,
  GET_VOLUME_INFO: 6,
  GET_SNAPSHOT_INFO: 7,
} as const;

export const PortmapProc = {
  NULL: 0,
  PORTBYBRICK: 1,
  BRICKBYPORT: 2,
  SIGNUP: 3,
  SIGNIN: 4,
  SIGNOUT: 5,
} as const;

export const CallbackProc = {
  NULL: 0,
  FETCHSPEC: 1,
  INO_FLUSH: 2,
  EVENT_NOTIFY: 3,
  GET_SNAPS: 4,
  CACHE_INVALIDATION: 5,
  CHILD_UP: 6,
  CHILD_DOWN: 7,
  RECALL_LEASE: 8,
  STATEDUMP: 9,
  INODELK_CONTENTION: 10,
  ENTRYLK_CONTENTION: 11,
} as const;

/** The gfs_id a GlusterFS client sends in DUMP. */
export const DUMP_GFS_ID = 0xcaedn;
