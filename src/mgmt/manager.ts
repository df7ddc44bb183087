/**
 * VolumeManager: the volume operations behind the CLI (create, start, stop, delete, set,
 * get, reset, info, status), the volume table GETSPEC reads, and brick life cycles. Operations run
 * one at a time; each commits the new record to the cluster store before it acts, so a
 * restart finds the state the last operation asked for. In a pool (an etcd cluster store)
 * the commit is one transaction that fails whole when another daemon changed the state
 * first, and the changes every daemon commits come back through the store's watch: each
 * daemon then starts and stops only its own host's bricks and rewrites its volfiles.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { networkInterfaces, hostname } from 'node:os';
import { isAbsolute, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errno, GlusterTsError } from '../errors/index.js';
import { loadGroup } from './groups.js';
import {
  BRICK_RESTART_OPTIONS,
  BRICK_SIDE_OPTIONS,
  KEPT_BY_RESET_ALL,
  REPLICATED_VOLUME_DEFAULTS,
  canonicalKey,
  validateVolumeOption,
  volumeGetRows,
  type VolumeOptionKey,
} from './options.js';
import {
  LocalClusterStore,
  StaleStateError,
  type ClusterChange,
  type ClusterStore,
  type PeerRecord,
} from './cluster-store.js';
import type { PortmapTable } from './portmap.js';
import type { VolumeStore } from './store.js';
import type { BrickSupervisor } from './supervisor.js';
import { DATA_PATH_NODE_FLAGS } from './node-flags.js';
import { BrickClaimError, checkBrickClaim, stampVolumeId } from '../xlators/posix/claim.js';
import { brickVolfile, clientVolfile, shdVolfile } from './volfiles.js';
import {
  brickLabel,
  brickVolfileKey,
  checkVolumeName,
  dashedPath,
  isReplicated,
  type VolumeBrick,
  type ReplicaLayout,
  type VolumeRecord,
} from './volume.js';

export interface ManagerOptions {
  /** The daemon's address: the default brick host, and a local address. */
  host: string;
  /** The daemon's TCP port (written into client volfiles when it is not 24007). */
  port: number;
  /** How long `start` waits for each brick to sign in before warning. */
  signinTimeoutMs?: number;
  /** A volume's volfiles changed (or the volume appeared, started, stopped or went away). */
  onVolfileChange?: (volume: string) => void;
  log?: (message: string) => void;
}

export interface BrickStatus {
  brick: string;
  port: number | null;
  online: boolean;
  pid: number | null;
  /** Why the brick is offline for good (it refused its configuration), when it is. */
  error?: string;
}

export interface VolumeStatusReport {
  name: string;
  status: VolumeRecord['status'];
  bricks: BrickStatus[];
}

export interface OpResult {
  volume: VolumeRecord;
  warnings: string[];
}

/** A failed operation: the message is what the CLI prints after "failed: ". */
export class VolumeOpError extends GlusterTsError {
  static readonly codes = ['VOLUME_OP_FAILED'] as const;
  constructor(message: string) {
    super('VOLUME_OP_FAILED', Errno.EINVAL, message);
  }
}

const MAX_BRICKS = 64;

/** glusterd's refusal to change cluster.granular-entry-heal on a started volume. */
const GRANULAR_WHILE_STARTED =
  " 'gluster volume set <VOLNAME> cluster.granular-entry-heal {enable, disable}' is not supported. " +
  "Use 'gluster volume heal <VOLNAME> granular-entry-heal {enable, disable}' instead.";
const MAX_BRICK_PATH = 1024;

export class VolumeManager {
  private readonly volumes = new Map<string, VolumeRecord>();
  /** The pool's hosts by uuid (this one included); empty on a single host. */
  private readonly peers = new Map<string, PeerRecord>();
  private cluster: ClusterStore;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly o: Required<ManagerOptions>;

