/**
 * A volume as the daemon keeps it: the record persisted in the store and the names derived
 * from it (brick ids, volfile keys), kept in one place so the store, the volfile generator,
 * portmap and the CLI agree.
 */
export type VolumeStatus = 'created' | 'started' | 'stopped';

export interface VolumeBrick {
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
  bricks: VolumeBrick[];
  /** Canonical `volume set` keys → the values as typed, in the order they were set. */
  options: Record<string, string>;
  /**
   * Bricks per replica set (`replica N`); absent or 1 = distribute only. Replica set k is
   * bricks[k*N … k*N+N-1], as glusterd groups them.
   */
  replicaCount?: number;
  /** 1 when the last brick of each replica set is an arbiter (`replica 3 arbiter 1`). */
  arbiterCount?: number;
}

/** The replica layout of a volume; distribute-only volumes have replica 1. */
export interface ReplicaLayout {
  replica: number;
  arbiter: number;
}

export function replicaLayout(vol: Pick<VolumeRecord, 'replicaCount' | 'arbiterCount'>): ReplicaLayout {
  return { replica: vol.replicaCount ?? 1, arbiter: vol.arbiterCount ?? 0 };
}

export function isReplicated(vol: Pick<VolumeRecord, 'replicaCount'>): boolean {
  return (vol.replicaCount ?? 1) > 1;
}

/** The bricks' indices grouped into replica sets (one set per brick when not replicated). */
export function replicaSets(vol: Pick<VolumeRecord, 'bricks' | 'replicaCount'>): number[][] {
  const n = vol.replicaCount ?? 1;
  const sets: number[][] = [];
  for (let i = 0; i < vol.bricks.length; i += n) sets.push(vol.bricks.slice(i, i + n).map((_, j) => i + j));
  return sets;
}

/** Whether brick `index` is an arbiter: the last brick of its set in an arbiter volume. */
export function isArbiterBrick(
  vol: Pick<VolumeRecord, 'replicaCount' | 'arbiterCount'>,
  index: number,
): boolean {
  const { replica, arbiter } = replicaLayout(vol);
  return arbiter > 0 && index % replica >= replica - arbiter;
}

/** `volume info`'s Type line, as the gluster CLI 10.3 prints it. */
export function volumeTypeName(vol: Pick<VolumeRecord, 'bricks' | 'replicaCount'>): string {
  if (!isReplicated(vol)) return 'Distribute';
  return vol.bricks.length > (vol.replicaCount ?? 1) ? 'Distributed-Replicate' : 'Replicate';
}

/** `volume info`'s "Number of Bricks:": `3`, `1 x 3 = 3`, `2 x (2 + 1) = 6`. */
export function brickCountLabel(vol: Pick<VolumeRecord, 'bricks' | 'replicaCount' | 'arbiterCount'>): string {
  const { replica, arbiter } = replicaLayout(vol);
  const total = vol.bricks.length;
  if (replica <= 1) return String(total);
  const perSet = arbiter > 0 ? `(${replica - arbiter} + ${arbiter})` : String(replica);
  return `${total / replica} x ${perSet} = ${total}`;
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
export function brickVolfileKey(vol: string, brick: VolumeBrick): string {
  return `${vol}.${brick.host}.${dashedPath(brick.path)}`;
}

/** What `volume info` prints for a brick. */
export function brickLabel(brick: VolumeBrick): string {
  return `${brick.host}:${brick.path}`;
}
