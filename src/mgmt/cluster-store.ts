/**
 * Where the cluster state lives: the volume records and the pool's peers.
 *
 * - LocalClusterStore: today's single-host state directory (DATA/vols/<vol>/info.json), for
 *   `glusterts up` and a daemon that was never probed. No other process involved.
 * - EtcdClusterStore: the pool's state in etcd, under /glusterts/. Every change is one etcd
 *   transaction that compares the revision of /glusterts/epoch with the one this daemon
 *   last saw and bumps it: a change made from a daemon that has not seen the latest state
 *   fails whole (StaleStateError) and nothing of it is applied. Each daemon watches the
 *   prefix and applies what every daemon (itself included) committed, in revision order.
 *   The local state directory stays as a cache of the records and volfiles.
 */
import { GlusterTsError, Errno } from '../errors/index.js';
import { EtcdClient, type EtcdKv, type EtcdOp, type EtcdWatchEvent } from './etcd.js';
import { parseVolumeRecord, type VolumeStore } from './store.js';
import type { VolumeRecord } from './volume.js';

/** A host of the pool, as every daemon records it. */
export interface PeerRecord {
  uuid: string;
  /** The address its daemon listens on (and its bricks use). */
  host: string;
  port: number;
}

/** One all-or-nothing change of the cluster state. */
export interface ClusterChange {
  putVolume?: VolumeRecord;
  removeVolume?: string;
  putPeer?: PeerRecord;
  removePeer?: string;
}

export interface ClusterWatcher {
  volume(name: string, record: VolumeRecord | undefined): void;
  peer(uuid: string, record: PeerRecord | undefined): void;
}

/** Someone else changed the state since this daemon last saw it. */
export class StaleStateError extends GlusterTsError {
  static readonly codes = ['STALE_CLUSTER_STATE'] as const;
  constructor() {
    super('STALE_CLUSTER_STATE', Errno.EAGAIN, 'the cluster state changed meanwhile');
  }
}

export interface ClusterStore {
  /** 'etcd' when the state is shared with a pool. */
  readonly kind: 'local' | 'etcd';
  /** The whole state; malformed volume records are reported and skipped. */
  load(
    onError?: (name: string, err: Error) => void,
  ): Promise<{ volumes: VolumeRecord[]; peers: PeerRecord[] }>;
  /** Applies `change` whole or not at all (StaleStateError, or the store's own error). */
  commit(change: ClusterChange): Promise<void>;
  /**
   * Tells `w` of every change committed after the last load, in order. A change this
   * daemon committed itself may come back too (when the watch outran the commit's answer).
   */
  watch(w: ClusterWatcher): void;
  close(): void;
}

export class LocalClusterStore implements ClusterStore {
  readonly kind = 'local';

  constructor(private readonly store: VolumeStore) {}

  load(
    onError?: (name: string, err: Error) => void,
  ): Promise<{ volumes: VolumeRecord[]; peers: PeerRecord[] }> {
    return Promise.resolve({ volumes: this.store.load(onError), peers: [] });
  }

  commit(change: ClusterChange): Promise<void> {
    if (change.putPeer || change.removePeer) throw new Error('a single-host daemon has no peers');
    if (change.putVolume) this.store.save(change.putVolume);
    if (change.removeVolume !== undefined) this.store.remove(change.removeVolume);
    return Promise.resolve();
  }

  watch(): void {
    // Nobody else writes a single host's state.
  }

  close(): void {}
}

const PREFIX = '/glusterts/';
const EPOCH = `${PREFIX}epoch`;
const VOLUMES = `${PREFIX}volumes/`;
const PEERS = `${PREFIX}peers/`;

export class EtcdClusterStore implements ClusterStore {
  readonly kind = 'etcd';
  /** The epoch's revision this daemon's state reflects: what a commit compares with. */
  private epochRevision = 0;
  /** Everything up to this revision has been loaded or delivered to the watcher. */
  private applied = 0;
  private stopWatch: (() => void) | undefined;
  private closed = false;

  constructor(
    readonly client: EtcdClient,
    private readonly log: (m: string) => void = () => undefined,
  ) {}

