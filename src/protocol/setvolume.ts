/**
 * The keys of the SETVOLUME dicts (HandshakeProcs.SETVOLUME), spelt once for the brick
 * that checks them and the client that sends them. The client also sends its whole
 * option dict, so any protocol/client option may appear besides these.
 */
export const SetvolumeKeys = {
  // The client's request.
  /** The brick path the client wants (the brick refuses others: ENOENT "Brick not found"). */
  REMOTE_SUBVOLUME: 'remote-subvolume',
  REMOTE_HOST: 'remote-host',
  /** Identifies the client process and connection (required). */
  PROCESS_UUID: 'process-uuid',
  PROCESS_NAME: 'process-name',
  /** Must be the FOP program number. */
  FOPS_VERSION: 'fops-version',
  VOLFILE_KEY: 'volfile-key',
  VOLFILE_CHECKSUM: 'volfile-checksum',
  CLIENT_VERSION: 'client-version',
  OPVERSION: 'opversion',
  PING_TIMEOUT: 'ping-timeout',
  TRANSPORT_TYPE: 'transport-type',
  /** auth.login credentials. */
  USERNAME: 'username',
  PASSWORD: 'password',
  /** The directory a subdir mount (`host:/vol/dir`) attaches to; absent: the whole volume. */
  SUBDIR_MOUNT: 'subdir-mount',
  // Both ways.
  /** The volume's UUID: checked when the client sends it, returned by the brick. */
  VOLUME_ID: 'volume-id',
  CLNT_LK_VERSION: 'clnt-lk-version',
  // The brick's reply.
  /** 'Success', or why the brick refused. */
  ERROR: 'ERROR',
  CHILD_UP: 'child_up',
} as const;
