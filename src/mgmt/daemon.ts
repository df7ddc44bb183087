/**
 * The management daemon (the glusterd role).
 *
 * On TCP HOST:PORT (and optionally a unix socket, for `gluster+unix://`) it serves what
 * GlusterFS clients and bricks ask glusterd for:
 *
 *     GF-DUMP            DUMP (lists GF-DUMP, Portmap, Handshake), PING
 *     Gluster Portmap    PORTBYBRICK, SIGNIN, SIGNOUT
 *     Gluster Handshake  GETSPEC, GET_VOLUME_INFO, EVENT_NOTIFY, PING
 *
 * and sends FETCHSPEC to every connection that fetched a volume's volfile when the volume
 * changes. The CLI's private program is served on DATA/cli.socket only. Volumes, their
 * volfiles and bricks are the VolumeManager's; the pool of hosts (peer probe, the etcd
 * member) is the Pool's, whose daemon-to-daemon program is served on the TCP port too
 * (left out of DUMP's list). See docs/pool.md.
 */
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import {
  RpcServer,
  type AdmissionLimits,
  type PreAuthLimits,
  type RpcConnection,
  type RpcProgram,
} from '../rpc/index.js';
import {
  CallbackProcs,
  gfDumpProgram,
  Errno,
  HandshakeProcs,
  PortmapProcs,
  Program,
  legacyDict,
  legacyString,
  pingResult,
  procedureHandler,
  signinTokenOf,
  writeBrickSignin,
} from '../protocol/index.js';
import { CLI_PROGRAM_ID, CliProcs, parseCliRequest, type CliReply, type CliRequest } from './cli-program.js';
import { VolumeManager } from './manager.js';
import { PEER_PROGRAM_ID, PeerProcs, type PeerReply } from './peer-program.js';
import { Pool, PoolOpError } from './pool.js';
import { PortmapTable } from './portmap.js';
import { VolumeStore } from './store.js';
import { DATA_PATH_NODE_FLAGS } from './node-flags.js';
import { BrickSupervisor } from './supervisor.js';

export interface DaemonOptions {
  /** The state directory (created if missing). */
  data: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** A unix socket to serve the glusterd programs on as well (for `gluster+unix://`). */
  socketPath?: string;
  /**
   * argv prefix that runs a brick. Default: this node running dist/bundle/brick.js (or
   * dist/src/brick/main.js when the bundle is missing or stale), or the JS file named by
   * $GLUSTERTS_BRICK_PROGRAM.
   */
  brickCommand?: readonly string[];
  /** Brick supervision timings (tests shorten them). */
  brickStopGraceMs?: number;
  brickRestartMinMs?: number;
  brickRestartMaxMs?: number;
  signinTimeoutMs?: number;
  /** The pool's etcd member: client and peer ports on the daemon's address (2379, 2380). */
  etcdClientPort?: number;
  etcdPeerPort?: number;
  /** The etcd program (default `etcd` on PATH). */
  etcdProgram?: string;
  /** Connection and byte bounds on the glusterd programs (docs/limits.md). */
  limits?: Partial<Omit<AdmissionLimits, 'preAuth'>> & { preAuth?: Partial<PreAuthLimits> };
  log?: (message: string) => void;
}

/**
 * Nothing sent to the daemon is large (GETSPEC, PORTBYBRICK, SIGNIN, EVENT_NOTIFY): a
 * record mark above this closes the connection before a byte is buffered.
 */
const MGMT_MAX_RECORD = 1024 * 1024;
/**
 * Connections that fetched a volfile or signed a brick in count as authenticated: clients
 * keep theirs open, silent, for FETCHSPEC. Others (PORTBYBRICK, DUMP) are short-lived and
 * get the pre-authentication bounds, without a deadline.
 */
const MGMT_PRE_AUTH: Partial<PreAuthLimits> = { idleMs: 60_000, deadlineMs: 0 };

/** The volfile keys each management connection fetched, for FETCHSPEC. */
interface MgmtConnState {
  fetched: Set<string>;
}

/** Bound on how many distinct volumes one connection is remembered to have fetched. */
const MAX_FETCHED_PER_CONN = 256;

export function defaultBrickCommand(): string[] {
  const override = process.env.GLUSTERTS_BRICK_PROGRAM;
  return [process.execPath, ...DATA_PATH_NODE_FLAGS, override ? resolve(override) : brickScript()];
}