  async load(
    onError: (name: string, err: Error) => void = () => undefined,
  ): Promise<{ volumes: VolumeRecord[]; peers: PeerRecord[] }> {
    const { kvs, revision } = await this.client.range(PREFIX);
    const volumes: VolumeRecord[] = [];
    const peers: PeerRecord[] = [];
    this.epochRevision = 0;
    for (const kv of kvs) {
      if (kv.key === EPOCH) this.epochRevision = kv.modRevision;
      const v = parseVolumeKv(kv, onError);
      if (v) volumes.push(v);
      const p = parsePeerKv(kv);
      if (p) peers.push(p);
    }
    this.applied = revision;
    return { volumes: volumes.sort((a, b) => a.name.localeCompare(b.name)), peers };
  }

  async commit(change: ClusterChange): Promise<void> {
    const ops: EtcdOp[] = [{ put: EPOCH, value: new Date().toISOString() }];
    if (change.putVolume)
      ops.push({ put: VOLUMES + change.putVolume.name, value: JSON.stringify(change.putVolume) });
    if (change.removeVolume !== undefined) ops.push({ delete: VOLUMES + change.removeVolume });
    if (change.putPeer) ops.push({ put: PEERS + change.putPeer.uuid, value: JSON.stringify(change.putPeer) });
    if (change.removePeer !== undefined) ops.push({ delete: PEERS + change.removePeer });
    const r = await this.client.txn([{ key: EPOCH, modRevision: this.epochRevision }], ops);
    if (!r.succeeded) throw new StaleStateError();
    // Nothing else changed between the epoch we compared and this revision: both are seen.
    this.epochRevision = r.revision;
    this.applied = Math.max(this.applied, r.revision);
  }

  watch(w: ClusterWatcher): void {
    const start = () => {
      if (this.closed) return;
      this.stopWatch = this.client.watch(
        PREFIX,
        this.applied + 1,
        (events) => this.deliver(events, w),
        (err) => {
          if (this.closed) return;
          this.log(`etcd watch ended${err ? `: ${err.message}` : ''}; restarting`);
          setTimeout(start, 1000).unref();
        },
      );
    };
    start();
  }

  private deliver(events: EtcdWatchEvent[], w: ClusterWatcher): void {
    // Our own commits were applied when they returned; one transaction's keys share a revision.
    const seen = this.applied;
    for (const { type, kv } of events) {
      if (kv.modRevision <= seen) continue;
      this.applied = Math.max(this.applied, kv.modRevision);
      if (kv.key === EPOCH) {
        this.epochRevision = Math.max(this.epochRevision, kv.modRevision);
      } else if (kv.key.startsWith(VOLUMES)) {
        const name = kv.key.slice(VOLUMES.length);
        w.volume(
          name,
          type === 'delete' ? undefined : parseVolumeKv(kv, (n, e) => this.log(`volume ${n}: ${e.message}`)),
        );
      } else if (kv.key.startsWith(PEERS)) {
        w.peer(kv.key.slice(PEERS.length), type === 'delete' ? undefined : parsePeerKv(kv));
      }
    }
  }

  close(): void {
    this.closed = true;
    this.stopWatch?.();
  }
}

function parseVolumeKv(kv: EtcdKv, onError: (name: string, err: Error) => void): VolumeRecord | undefined {
  if (!kv.key.startsWith(VOLUMES)) return undefined;
  const name = kv.key.slice(VOLUMES.length);
  try {
    return parseVolumeRecord(JSON.parse(kv.value), name);
  } catch (err) {
    onError(name, err instanceof Error ? err : new Error(String(err)));
    return undefined;
  }
}

function parsePeerKv(kv: EtcdKv): PeerRecord | undefined {
  if (!kv.key.startsWith(PEERS)) return undefined;
  try {
    const p = JSON.parse(kv.value) as Record<string, unknown>;
    if (typeof p.uuid !== 'string' || typeof p.host !== 'string' || typeof p.port !== 'number')
      return undefined;
    return { uuid: p.uuid, host: p.host, port: p.port };
  } catch {
    return undefined;
  }
}
