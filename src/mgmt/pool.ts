/**
 * The pool of hosts (stock's trusted storage pool): `peer probe`, `peer detach`,
 * `peer status`, `pool list`, and the etcd member that keeps the pool's state.
 *
 * A daemon starts alone, with its local state directory as the cluster store. The first
 * probe it makes turns it into a pool: it starts an etcd member on its own address, copies
 * its volumes and itself into it and follows the etcd store from then on. Each probed host
 * joins as an etcd learner (no vote until it caught up), is promoted to a voting member,
 * then takes the pool's state as its own. A daemon restarted on a state directory that
 * holds an etcd member starts it again and rejoins.
 */
import { Errno, GlusterTsError } from '../errors/index.js';
import { rmSync } from 'node:fs';
import net from 'node:net';
import { RpcClient } from '../rpc/client.js';
import { RpcError } from '../rpc/errors.js';
import { encodeCredential, glusterV2 } from '../rpc/auth.js';
import { callProcedure } from '../protocol/call.js';
import { EtcdClusterStore, LocalClusterStore, type PeerRecord } from './cluster-store.js';
import { EtcdClient, type EtcdMember } from './etcd.js';
import {
  EtcdMemberProcess,
  clientUrl,
  etcdDataDir,
  hasEtcdMember,
  peerUrl,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
} from './etcd-member.js';
import type { VolumeManager } from './manager.js';
import { PEER_PROGRAM_ID, PeerProcs, parseHello, type PeerHello, type PeerReply } from './peer-program.js';
import type { VolumeStore } from './store.js';

export const GLUSTERD_PORT = 24007;

export interface PoolOptions {
  store: VolumeStore;
  manager: VolumeManager;
  uuid: string;
  /** The daemon's listening address and port. */
  host: string;
  port: number;
  etcdClientPort?: number;
  etcdPeerPort?: number;
  etcdProgram?: string;
  log: (m: string) => void;
}

/** A refused pool operation: the message is what the CLI prints after "failed: ". */
export class PoolOpError extends GlusterTsError {
  static readonly codes = ['POOL_OP_FAILED'] as const;
  constructor(message: string) {
    super('POOL_OP_FAILED', Errno.EINVAL, message);
  }
}

export interface PeerState extends PeerRecord {
  connected: boolean;
  self: boolean;
}

const PROBE_TIMEOUT_MS = 5000;

export class Pool {
  private member: EtcdMemberProcess | undefined;
  /** One probe or detach at a time. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: PoolOptions) {}

  private get clientPort(): number {
    return this.o.etcdClientPort ?? ETCD_CLIENT_PORT;
  }

  private get peerPort(): number {
    return this.o.etcdPeerPort ?? ETCD_PEER_PORT;
  }

  private one<T>(op: () => Promise<T>): Promise<T> {
    const run = this.busy.then(op, op);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /**
   * At start-up: the cluster store to restore from. A state directory with an etcd member
   * is a pool host: its member is started again (it needs a quorum of the pool to answer).
   */
  async boot(): Promise<EtcdClusterStore | undefined> {
    if (!hasEtcdMember(this.o.store.dataDir)) return undefined;
    this.member = await this.startMember();
    return new EtcdClusterStore(this.member.client, this.o.log);
  }

  private startMember(join?: { initialCluster: string }): Promise<EtcdMemberProcess> {
    return EtcdMemberProcess.start({
      data: this.o.store.dataDir,
      name: this.o.uuid,
      host: this.o.host,
      clientPort: this.clientPort,
      peerPort: this.peerPort,
      ...(join ? { join } : {}),
      ...(this.o.etcdProgram ? { program: this.o.etcdProgram } : {}),
    });
  }

  hello(): PeerHello {
    return {
      uuid: this.o.uuid,
      host: this.o.host,
      port: this.o.port,
      volumes: this.o.manager.list().length,
      pooled: this.o.manager.pooled,
    };
  }

  /** `peer probe HOST[:PORT]`: the CLI's success text, or PoolOpError. */
  probe(target: string): Promise<string> {
    return this.one(async () => {
      const { host, port } = parseHostPort(target);
      if (this.o.host === '0.0.0.0' || this.o.host === '::')
        throw new PoolOpError(
          `this daemon listens on ${this.o.host}: start it with --host set to the address other hosts reach it on`,
        );
      if (host === this.o.host && port === this.o.port) return 'Probe on localhost not needed';
      if (this.o.manager.peerList().some((p) => p.host === host && p.port === port))
        return `Host ${host} port ${port} already in peer list`;
      const loopback = this.o.manager
        .list()
        .flatMap((v) => v.bricks.map((b) => ({ v, b })))
        .find(({ b }) => isLoopbackOne(b.host));
      if (loopback || isLoopbackOne(this.o.host))
        throw new PoolOpError(
          loopback
            ? `volume ${loopback.v.name} has a brick on ${loopback.b.host}, which other hosts cannot reach; ` +
                'a pool is formed from a daemon on a routable address (see docs/pool.md)'
            : `this daemon listens on ${this.o.host}, which other hosts cannot reach`,
        );
      const hello = await peerHello(host, port);
      if (hello.uuid === this.o.uuid) return 'Probe on localhost not needed';
      if (this.o.manager.peerList().some((p) => p.uuid === hello.uuid))
        return `Host ${host} port ${port} already in peer list`;
      if (hello.volumes > 0 || hello.pooled)
        throw new PoolOpError(
          `${host} is either already part of another cluster or having volumes configured`,
        );
      if (!this.o.manager.pooled) await this.formPool();
      await this.addMember({ uuid: hello.uuid, host, port });
      return 'success';
    });
  }

