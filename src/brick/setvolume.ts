/**
 * SETVOLUME, the brick's session handshake: the checks stock glusterfsd makes, in its
 * order, with its error numbers and ERROR strings (docs/wire-format.md, SETVOLUME).
 */
import { Errno } from '../protocol/errno.js';
import { Program, SetvolumeKeys as K, legacyDict, legacyString, type LegacyDict } from '../protocol/index.js';

export interface ExportPolicy {
  /** The name clients must send as remote-subvolume (the brick path). */
  exportName: string;
  volumeId?: string;
  brickUuid: string;
  /** `auth.addr.<export>.allow` patterns ('*' or globs of addresses); empty = allow all. */
  allow: readonly string[];
  /** `auth.login`: username → password; none = no login required. */
  logins: ReadonlyMap<string, string>;
}

export type SetvolumeOutcome =
  | { ok: true; processUuid: string; clientVersion: string; reply: LegacyDict }
  | { ok: false; errno: number; reply: LegacyDict };

function refuse(errno: number, error: string): SetvolumeOutcome {
  return { ok: false, errno, reply: legacyDict({ [K.ERROR]: error }) };
}

/** Matches an address against glob patterns as auth.addr does ('*' and '?'). */
export function addressAllowed(address: string, patterns: readonly string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => {
    const re = new RegExp(
      `^${p
        .trim()
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    return re.test(address);
  });
}

export function checkSetvolume(
  dict: LegacyDict,
  peerAddress: string,
  policy: ExportPolicy,
): SetvolumeOutcome {
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
  if (!addressAllowed(peerAddress, policy.allow)) return refuse(Errno.EACCES, 'Authentication failed');
  if (policy.logins.size > 0) {
    const user = legacyString(dict, K.USERNAME);
    const password = legacyString(dict, K.PASSWORD);
    if (user === undefined || password === undefined || policy.logins.get(user) !== password) {
      return refuse(Errno.EACCES, 'Authentication failed');
    }
  }
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
    clientVersion: legacyString(dict, K.CLIENT_VERSION) ?? '',
    reply: legacyDict(reply),
  };
}