/**
 * The brick's entry: the one-file bundle `npm run build` makes (scripts/bundle-brick.mjs;
 * about half the start-up CPU of loading ~110 modules, and a heal waits for a returning
 * brick's start) while it is at least as new as the compiled entry, else the entry itself
 * (tsc rewrites every output: a `tsc` run since then left the bundle stale).
 */
function brickScript(): string {
  const entry = fileURLToPath(new URL('../brick/main.js', import.meta.url));
  const bundle = fileURLToPath(new URL('../../bundle/brick.js', import.meta.url));
  try {
    if (statSync(bundle).mtimeMs >= statSync(entry).mtimeMs) return bundle;
  } catch {
    // No bundle (a tsc-only build).
  }
  return entry;
}

export interface DaemonEvents {
  /** A GETSPEC was answered: the key as sent, and the volume it named (undefined: ENOENT). */
  getspec: [key: string, volume: string | undefined];
  /** A PORTBYBRICK was answered: the brick asked for and the port given (undefined: -1). */
  portbybrick: [brick: string, port: number | undefined];
}

export class Daemon extends EventEmitter<DaemonEvents> {
  /** The TCP address actually bound. */
  readonly address: { host: string; port: number };
  readonly volumes: VolumeManager;
  readonly portmap: PortmapTable;
  readonly store: VolumeStore;
  readonly supervisor: BrickSupervisor;
  readonly pool: Pool;
  private readonly rpc: RpcServer<MgmtConnState>;
  private readonly cli: RpcServer;
  private readonly cliSocket: string;
  private closing: Promise<void> | undefined;

  private constructor(parts: {
    address: { host: string; port: number };
    volumes: VolumeManager;
    portmap: PortmapTable;
    store: VolumeStore;
    supervisor: BrickSupervisor;
    pool: Pool;
    rpc: RpcServer<MgmtConnState>;
    cli: RpcServer;
  }) {
    super();
    this.address = parts.address;
    this.volumes = parts.volumes;
    this.portmap = parts.portmap;
    this.store = parts.store;
    this.supervisor = parts.supervisor;
    this.pool = parts.pool;
    this.rpc = parts.rpc;
    this.cli = parts.cli;
    this.cliSocket = parts.store.cliSocketPath;
  }

  /** Programs listed by DUMP, in order. */
  get programs(): readonly RpcProgram<MgmtConnState>[] {
    return this.rpc.programs;
  }