  /** This host becomes a one-member pool holding its own volumes. */
  private async formPool(): Promise<void> {
    this.o.log('forming a pool: starting an etcd member and copying the volumes into it');
    const member = await this.startMember();
    try {
      const store = new EtcdClusterStore(member.client, this.o.log);
      const { volumes } = await store.load();
      if (volumes.length > 0) throw new Error('the new etcd member already holds volumes');
      await store.commit({ putPeer: { uuid: this.o.uuid, host: this.o.host, port: this.o.port } });
      for (const v of this.o.manager.list()) await store.commit({ putVolume: v });
      await this.o.manager.useCluster(store);
      this.member = member;
    } catch (err) {
      await member.stop();
      rmSync(etcdDataDir(this.o.store.dataDir), { recursive: true, force: true });
      throw new PoolOpError(`could not form a pool: ${(err as Error).message}`);
    }
  }

  /** The etcd learner dance, then the peer record; undone on failure. */
  private async addMember(peer: PeerRecord): Promise<void> {
    const etcd = this.etcd();
    const url = peerUrl(peer.host, this.peerPort);
    let added: { id: string; members: EtcdMember[] };
    try {
      // etcd refuses a new member until every member has been connected for a few seconds
      // ("unhealthy cluster"): right after the previous probe, it is asked again.
      added = await retry(
        () => etcd.addLearner(url),
        (e) => /unhealthy cluster/.test(e.message),
        20_000,
      );
    } catch (err) {
      throw new PoolOpError(`the pool's etcd did not add ${peer.host}: ${(err as Error).message}`);
    }
    const initialCluster = added.members
      .map((m) => `${m.id === added.id || !m.name ? peer.uuid : m.name}=${m.peerUrls[0]}`)
      .join(',');
    try {
      await peerCall(peer.host, peer.port, PeerProcs.JOIN, { initialCluster }, 30_000);
      await this.promote(etcd, added.id);
      await this.o.manager.commitPeer({ putPeer: peer });
      await peerCall(peer.host, peer.port, PeerProcs.ATTACH, {}, 30_000);
    } catch (err) {
      this.o.log(`probe of ${peer.host} failed, removing its etcd member: ${(err as Error).message}`);
      await etcd.removeMember(added.id).catch(() => undefined);
      if (this.o.manager.peerList().some((p) => p.uuid === peer.uuid))
        await this.o.manager.commitPeer({ removePeer: peer.uuid }).catch(() => undefined);
      await peerCall(peer.host, peer.port, PeerProcs.LEAVE, {}, 10_000).catch(() => undefined);
      throw new PoolOpError(`${peer.host} could not join the pool: ${(err as Error).message}`);
    }
  }

  /** A learner is promoted once it has caught up with the leader. */
  private promote(etcd: EtcdClient, id: string): Promise<void> {
    return retry(
      () => etcd.promote(id),
      (e) => /not in sync|unhealthy|too many learners|not ready/.test(e.message),
      20_000,
    );
  }

  private etcd(): EtcdClient {
    if (!this.member) throw new PoolOpError('this host is not in a pool');
    return this.member.client;
  }

  /** JOIN from the probing host: start this host's member as a learner of the pool. */
  join(initialCluster: string): Promise<void> {
    return this.one(async () => {
      if (this.o.manager.pooled || this.member) throw new PoolOpError('already part of a pool');
      if (this.o.manager.list().length > 0) throw new PoolOpError('this host has volumes configured');
      // A learner answers status calls only; the state is read after ATTACH.
      this.member = await this.startMember({ initialCluster });
    });
  }

  /** ATTACH: the member votes now; the pool's state becomes this host's. */
  attach(): Promise<void> {
    return this.one(async () => {
      if (!this.member) throw new PoolOpError('JOIN first');
      if (!this.o.manager.pooled)
        await this.o.manager.useCluster(new EtcdClusterStore(this.member.client, this.o.log));
    });
  }

  /** LEAVE: this host was detached (or its join undone): back to a single host. */
  leave(): Promise<void> {
    return this.one(async () => {
      if (this.o.manager.pooled) await this.o.manager.useCluster(new LocalClusterStore(this.o.store));
      await this.member?.stop();
      this.member = undefined;
      rmSync(etcdDataDir(this.o.store.dataDir), { recursive: true, force: true });
    });
  }