  constructor(
    private readonly store: VolumeStore,
    private readonly supervisor: BrickSupervisor,
    private readonly portmap: PortmapTable,
    options: ManagerOptions,
  ) {
    this.o = {
      signinTimeoutMs: 10_000,
      onVolfileChange: () => undefined,
      log: (m) => console.error(`glusterts mgmt: ${m}`),
      ...options,
    };
    this.cluster = new LocalClusterStore(store);
  }

  /** Whether the state is shared with a pool of hosts. */
  get pooled(): boolean {
    return this.cluster.kind !== 'local';
  }

  /** The pool's hosts, this one included (none on a single host). */
  peerList(): PeerRecord[] {
    return [...this.peers.values()].sort((a, b) => a.host.localeCompare(b.host));
  }

  /** Whether this daemon runs the brick: every brick on a single host, its own host's in a pool. */
  ownsBrick(b: VolumeBrick): boolean {
    return !this.pooled || b.host === this.o.host;
  }

  /** Runs operations one after the other. */
  private serial<T>(op: () => Promise<T> | T): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): VolumeRecord | undefined {
    return this.volumes.get(name);
  }

  private require(name: string): VolumeRecord {
    const v = this.volumes.get(name);
    if (!v) throw new VolumeOpError(`Volume ${name} does not exist`);
    return v;
  }

  /** The volume one of this host's brick paths belongs to, if any. */
  volumeOfBrick(path: string): VolumeRecord | undefined {
    for (const v of this.volumes.values())
      if (v.bricks.some((b) => b.path === path && this.ownsBrick(b))) return v;
    return undefined;
  }

  /**
   * GETSPEC's lookup: `<vol>` (one leading '/' or more stripped, as glusterd does) gives
   * the client volfile, `shd/<vol>` the self-heal daemon's (replicated volumes),
   * `<vol>.<host>.<dashed brick path>` a brick volfile.
   */
  volfileFor(key: string): { volume: string; spec: string } | undefined {
    const k = key.replace(/^\/+/, '');
    const vol = this.volumes.get(k);
    if (vol) return { volume: vol.name, spec: clientVolfile(vol, { mgmtPort: this.o.port }) };
    const shdOf = k.startsWith('shd/') ? this.volumes.get(k.slice(4)) : undefined;
    if (shdOf && isReplicated(shdOf))
      return { volume: shdOf.name, spec: shdVolfile(shdOf, { mgmtPort: this.o.port }) };
    for (const v of this.volumes.values()) {
      if (!k.startsWith(`${v.name}.`)) continue;
      const brick = v.bricks.find((b) => brickVolfileKey(v.name, b) === k);
      if (brick) return { volume: v.name, spec: brickVolfile(v, brick) };
    }
    return undefined;
  }

  // ---- life cycle -------------------------------------------------------------------

  /** Loads the stored volumes (from `cluster` when given: a pool's) and starts the bricks of started ones. */
  restore(cluster?: ClusterStore): Promise<void> {
    return this.serial(() => {
      if (cluster) this.cluster = cluster;
      return this.adopt(true);
    });
  }

  /**
   * Moves the state to `cluster` (a pool's store: this host joined or formed a pool) and
   * follows it from now on. The caller has made sure the new store holds this host's volumes.
   */
  useCluster(cluster: ClusterStore): Promise<void> {
    return this.serial(async () => {
      const old = this.cluster;
      this.cluster = cluster;
      try {
        await this.adopt(false);
      } catch (err) {
        this.cluster = old;
        throw err;
      }
      old.close();
    });
  }

  /**
   * Takes the cluster store's state as this daemon's: volume records (the local state
   * directory caches them and their volfiles), own bricks of started volumes running,
   * then follows the store's changes.
   */
  private async adopt(boot: boolean): Promise<void> {
    const { volumes, peers } = await this.cluster.load((name, err) =>
      this.o.log(`volume ${name} not loaded: ${err.message}`),
    );
    this.peers.clear();
    for (const p of peers) this.peers.set(p.uuid, p);
    if (this.pooled) {
      const names = new Set(volumes.map((v) => v.name));
      for (const cached of this.store.load()) if (!names.has(cached.name)) await this.forget(cached.name);
    }
    for (const v of volumes) {
      const before = this.volumes.get(v.name);
      this.volumes.set(v.name, v);
      if (this.pooled) this.store.save(v);
      this.writeVolfiles(v);
      if (v.status === 'started') {
        if (boot) for (const b of this.ownBricks(v)) killStaleBrick(this.pidFile(b), b.path, this.o.log);
        this.startBricks(v);
      } else if (before?.status === 'started') await this.stopBricks(v);
      if (!boot) this.o.onVolfileChange(v.name);
    }
    this.cluster.watch({
      volume: (name, record) =>
        void this.applyCommitted(name, record).catch((err: Error) => this.o.log(err.message)),
      peer: (uuid, record) => {
        if (record) this.peers.set(uuid, record);
        else this.peers.delete(uuid);
      },
    });
  }

  /** A volume record another daemon (or this one) committed: make this host follow it. */
  private applyCommitted(name: string, record: VolumeRecord | undefined): Promise<void> {
    return this.serial(async () => {
      const current = this.volumes.get(name);
      if (!record) {
        if (current) await this.forget(name);
        return;
      }
      if (current && JSON.stringify(current) === JSON.stringify(record)) return;
      this.volumes.set(name, record);
      this.store.save(record);
      // A brick of this host named by a create on another host: its directory is made here.
      for (const b of this.ownBricks(record)) mkdirSync(b.path, { recursive: true, mode: 0o755 });
      this.writeVolfiles(record);
      if (record.status === 'started') this.startBricks(record);
      else if (current?.status === 'started') await this.stopBricks(record);
      if (current && record.status === 'started' && current.status === 'started') this.syncShd(record);
      this.o.onVolfileChange(name);
    });
  }

  /** Drops a volume this host still knows but the cluster no longer has. */
  private async forget(name: string): Promise<void> {
    const vol = this.volumes.get(name) ?? this.store.load().find((v) => v.name === name);
    if (vol) await this.stopBricks(vol);
    this.volumes.delete(name);
    this.store.remove(name);
    this.o.onVolfileChange(name);
  }

  /**
   * Commits a change to the cluster store (all or nothing) and, in a pool, to the local
   * cache. The store's own failures become the CLI's messages.
   */
  private async persist(change: ClusterChange, volume: string): Promise<void> {
    try {
      await this.cluster.commit(change);
    } catch (err) {
      if (err instanceof StaleStateError)
        throw new VolumeOpError(
          `Another transaction is in progress for ${volume}. Please try again after some time.`,
        );
      throw new VolumeOpError(
        `the cluster state store did not take the change (${(err as Error).message}); ` +
          'if it answered late the change may still take effect: check volume info',
      );
    }
    if (!this.pooled) return;
    if (change.putVolume) this.store.save(change.putVolume);
    if (change.removeVolume !== undefined) this.store.remove(change.removeVolume);
  }

  /** Records a pool host (probe) or drops one (detach), after the other volume operations. */
  commitPeer(change: Pick<ClusterChange, 'putPeer' | 'removePeer'>): Promise<void> {
    return this.serial(async () => {
      await this.cluster.commit(change);
      if (change.putPeer) this.peers.set(change.putPeer.uuid, change.putPeer);
      if (change.removePeer !== undefined) this.peers.delete(change.removePeer);
    });
  }

  /** Runs `op` after the volume operations in flight and before the next ones. */
  exclusive<T>(op: () => Promise<T> | T): Promise<T> {
    return this.serial(op);
  }

  private ownBricks(vol: VolumeRecord): VolumeBrick[] {
    return vol.bricks.filter((b) => this.ownsBrick(b));
  }

  /** Stops this host's bricks of `vol` and its self-heal daemon. */
  private async stopBricks(vol: VolumeRecord): Promise<void> {
    await Promise.all(
      [...this.ownBricks(vol).map((b) => b.path), `shd:${vol.name}`].map((k) => this.supervisor.stop(k)),
    );
    for (const b of this.ownBricks(vol)) this.brickGone(b.path);
  }

  /** Stops every brick process; volumes keep their status, so the next start resumes them. */
  shutdown(): Promise<void> {
    return this.serial(async () => {
      this.cluster.close();
      await this.supervisor.stopAll();
      for (const v of this.volumes.values()) for (const b of v.bricks) this.brickGone(b.path);
    });
  }

  // ---- operations -------------------------------------------------------------------

  /**
   * `volume create`. `layout.replica` > 1 groups the bricks into replica sets of that size
   * (`arbiter 1`: the last brick of each set is the arbiter); the CLI has already turned
   * stock's `replica 2 arbiter 1` into replica 3 arbiter 1.
   */
  create(
    name: string,
    brickArgs: readonly string[],
    force = false,
    layout: Partial<ReplicaLayout> = {},
  ): Promise<OpResult> {
    return this.serial(async () => {
      checkVolumeName(name);
      if (this.volumes.has(name)) throw new VolumeOpError(`Volume ${name} already exists`);
      if (brickArgs.length === 0) throw new VolumeOpError('at least one brick is required');
      if (brickArgs.length > MAX_BRICKS) throw new VolumeOpError(`at most ${MAX_BRICKS} bricks per volume`);
      const { replica = 1, arbiter = 0 } = layout;
      checkLayout(replica, arbiter, brickArgs.length);
      const bricks = brickArgs.map((a) => this.parseBrick(a));
      if (replica > 1 && !force) checkReplicaHosts(bricks, replica);
      const warnings: string[] = [];
      for (let i = 0; i < bricks.length; i++) {
        const b = bricks[i]!;
        for (let j = 0; j < i; j++) checkOverlap(b, bricks[j]!, `this command`, this.pooled);
        for (const v of this.volumes.values())
          for (const other of v.bricks) checkOverlap(b, other, `volume ${v.name}`, this.pooled);
      }
      // Another host's brick directory is made by its daemon when the new volume reaches it.
      const own = this.ownBricks({ bricks } as VolumeRecord);
      for (const b of own) warnings.push(...prepareBrickDir(b, force));
      // Every brick is checked before any is stamped: a refusal leaves no brick claimed.
      for (const b of own) await claimOrRefuse(() => checkBrickClaim(b.host, b.path, force));
      const id = randomUUID();
      for (const b of own) await claimOrRefuse(() => stampVolumeId(b.path, id, force));
      const vol: VolumeRecord = {
        name,
        id,
        status: 'created',
        bricks,
        options: replica > 1 ? { ...REPLICATED_VOLUME_DEFAULTS } : {},
        ...(replica > 1 ? { replicaCount: replica } : {}),
        ...(arbiter > 0 ? { arbiterCount: arbiter } : {}),
      };
      await this.persist({ putVolume: vol }, name);
      this.volumes.set(name, vol);
      this.writeVolfiles(vol);
      this.o.onVolfileChange(name);
      return { volume: vol, warnings };
    });
  }

  /**
   * `volume start`. With `force` on a started volume it starts every brick that is not
   * running now, skipping the restart backoff (stock glusterd's way back for a dead brick).
   */
  start(name: string, force = false): Promise<OpResult> {
    return this.serial(async () => {
      const current = this.require(name);
      if (current.status === 'started' && !force) throw new VolumeOpError(`Volume ${name} already started`);
      for (const b of this.ownBricks(current)) {
        if (!existsSync(b.path) || !statSync(b.path).isDirectory())
          throw new VolumeOpError(`brick directory ${b.path} is missing`);
      }
      const vol: VolumeRecord = { ...current, status: 'started' };
      if (current.status !== 'started') await this.persist({ putVolume: vol }, name);
      this.volumes.set(name, vol);
      this.writeVolfiles(vol);
      this.startBricks(vol, force);
      const warnings: string[] = [];
      // Other hosts' bricks sign in at their own daemons.
      await Promise.all(
        this.ownBricks(vol).map((b) =>
          this.portmap.waitForSignin(b.path, this.o.signinTimeoutMs).catch(() => {
            const why = lastBrickError(this.logFile(b));
            warnings.push(
              `brick ${brickLabel(b)} has not signed in after ${this.o.signinTimeoutMs} ms; ` +
                `see ${this.logFile(b)}${why ? ` (${why})` : ''}`,
            );
          }),
        ),
      );
      this.o.onVolfileChange(name);
      return { volume: vol, warnings };
    });
  }

  stop(name: string): Promise<OpResult> {
    return this.serial(async () => {
      const current = this.require(name);
      if (current.status !== 'started') throw new VolumeOpError(`Volume ${name} is not in the started state`);
      const vol: VolumeRecord = { ...current, status: 'stopped' };
      await this.persist({ putVolume: vol }, name);
      this.volumes.set(name, vol);
      await this.stopBricks(vol);
      this.o.onVolfileChange(name);
      return { volume: vol, warnings: [] };
    });
  }

  delete(name: string): Promise<OpResult> {
    return this.serial(async () => {
      const vol = this.require(name);
      if (vol.status === 'started')
        throw new VolumeOpError(
          `Volume ${name} has been started. Volume needs to be stopped before deletion.`,
        );
      await this.persist({ removeVolume: name }, name);
      this.volumes.delete(name);
      this.o.onVolfileChange(name);
      return { volume: vol, warnings: [] };
    });
  }

  /**
   * `volume set NAME KEY VALUE`, or `volume set NAME group GROUP` (every key of the group,
   * validated first: a refused key leaves the volume unchanged, as glusterd).
   */
  set(name: string, key: string, value: string): Promise<OpResult> {
    return this.serial(async () => {
      const vol = this.require(name);
      let pairs: [string, string][];
      try {
        pairs = key === 'group' ? loadGroup(value, join(this.store.dataDir, 'groups')) : [[key, value]];
      } catch (err) {
        throw new VolumeOpError((err as Error).message);
      }
      const checked = pairs.map(([k, v]) => this.checkSet(vol, k, v));
      const options = { ...vol.options };
      for (const c of checked) options[c.key] = c.value;
      return this.applyOptions(
        vol,
        options,
        checked.map((c) => c.key),
      );
    });
  }

  /** One key of `volume set`, validated against the volume as glusterd does. */
  private checkSet(vol: VolumeRecord, key: string, value: string): { key: VolumeOptionKey; value: string } {
    let checked;
    try {
      checked = validateVolumeOption(key, value, vol);
    } catch (err) {
      throw new VolumeOpError((err as Error).message);
    }
    // glusterd's refusals for the AFR keys that depend on the volume.
    if (checked.key === 'cluster.self-heal-daemon' && !isReplicated(vol))
      throw new VolumeOpError(`Volume ${vol.name} is not of replicate type`);
    if (checked.key === 'cluster.granular-entry-heal' && vol.status === 'started')
      throw new VolumeOpError(GRANULAR_WHILE_STARTED);
    return checked;
  }

  /**
   * `volume reset NAME [KEY|all]`: KEY back to its default, or (no key, `all`) every key but
   * those glusterd keeps (cluster.granular-entry-heal). Resetting a key that is not set
   * succeeds, as on stock.
   */
  reset(name: string, key?: string): Promise<OpResult> {
    return this.serial(async () => {
      const vol = this.require(name);
      let keys: string[];
      if (key === undefined || key === 'all') {
        keys = Object.keys(vol.options).filter((k) => !KEPT_BY_RESET_ALL.has(k));
      } else {
        try {
          keys = [canonicalKey(key)];
        } catch {
          throw new VolumeOpError(`Option ${key} does not exist`);
        }
        if (keys[0] === 'cluster.granular-entry-heal' && vol.status === 'started')
          throw new VolumeOpError(GRANULAR_WHILE_STARTED);
      }
      const options = { ...vol.options };
      for (const k of keys) delete options[k];
      return this.applyOptions(vol, options, keys);
    });
  }

  /** `volume get NAME KEY|all`: [key, value as shown] rows. */
  getOptions(name: string, key: string): [string, string][] {
    const vol = this.require(name);
    try {
      return volumeGetRows(vol, key);
    } catch (err) {
      throw new VolumeOpError((err as Error).message);
    }
  }

  /** Stores a volume's new options, rewrites its volfiles and tells the clients. */
  private async applyOptions(
    current: VolumeRecord,
    options: Record<string, string>,
    changed: string[],
  ): Promise<OpResult> {
    const vol: VolumeRecord = { ...current, options };
    await this.persist({ putVolume: vol }, vol.name);
    this.volumes.set(vol.name, vol);
    this.writeVolfiles(vol);
    if (changed.includes('cluster.self-heal-daemon')) this.syncShd(vol);
    this.o.onVolfileChange(vol.name);
    // Running bricks read their volfile again on SIGHUP and apply the new access options
    // (stock glusterd has its bricks refetch theirs and reconfigure).
    if (changed.some((k) => BRICK_SIDE_OPTIONS.has(k as VolumeOptionKey)) && vol.status === 'started')
      for (const b of vol.bricks) {
        const pid = this.supervisor.pid(b.path);
        if (pid !== undefined) signalQuietly(pid, 'SIGHUP');
      }
    const warnings =
      changed.some((k) => BRICK_RESTART_OPTIONS.has(k as VolumeOptionKey)) && vol.status === 'started'
        ? ['TLS listener option: takes effect when the bricks next start (volume stop + start)']
        : [];
    return { volume: vol, warnings };
  }

  status(name?: string): VolumeStatusReport[] {
    const vols = name === undefined ? this.list() : [this.require(name)];
    return vols.map((v) => ({
      name: v.name,
      status: v.status,
      bricks: v.bricks.map((b) => {
        const own = this.ownsBrick(b);
        const entry = v.status === 'started' && own ? this.portmap.get(b.path) : undefined;
        const pid = own ? this.supervisor.pid(b.path) : undefined;
        const error = v.status === 'started' && own ? this.supervisor.failure(b.path) : undefined;
        return {
          brick: brickLabel(b),
          port: entry?.port ?? null,
          online: entry !== undefined && pid !== undefined,
          pid: pid ?? null,
          ...(error !== undefined ? { error } : {}),
        };
      }),
    }));
  }

  /** May this brick sign in? Only bricks of started volumes. */
  acceptsSignin(brickPath: string): boolean {
    return this.volumeOfBrick(brickPath)?.status === 'started';
  }

  // ---- helpers ----------------------------------------------------------------------

  logFile(b: VolumeBrick): string {
    return join(this.store.logsDir, `${dashedPath(b.path)}.log`);
  }

  private pidFile(b: VolumeBrick): string {
    return join(this.store.logsDir, `${dashedPath(b.path)}.pid`);
  }

  private brickVolfilePath(vol: VolumeRecord, b: VolumeBrick): string {
    return join(this.store.volumeDir(vol.name), 'bricks', `${brickVolfileKey(vol.name, b)}.vol`);
  }

  private writeVolfiles(vol: VolumeRecord): void {
    this.store.saveVolfile(
      vol.name,
      `${vol.name}.tcp-fuse.vol`,
      clientVolfile(vol, { mgmtPort: this.o.port }),
    );
    if (isReplicated(vol))
      this.store.saveVolfile(vol.name, `${vol.name}-shd.vol`, shdVolfile(vol, { mgmtPort: this.o.port }));
    for (const b of this.ownBricks(vol))
      this.store.saveVolfile(
        vol.name,
        join('bricks', `${brickVolfileKey(vol.name, b)}.vol`),
        brickVolfile(vol, b),
      );
  }

  /** `now`: a brick waiting out its restart backoff is started at once. */
  private startBricks(vol: VolumeRecord, now = false): void {
    for (const b of this.ownBricks(vol)) {
      this.supervisor.start(
        {
          brickPath: b.path,
          volfile: this.brickVolfilePath(vol, b),
          logFile: this.logFile(b),
          pidFile: this.pidFile(b),
        },
        { now },
      );
    }
    this.syncShd(vol);
  }

  /**
   * One self-heal daemon (`glusterts shd`) per started replicated volume, supervised like a
   * brick under the key `shd:<volume>`, unless cluster.self-heal-daemon is off.
   */
  private syncShd(vol: VolumeRecord): void {
    const key = `shd:${vol.name}`;
    const off = ['off', 'false', 'no', '0', 'disable'].includes(
      String(vol.options['cluster.self-heal-daemon']),
    );
    if (vol.status !== 'started' || !isReplicated(vol) || off || this.ownBricks(vol).length === 0) {
      if (this.supervisor.isSupervised(key)) void this.supervisor.stop(key);
      return;
    }
    const cli = fileURLToPath(new URL('../cli/main.js', import.meta.url));
    this.supervisor.start({
      brickPath: key,
      volfile: join(this.store.volumeDir(vol.name), `${vol.name}.tcp-fuse.vol`),
      logFile: join(this.store.logsDir, `shd-${vol.name}.log`),
      command: [
        process.execPath,
        ...DATA_PATH_NODE_FLAGS,
        cli,
        'shd',
        '--volume',
        vol.name,
        '--progress',
        join(this.store.dataDir, 'shd', `${vol.name}.progress.json`),
      ],
    });
  }

  /** A brick process is gone: forget its port. */
  brickGone(path: string, pid?: number): void {
    this.portmap.signout(path, pid);
  }

  private parseBrick(arg: string): VolumeBrick {
    const m = /^(?:([^:/]+):)?(\/.*)$/.exec(arg);
    if (!m) throw new VolumeOpError(`wrong brick type: ${arg}, use <HOSTNAME>:<export-dir-abs-path>`);
    const host = m[1] ?? defaultBrickHost(this.o.host);
    if (this.pooled && host !== this.o.host && ![...this.peers.values()].some((p) => p.host === host))
      throw new VolumeOpError(`Host ${host} is not in 'Peer in Cluster' state`);
    if (!this.pooled && !isReachableBrickHost(host, this.o.host))
      throw new VolumeOpError(
        `Host ${host} is not this daemon's address (${this.o.host}): clients ask the daemon at the ` +
          `brick's host for its port, so bricks must use the daemon's address ` +
          `(any local address when the daemon listens on 0.0.0.0)`,
      );
    const raw = m[2]!;
    if (raw.length > MAX_BRICK_PATH || hasUnsafeChars(raw) || !isAbsolute(raw))
      throw new VolumeOpError(
        `brick path ${JSON.stringify(raw)} is invalid: an absolute path without spaces, '#' or control characters`,
      );
    const path = posix.normalize(raw).replace(/\/+$/, '');
    if (path === '') throw new VolumeOpError('the root directory cannot be a brick');
    return { host, path };
  }
}

