/**
 * Volume: the libgfapi role (`glfs_t`). `Volume.connect` does what glfs_new +
 * glfs_set_volfile_server (once per server) + glfs_init do: GETSPEC from the first volfile
 * server that answers, build the client graph from the volfile, wait until every
 * translator is ready (protocol/client's CHILD_UP), LOOKUP the root. The management
 * connection stays open for FETCHSPEC. `close()` is glfs_fini, minus its ten seconds.
 *
 * The calls are layered by job, each file extending the next: namespace.ts (stat, open,
 * mkdir, xattrs …), resolve.ts (paths through the inode cache), runner.ts (one fop down
 * the graph, abort, GlusterError).
 */
import { NULL_GFID, ROOT_GFID } from '../protocol/gfid.js';
import {
  Graph,
  parseVolfile,
  type Caller,
  type FopRequest,
  type TranslatorRegistry,
} from '../xlator/index.js';
import { CLIENT_TRANSLATORS } from '../xlators/client-registry.js';
import { GlusterError, abortError } from './errors.js';
import { MgmtConnection, describeServer, type VolfileServer } from './mgmt.js';
import { VolumeCalls } from './namespace.js';
import type { CallOptions } from './runner.js';
import { trimVolfile } from './stack.js';

export type { CallOptions, VolumeEvents } from './runner.js';
export type { TimeValue } from './namespace.js';

export interface VolumeOptions {
  /**
   * The trimmed client stack: keep only protocol/client, cluster/distribute and
   * debug/io-stats from the volfile (see stack.ts). Default false: the volfile as served,
   * with the pass-through stand-ins documented in docs/client.md.
   */
  trimmed?: boolean;
  /** Who the calls run as (uid, gid, groups, pid, lock owner); default: this process. */
  caller?: Partial<Caller>;
  /** Translator types by volfile `type`; default CLIENT_TRANSLATORS. */
  registry?: TranslatorRegistry;
  /** Applied to the mode of created files, directories and symlinks; default 0o022. */
  umask?: number;
  /** How long a cached (parent, name) → gfid entry is trusted; default 1000 ms, 0 = no cache. */
  entryTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface ConnectOptions extends VolumeOptions {
  /** The volume name (GETSPEC key), as given to glfs_new. */
  volume: string;
  /** Volfile servers, tried in order (glfs_set_volfile_server once per entry). */
  servers: readonly VolfileServer[];
  /** Deadline for the whole connect, and for each management call; default 30000 ms. */
  timeoutMs?: number;
}

export class Volume extends VolumeCalls {
  /** The volfile text the graph was built from (before trimming). */
  readonly volfile: string;

  private constructor(
    /** The volume name. */
    readonly name: string,
    graph: Graph,
    volfile: string,
    private readonly mgmt: MgmtConnection | undefined,
    opts: VolumeOptions,
  ) {
    super(graph, opts);
    this.volfile = volfile;
    if (mgmt) {
      mgmt.on('volfileChanged', (text) => this.emit('volfileChanged', text));
      mgmt.on('disconnected', (s) => this.emit('mgmtDisconnected', s));
      mgmt.on('reconnected', (s) => this.emit('mgmtReconnected', s));
    }
  }

  /** glfs_new + glfs_set_volfile_server×N + glfs_init. */
  static async connect(opts: ConnectOptions): Promise<Volume> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
    const registry = opts.registry ?? CLIENT_TRANSLATORS;
    let mgmt: MgmtConnection | undefined;
    try {
      mgmt = await MgmtConnection.open(opts.servers, opts.volume, { signal, timeoutMs });
      return await Volume.start(opts.volume, mgmt.volfile, mgmt, { ...opts, registry, signal });
    } catch (err) {
      mgmt?.close();
      if (deadline.aborted && !opts.signal?.aborted) {
        throw new GlusterError('ETIMEDOUT', 'glfs_init', opts.volume, {
          cause: err,
          detail: `not ready within ${timeoutMs} ms (servers ${opts.servers.map(describeServer).join(', ')})`,
        });
      }
      throw GlusterError.from(err, 'glfs_init', opts.volume);
    }
  }

  /**
   * A volume from a volfile text, without a volfile server: the graph runs in this
   * process (tests put storage/posix at the bottom; a volfile of protocol/client
   * translators reaches bricks directly, as glfs_set_volfile does).
   */
  static async fromVolfile(text: string, opts: VolumeOptions & { name?: string } = {}): Promise<Volume> {
    const registry = opts.registry ?? CLIENT_TRANSLATORS;
    return Volume.start(opts.name ?? 'local', text, undefined, { ...opts, registry });
  }

  private static async start(
    name: string,
    text: string,
    mgmt: MgmtConnection | undefined,
    opts: VolumeOptions & { registry: TranslatorRegistry },
  ): Promise<Volume> {
    let graph: Graph | undefined;
    try {
      const parsed = parseVolfile(text);
      graph = await Graph.build(opts.trimmed ? trimVolfile(parsed) : parsed, opts.registry);
      await graph.ready(opts.signal);
      const vol = new Volume(name, graph, text, mgmt, opts);
      // glfs_init ends with a LOOKUP of the root (and chdir "/").
      await vol.fop('LOOKUP', rootLookup(), { signal: opts.signal, syscall: 'glfs_init', path: '/' });
      return vol;
    } catch (err) {
      await graph?.fini().catch(() => undefined);
      if (opts.signal?.aborted) throw abortError(opts.signal, 'glfs_init', name);
      throw GlusterError.from(err, 'glfs_init', name);
    }
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Whether the management (volfile server) connection is up; false for fromVolfile volumes. */
  get mgmtConnected(): boolean {
    return this.mgmt?.connected ?? false;
  }

  /** GETSPEC again now (what FETCHSPEC triggers); resolves to whether the volfile changed. */
  async refetchVolfile(opts: CallOptions = {}): Promise<boolean> {
    if (!this.mgmt) throw new GlusterError('ENOTSUP', 'glfs_get_volfile', this.name);
    const before = this.mgmt.volfile;
    try {
      await this.mgmt.refetch(opts.signal);
    } catch (err) {
      throw GlusterError.from(err, 'glfs_get_volfile', this.name);
    }
    return this.mgmt.volfile !== before;
  }

  /**
   * glfs_fini: closes open files and directories (FLUSH, RELEASE), tears the graph down
   * (protocol/client disconnects) and closes the management connection. No timers are
   * left behind; safe to call twice.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const pending = [...this.handles].map((h) => h.close().catch(() => undefined));
      await Promise.race([Promise.all(pending), delay(2000)]);
      this.mgmt?.close();
      await this.graph.fini();
      this.cache.clear();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function rootLookup(): FopRequest<'LOOKUP'> {
  return { gfid: ROOT_GFID, pargfid: NULL_GFID, flags: 0, bname: '', xdata: null };
}

function delay(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms).unref());
}