  static async start(opts: DaemonOptions): Promise<Daemon> {
    const log = opts.log ?? ((m: string) => console.error(`glusterts mgmt: ${m}`));
    const data = resolve(opts.data);
    mkdirSync(data, { recursive: true, mode: 0o700 });
    const store = new VolumeStore(data);
    await claimCliSocket(store.cliSocketPath);
    store.daemonUuid();

    const rpc = new RpcServer<MgmtConnState>({
      onError: (err) => log(`call failed: ${String(err)}`),
      maxRecordSize: MGMT_MAX_RECORD,
      admission: { ...opts.limits, preAuth: { ...MGMT_PRE_AUTH, ...opts.limits?.preAuth } },
      log,
    });
    const portmap = new PortmapTable();
    // The manager and supervisor need the bound port, known only after listen.
    const late = {} as { manager: VolumeManager; pool: Pool; supervisor: BrickSupervisor; daemon?: Daemon };
    const fetchers = new Map<string, Set<RpcConnection<MgmtConnState>>>();
    /** Connections that fetched a volume's self-heal daemon volfile (`shd/NAME`): its shds. */
    const healers = new Map<string, Set<RpcConnection<MgmtConnState>>>();
    const notify = (volume: string) => {
      for (const conn of new Set([...(fetchers.get(volume) ?? []), ...(healers.get(volume) ?? [])]))
        conn.sendCallback(Program.CALLBACK.prog, Program.CALLBACK.vers, CallbackProcs.FETCHSPEC.proc);
      if (!late.manager.get(volume)) {
        fetchers.delete(volume);
        healers.delete(volume);
      }
    };
    registerGlusterdPrograms(rpc, {
      volfileFor: (key) => {
        const found = late.manager.volfileFor(key);
        late.daemon?.emit('getspec', key, found?.volume);
        return found;
      },
      volumeId: (name) => late.manager.get(name)?.id,
      portOf: (brick) => {
        const port = portmap.get(brick)?.port;
        late.daemon?.emit('portbybrick', brick, port);
        return port;
      },
      signin: (brick, port, pid, token) => {
        if (!late.manager.acceptsSignin(brick) || port < 1 || port > 65535) return false;
        if (!token || !late.supervisor.tokenMatches(brick, token)) {
          rpc.admission.hit('portmap-token', `SIGNIN of ${brick} without its brick's token refused`);
          return false;
        }
        portmap.signin(brick, { port, pid });
        // The volume's self-heal daemons connect to the brick now, not at their next retry.
        const volume = late.manager.volumeOfBrick(brick)?.name;
        for (const conn of (volume && healers.get(volume)) || [])
          conn.sendCallback(
            Program.CALLBACK.prog,
            Program.CALLBACK.vers,
            CallbackProcs.EVENT_NOTIFY.proc,
            (w) => writeBrickSignin(w, brick, port),
          );
        return true;
      },
      signout: (brick, token) => {
        if (!token || !late.supervisor.tokenMatches(brick, token)) {
          rpc.admission.hit('portmap-token', `SIGNOUT of ${brick} without its brick's token refused`);
          return false;
        }
        portmap.signout(brick);
        return true;
      },
      fetched: (conn, volume, key) => {
        const state = (conn.state ??= { fetched: new Set() });
        // A self-heal daemon's fetch is remembered apart: it also hears of brick sign-ins.
        const shd = key.replace(/^\/+/, '').startsWith('shd/');
        const tag = shd ? `shd/${volume}` : volume;
        if (state.fetched.has(tag) || state.fetched.size >= MAX_FETCHED_PER_CONN) return;
        if (state.fetched.size === 0)
          conn.onClose(() => {
            for (const t of state.fetched)
              if (t.startsWith('shd/')) healers.get(t.slice(4))?.delete(conn);
              else fetchers.get(t)?.delete(conn);
          });
        state.fetched.add(tag);
        const add = (map: Map<string, Set<RpcConnection<MgmtConnState>>>) => {
          let set = map.get(volume);
          if (!set) map.set(volume, (set = new Set()));
          set.add(conn);
        };
        add(shd ? healers : fetchers);
      },
    });

    registerPeerProgram(rpc, () => late.pool);

    const servers: net.Server[] = [];
    try {
      servers.push(await rpc.listen({ host: opts.host, port: opts.port }));
      if (opts.socketPath) {
        if (existsSync(opts.socketPath)) await removeStaleSocket(opts.socketPath);
        servers.push(await rpc.listen({ path: opts.socketPath }));
      }
    } catch (err) {
      await rpc.close();
      throw err;
    }
    const bound = servers[0]!.address() as net.AddressInfo;
    const address = { host: opts.host, port: bound.port };
    const mgmtHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;

    const supervisor = new BrickSupervisor({
      command: opts.brickCommand ?? defaultBrickCommand(),
      mgmt: `${mgmtHost}:${address.port}`,
      ...(opts.brickStopGraceMs !== undefined ? { stopGraceMs: opts.brickStopGraceMs } : {}),
      ...(opts.brickRestartMinMs !== undefined ? { restartMinMs: opts.brickRestartMinMs } : {}),
      ...(opts.brickRestartMaxMs !== undefined ? { restartMaxMs: opts.brickRestartMaxMs } : {}),
      onExit: (brick, pid) => late.manager.brickGone(brick, pid),
      log,
    });
    late.supervisor = supervisor;
    late.manager = new VolumeManager(store, supervisor, portmap, {
      host: opts.host,
      port: address.port,
      onVolfileChange: notify,
      log,
      ...(opts.signinTimeoutMs !== undefined ? { signinTimeoutMs: opts.signinTimeoutMs } : {}),
    });

    late.pool = new Pool({
      store,
      manager: late.manager,
      uuid: store.daemonUuid(),
      host: opts.host,
      port: address.port,
      log,
      ...(opts.etcdClientPort !== undefined ? { etcdClientPort: opts.etcdClientPort } : {}),
      ...(opts.etcdPeerPort !== undefined ? { etcdPeerPort: opts.etcdPeerPort } : {}),
      ...(opts.etcdProgram !== undefined ? { etcdProgram: opts.etcdProgram } : {}),
    });

    const cli = new RpcServer({ onError: (err) => log(`cli call failed: ${String(err)}`) });
    cli.register({
      ...CLI_PROGRAM_ID,
      name: 'glusterts CLI',
      procs: {
        [CliProcs.NULL.proc]: () => undefined,
        [CliProcs.REQUEST.proc]: procedureHandler(CliProcs.REQUEST, async ({ json }) => ({
          json: JSON.stringify(await handleCli(late.manager, late.pool, json)),
        })),
      },
    });
    const daemon = new Daemon({
      address,
      volumes: late.manager,
      portmap,
      store,
      supervisor,
      pool: late.pool,
      rpc,
      cli,
    });
    late.daemon = daemon;
    try {
      await cli.listen({ path: store.cliSocketPath });
      chmodSync(store.cliSocketPath, 0o600);
      await late.manager.restore(await late.pool.boot());
    } catch (err) {
      await daemon.close();
      throw err;
    }
    return daemon;
  }