/** Whitespace, '#' and control characters would break the volfile's line syntax. */
function hasUnsafeChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x23 || /\s/.test(s[i]!)) return true;
  }
  return false;
}

function defaultBrickHost(daemonHost: string): string {
  return daemonHost === '0.0.0.0' || daemonHost === '::' ? '127.0.0.1' : daemonHost;
}

function isReachableBrickHost(host: string, daemonHost: string): boolean {
  if (host === daemonHost) return true;
  if (daemonHost !== '0.0.0.0' && daemonHost !== '::') return false;
  if (host === 'localhost' || host === hostname()) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === host));
}

/** `pooled`: bricks on different hosts never overlap (on a single host every brick is local). */
function checkOverlap(b: VolumeBrick, other: VolumeBrick, where: string, pooled: boolean): void {
  if (pooled && b.host !== other.host) return;
  if (b.path === other.path) throw new VolumeOpError(`Brick ${brickLabel(b)} is already part of ${where}`);
  if (b.path.startsWith(other.path + '/'))
    throw new VolumeOpError(`Brick ${brickLabel(b)} is inside brick ${brickLabel(other)} of ${where}`);
  if (other.path.startsWith(b.path + '/'))
    throw new VolumeOpError(`Brick ${brickLabel(b)} contains brick ${brickLabel(other)} of ${where}`);
}

