/**
 * A volume as the daemon keeps it: the record persisted in the store and the names derived
 * from it (brick ids, volfile keys), kept in one place so the store, the volfile generator,
 * portmap and the CLI agree.
 */
export type VolumeStatus = 'created' | 'started' | 'stopped';

export interface Brick {
  /** The address the brick listens on (and clients connect to). */
  host: string;
  /** Absolute, normalised directory; also the brick's export name (remote-subvolume). */
  path: string;
}

export interface VolumeRecord {
  name: string;
  /** uuid, written into the brick volfile and answered by GET_VOLUME_INFO. */
  id: string;
  status: VolumeStatus;
  bricks: Brick[];
  /** Canonical `volume set` keys → the values as typed, in the order they were set. */
  options: Record<string, string>;
}

/** glusterd's rule: letters, digits, '-' and '_', not starting with '-'. */
const VOLUME_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const RESERVED = new Set(['all', 'help', 'info', 'status', 'list']);

export function checkVolumeName(name: string): void {
  if (!VOLUME_NAME.test(name))
    throw new Error(
      `volume name "${name}" is invalid: use 1-64 letters, digits, '-' or '_' (not starting with '-')`,
    );
  if (RESERVED.has(name)) throw new Error(`volume name "${name}" is reserved`);
}

/** `/bricks/b0` → `bricks-b0`, glusterd's file-name form of a brick path. */
export function dashedPath(path: string): string {
  return path.replace(/^\/+/, '').replace(/\//g, '-');
}

/** The brick volfile's GETSPEC key, as glusterd names it: `<vol>.<host>.<dashed path>`. */
export function brickVolfileKey(vol: string, brick: Brick): string {
  return `${vol}.${brick.host}.${dashedPath(brick.path)}`;
}

/** What `volume info` prints for a brick. */
export function brickLabel(brick: Brick): string {
  return `${brick.host}:${brick.path}`;
}