  /** `peer detach HOST`: refused while the host has bricks, as stock. */
  detach(target: string): Promise<string> {
    return this.one(async () => {
      const { host } = parseHostPort(target);
      if (host === this.o.host) throw new PoolOpError(`${host} is localhost`);
      const peer = this.o.manager.peerList().find((p) => p.host === host);
      if (!peer) throw new PoolOpError(`${host} is not part of cluster`);
      if (this.o.manager.list().some((v) => v.bricks.some((b) => b.host === host)))
        throw new PoolOpError(
          `Peer ${host} hosts one or more bricks. If the peer is in not recoverable state then use either ` +
            'replace-brick or remove-brick command with force to remove all bricks from the peer and attempt ' +
            'the peer detach again.',
        );
      const etcd = this.etcd();
      // The member goes first: a detach that fails half way is finished by the next one.
      const member = (await etcd.members()).find((m) => m.name === peer.uuid);
      if (member)
        await retry(
          () => etcd.removeMember(member.id),
          (e) => /unhealthy cluster/.test(e.message),
          20_000,
        ).catch((err: Error) => {
          throw new PoolOpError(`the pool's etcd did not remove ${host}: ${err.message}`);
        });
      await this.o.manager.commitPeer({ removePeer: peer.uuid });
      await peerCall(peer.host, peer.port, PeerProcs.LEAVE, {}, 10_000).catch((err: Error) =>
        this.o.log(`detached ${host} did not answer LEAVE (${err.message}); its etcd member was removed`),
      );
      return 'success';
    });
  }

  /** Every host of the pool (this one included) and whether its daemon answers. */
  async status(): Promise<PeerState[]> {
    const peers = this.o.manager.peerList();
    const list = peers.length ? peers : [{ uuid: this.o.uuid, host: this.o.host, port: this.o.port }];
    return Promise.all(
      list.map(async (p) => {
        const self = p.uuid === this.o.uuid;
        return { ...p, self, connected: self || (await tcpAnswers(p.host, p.port, 1000)) };
      }),
    );
  }

  /** The etcd client endpoint of this host's member (undefined on a single host). */
  get etcdEndpoint(): string | undefined {
    return this.member ? clientUrl(this.o.host, this.clientPort) : undefined;
  }

  async close(): Promise<void> {
    await this.busy.catch(() => undefined);
    await this.member?.stop();
    this.member = undefined;
  }
}

/** Runs `op` again every 300 ms while it fails with an error `transient` accepts, until `ms`. */
async function retry<T>(op: () => Promise<T>, transient: (e: Error) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof Error) || !transient(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** `HOST`, `HOST:PORT`, `[V6]:PORT`; the port defaults to glusterd's. */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9][A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))?$/.exec(s);
  const port = m?.[3] === undefined ? GLUSTERD_PORT : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new PoolOpError(`${s} is not HOST[:PORT]`);
  return { host: m[1] ?? m[2]!, port };
}

function isLoopbackOne(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

type JsonProc = (typeof PeerProcs)['HELLO' | 'JOIN' | 'ATTACH' | 'LEAVE'];

async function peerCall(
  host: string,
  port: number,
  proc: JsonProc,
  body: unknown,
  timeoutMs: number,
): Promise<unknown> {
  const client = await RpcClient.connect({ host, port }, { timeoutMs });
  try {
    const reply = await callProcedure(
      client,
      PEER_PROGRAM_ID,
      proc,
      { json: JSON.stringify(body) },
      { cred: encodeCredential(glusterV2(process.pid)), timeoutMs },
    );
    const r = JSON.parse(reply.json) as PeerReply;
    if (!r.ok) throw new Error(r.error);
    return r.result;
  } finally {
    client.close();
  }
}

/** HELLO, with the refusals a probe gives for what is not a glusterts daemon. */
async function peerHello(host: string, port: number): Promise<PeerHello> {
  let client: RpcClient;
  try {
    client = await RpcClient.connect({ host, port }, { timeoutMs: PROBE_TIMEOUT_MS });
  } catch {
    throw new PoolOpError('Probe returned with Transport endpoint is not connected');
  }
  try {
    const reply = await callProcedure(
      client,
      PEER_PROGRAM_ID,
      PeerProcs.HELLO,
      { json: '{}' },
      { cred: encodeCredential(glusterV2(process.pid)), timeoutMs: PROBE_TIMEOUT_MS },
    );
    return parseHello(reply.json);
  } catch (err) {
    if (err instanceof RpcError && (err.code === 'PROG_UNAVAIL' || err.code === 'PROG_MISMATCH'))
      throw new PoolOpError(
        `${host}:${port} is a GlusterFS daemon but not a glusterts one; a glusterts pool has glusterts daemons only`,
      );
    throw new PoolOpError(`${host}:${port} did not answer as a glusterts daemon (${(err as Error).message})`);
  } finally {
    client.close();
  }
}