/** The replica and arbiter counts glusterd accepts for this many bricks. */
function checkLayout(replica: number, arbiter: number, brickCount: number): void {
  if (!Number.isInteger(replica) || replica < 1)
    throw new VolumeOpError('replica count should be greater than 1');
  if (arbiter !== 0 && (arbiter !== 1 || replica !== 3))
    throw new VolumeOpError(
      'For arbiter configuration, replica count must be 2 and arbiter count must be 1. ' +
        'The 3rd brick of the replica will be the arbiter',
    );
  // Stock's CLI only says "Failed to create volume files"; the reason is glusterd's log line.
  if (brickCount % replica !== 0)
    throw new VolumeOpError(
      `Failed to create volume files: total number of bricks (${brickCount}) is not divisible ` +
        `with number of bricks per cluster (${replica})`,
    );
}

/** glusterd refuses two bricks of one replica set on one host unless forced. */
function checkReplicaHosts(bricks: readonly VolumeBrick[], replica: number): void {
  for (let i = 0; i < bricks.length; i += replica) {
    const hosts = bricks.slice(i, i + replica).map((b) => b.host);
    if (new Set(hosts).size < hosts.length)
      throw new VolumeOpError(
        'Multiple bricks of a replicate volume are present on the same server. This setup is not optimal. ' +
          'Bricks should be on different nodes to have best fault tolerant configuration. ' +
          "Use 'force' at the end of the command if you want to override this behavior. ",
      );
  }
}