  /** Stops the bricks, then the servers. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.cli.close();
      await this.volumes.shutdown();
      await this.pool.close();
      await this.rpc.close();
      try {
        unlinkSync(this.cliSocket);
      } catch {
        // already gone
      }
    })();
    return this.closing;
  }
}

/** Compatibility with the embryonic daemon's entry point. */
export function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  return Daemon.start(opts);
}

interface GlusterdHooks {
  volfileFor(key: string): { volume: string; spec: string } | undefined;
  volumeId(name: string): string | undefined;
  portOf(brick: string): number | undefined;
  /** `token`: the brick process's sign-in token from the call's verifier (signin.ts). */
  signin(brick: string, port: number, pid: number, token: Buffer | undefined): boolean;
  signout(brick: string, token: Buffer | undefined): boolean;
  /** A GETSPEC of `key` answered with `volume`'s volfile on `conn`. */
  fetched(conn: RpcConnection<MgmtConnState>, volume: string, key: string): void;
}

/** GF-DUMP, Portmap and Handshake, registered in the order DUMP lists them. */
function registerGlusterdPrograms(rpc: RpcServer<MgmtConnState>, hooks: GlusterdHooks): void {
  rpc.register(gfDumpProgram(rpc, (p) => p.prog !== PEER_PROGRAM_ID.prog));
  rpc.register({
    ...Program.PORTMAP,
    name: 'Gluster Portmap',
    procs: {
      [PortmapProcs.NULL.proc]: () => undefined,
      [PortmapProcs.PORTBYBRICK.proc]: procedureHandler(PortmapProcs.PORTBYBRICK, ({ brick }) => {
        const port = hooks.portOf(brick);
        return port === undefined
          ? { opRet: -1, opErrno: 0, status: 0, port: 0 }
          : { opRet: 0, opErrno: 0, status: 0, port };
      }),
      [PortmapProcs.SIGNIN.proc]: procedureHandler(PortmapProcs.SIGNIN, ({ brick, port, pid }, ctx) => {
        if (!hooks.signin(brick, port, pid, signinTokenOf(ctx.header.verf)))
          return { opRet: -1, opErrno: Errno.ENOENT };
        ctx.conn.authenticate();
        return { opRet: 0, opErrno: 0 };
      }),
      [PortmapProcs.SIGNOUT.proc]: procedureHandler(PortmapProcs.SIGNOUT, ({ brick }, ctx) =>
        hooks.signout(brick, signinTokenOf(ctx.header.verf))
          ? { opRet: 0, opErrno: 0 }
          : { opRet: -1, opErrno: Errno.EPERM },
      ),
    },
  });
  rpc.register({
    ...Program.HANDSHAKE,
    name: 'Gluster Handshake',
    procs: {
      [HandshakeProcs.NULL.proc]: () => undefined,
      [HandshakeProcs.GETSPEC.proc]: procedureHandler(HandshakeProcs.GETSPEC, ({ key }, ctx) => {
        const found = hooks.volfileFor(key);
        if (!found) return { opRet: -1, opErrno: Errno.ENOENT, spec: '', xdata: new Map() };
        hooks.fetched(ctx.conn, found.volume, key);
        ctx.conn.authenticate();
        return { opRet: Buffer.byteLength(found.spec), opErrno: 0, spec: found.spec, xdata: new Map() };
      }),
      [HandshakeProcs.PING.proc]: procedureHandler(HandshakeProcs.PING, pingResult),
      [HandshakeProcs.EVENT_NOTIFY.proc]: procedureHandler(HandshakeProcs.EVENT_NOTIFY, () => ({
        opRet: 0,
        opErrno: 0,
        dict: new Map(),
      })),
      [HandshakeProcs.GET_VOLUME_INFO.proc]: procedureHandler(HandshakeProcs.GET_VOLUME_INFO, ({ dict }) => {
        const name = legacyString(dict, 'volname');
        const id = name === undefined ? undefined : hooks.volumeId(name.replace(/^\/+/, ''));
        if (id === undefined)
          return { opRet: -1, opErrno: Errno.ENOENT, opErrstr: 'volume not found', dict: new Map() };
        return { opRet: 0, opErrno: 0, opErrstr: '', dict: legacyDict({ volume_id: id }) };
      }),
    },
  });
}

