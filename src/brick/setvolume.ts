/**
 * SETVOLUME, the brick's session handshake: the checks stock glusterfsd makes, in its
 * order, with its error numbers and ERROR strings (docs/wire-format.md, SETVOLUME).
 */
import { Errno } from '../protocol/errno.js';
import { Program, SetvolumeKeys as K, legacyDict, legacyString, type LegacyDict } from '../protocol/index.js';
import { authenticate, type AuthRequest, type AuthRules } from './auth.js';

export interface ExportPolicy {
  /** The name clients must send as remote-subvolume (the brick path). */
  exportName: string;
  volumeId?: string;
  brickUuid: string;
  /** auth.addr and auth.login (src/brick/auth.ts). */
  auth: AuthRules;
}

export type SetvolumeOutcome =
  | { ok: true; processUuid: string; clientVersion: string; trusted: boolean; reply: LegacyDict }
  | { ok: false; errno: number; reply: LegacyDict };

function refuse(errno: number, error: string): SetvolumeOutcome {
  return { ok: false, errno, reply: legacyDict({ [K.ERROR]: error }) };
}

/** The auth question a SETVOLUME dict asks, from `peer` (with `sslName`, its certificate CN, over TLS). */
export function authRequest(dict: LegacyDict, peer: string, sslName?: string): AuthRequest {
  return {
    peer,
    subdir: legacyString(dict, K.SUBDIR_MOUNT) ?? '/',
    username: legacyString(dict, K.USERNAME),
    password: legacyString(dict, K.PASSWORD),
    ...(sslName !== undefined ? { sslName } : {}),
  };
}

export async function checkSetvolume(
  dict: LegacyDict,
  peerAddress: string,
  policy: ExportPolicy,
  sslName?: string,
): Promise<SetvolumeOutcome> {
  const subvolume = legacyString(dict, K.REMOTE_SUBVOLUME);
  if (subvolume === undefined || subvolume !== policy.exportName) {
    return refuse(Errno.ENOENT, 'Brick not found');
  }
  const processUuid = legacyString(dict, K.PROCESS_UUID);
  if (!processUuid) return refuse(Errno.EINVAL, 'UUID not specified');
  if (legacyString(dict, K.FOPS_VERSION) !== String(Program.FOP.prog)) {
    return refuse(Errno.EINVAL, 'version mismatch: client(0) - client-mgmt(0)');
  }
  const volumeId = legacyString(dict, K.VOLUME_ID);
  if (volumeId && policy.volumeId && volumeId !== policy.volumeId) {
    return refuse(Errno.EINVAL, 'volume-id mismatch');
  }
  const auth = await authenticate(policy.auth, authRequest(dict, peerAddress, sslName));
  if (!auth.admitted) return refuse(Errno.EACCES, 'Authentication failed');
  // glusterts bricks do not serve a directory as a client's root yet: a subdir mount is
  // refused as stock refuses one whose directory is missing, never given the whole volume.
  const subdir = legacyString(dict, K.SUBDIR_MOUNT);
  if (subdir !== undefined && subdir !== '/')
    return refuse(Errno.ENOENT, `subdirectory for mount "${subdir}" is not found`);
  const reply: Record<string, string> = {
    [K.ERROR]: 'Success',
    [K.PROCESS_UUID]: policy.brickUuid,
    [K.CLNT_LK_VERSION]: '0',
    [K.CHILD_UP]: '1',
  };
  if (policy.volumeId) reply[K.VOLUME_ID] = policy.volumeId;
  return {
    ok: true,
    processUuid,
    trusted: auth.trusted,
    clientVersion: legacyString(dict, K.CLIENT_VERSION) ?? '',
    reply: legacyDict(reply),
  };
}