/**
 * The brick program's last "glusterts brick: …" error line near the end of its log, if
 * any (a brick that cannot boot, say for a translator glusterts lacks, says why there).
 */
function lastBrickError(logFile: string): string | undefined {
  let text: string;
  try {
    const fd = openSync(logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const tail = Buffer.alloc(Math.min(size, 64 * 1024));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      text = tail.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const lines = text.split('\n').filter((l) => l.startsWith('glusterts brick: '));
  return lines.at(-1);
}

/** Checks (and with force, creates) a brick directory. Returns warnings. */
/** A brick claim refused: the volume operation's error, with glusterd's text. */
async function claimOrRefuse(claim: () => Promise<void>): Promise<void> {
  try {
    await claim();
  } catch (e) {
    throw new VolumeOpError(e instanceof BrickClaimError ? e.message : String((e as Error).message));
  }
}

function prepareBrickDir(b: VolumeBrick, force: boolean): string[] {
  if (!existsSync(b.path)) {
    if (!force)
      throw new VolumeOpError(
        `brick directory ${b.path} does not exist; create it, or use 'force' to have it created`,
      );
    mkdirSync(b.path, { recursive: true, mode: 0o755 });
    return [];
  }
  if (!statSync(b.path).isDirectory()) throw new VolumeOpError(`brick ${b.path} is not a directory`);
  if (readdirSync(b.path).length > 0) {
    if (!force)
      throw new VolumeOpError(`brick directory ${b.path} is not empty; use 'force' to use it anyway`);
    return [`brick directory ${b.path} is not empty; using it anyway (force)`];
  }
  return [];
}

/**
 * A daemon that was killed leaves its brick processes behind; the pid files name them.
 * Kills the recorded process only if its command line is a brick serving this path.
 */
function killStaleBrick(pidFile: string, brickPath: string, log: (m: string) => void): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return;
  }
  const i = argv.indexOf('--brick-name');
  if (i < 0 || argv[i + 1] !== brickPath) return;
  log(`killing brick process ${pid} left over from a previous daemon (${brickPath})`);
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Signals a process that may have just exited (ESRCH is not an error then). */
function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