/** The pool's daemon-to-daemon program (peer-program.ts). */
function registerPeerProgram(rpc: RpcServer<MgmtConnState>, pool: () => Pool): void {
  const json =
    (run: (body: Record<string, unknown>) => Promise<unknown> | unknown) =>
    async ({ json: text }: { json: string }) => {
      let reply: PeerReply;
      try {
        const body = JSON.parse(text) as unknown;
        if (typeof body !== 'object' || body === null) throw new Error('bad request');
        reply = { ok: true, result: (await run(body as Record<string, unknown>)) ?? null };
      } catch (err) {
        reply = { ok: false, error: (err as Error).message };
      }
      return { json: JSON.stringify(reply) };
    };
  rpc.register({
    ...PEER_PROGRAM_ID,
    name: 'glusterts pool',
    procs: {
      [PeerProcs.NULL.proc]: () => undefined,
      [PeerProcs.HELLO.proc]: procedureHandler(
        PeerProcs.HELLO,
        json(() => pool().hello()),
      ),
      [PeerProcs.JOIN.proc]: procedureHandler(
        PeerProcs.JOIN,
        json((b) => {
          if (typeof b.initialCluster !== 'string') throw new Error('JOIN needs initialCluster');
          return pool().join(b.initialCluster);
        }),
      ),
      [PeerProcs.ATTACH.proc]: procedureHandler(
        PeerProcs.ATTACH,
        json(() => pool().attach()),
      ),
      [PeerProcs.LEAVE.proc]: procedureHandler(
        PeerProcs.LEAVE,
        json(() => pool().leave()),
      ),
    },
  });
}

async function handleCli(manager: VolumeManager, pool: Pool, json: string): Promise<CliReply> {
  let req: CliRequest;
  try {
    req = parseCliRequest(json);
  } catch (err) {
    return { ok: false, error: `bad request: ${(err as Error).message}` };
  }
  try {
    switch (req.op) {
      case 'create': {
        const r = await manager.create(req.name, req.bricks, req.force, {
          replica: req.replica ?? 1,
          arbiter: req.arbiter ?? 0,
        });
        return { ok: true, result: r.volume, warnings: r.warnings };
      }
      case 'start': {
        const r = await manager.start(req.name, req.force);
        return { ok: true, result: r.volume, warnings: r.warnings };
      }
      case 'stop':
        return { ok: true, result: (await manager.stop(req.name)).volume };
      case 'delete':
        return { ok: true, result: (await manager.delete(req.name)).volume };
      case 'set': {
        const r = await manager.set(req.name, req.key, req.value);
        return { ok: true, result: r.volume, warnings: r.warnings };
      }
      case 'get':
        return { ok: true, result: manager.getOptions(req.name, req.key) };
      case 'reset': {
        const r = await manager.reset(req.name, req.key);
        return { ok: true, result: r.volume, warnings: r.warnings };
      }
      case 'info':
        if (req.name !== undefined && !manager.get(req.name))
          return { ok: false, error: `Volume ${req.name} does not exist` };
        return { ok: true, result: req.name === undefined ? manager.list() : [manager.get(req.name)] };
      case 'status':
        return { ok: true, result: manager.status(req.name) };
      case 'peer-probe':
        return { ok: true, result: await pool.probe(req.host) };
      case 'peer-detach':
        return { ok: true, result: await pool.detach(req.host) };
      case 'peer-status':
        return { ok: true, result: await pool.status() };
    }
  } catch (err) {
    if (err instanceof PoolOpError) return { ok: false, error: err.message };
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The CLI socket doubles as the state directory's lock: a socket that answers means a
 * daemon already runs on this directory; one that does not is left over and removed.
 */
async function claimCliSocket(path: string): Promise<void> {
  if (Buffer.byteLength(path) > 107)
    throw new Error(`state directory path too long for its unix socket (${path}); use a shorter --data`);
  if (!existsSync(path)) return;
  if (await answers(path))
    throw new Error(`another glusterts daemon is running on this state directory (${path})`);
  unlinkSync(path);
}

async function removeStaleSocket(path: string): Promise<void> {
  if (await answers(path)) throw new Error(`${path} is in use by another server`);
  unlinkSync(path);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const s = net.connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolveAnswer(true);
    });
    s.once('error', () => resolveAnswer(false));
  });
}
