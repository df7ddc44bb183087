/**
 * The first layer of Volume (volume.ts → namespace.ts → resolve.ts → runner.ts, each
 * extending the next): runs one fop down the client graph as the volume's caller and
 * session. Every async call takes `{ signal }`; an aborted call rejects with ECANCELED at
 * once (a late OPEN/OPENDIR reply is released). Failures are thrown as GlusterError, never
 * returned as op_ret.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { defaultLkOwner } from '../rpc/auth.js';
import type { FopName } from '../protocol/fops.js';
import {
  FdTable,
  openedFd,
  type Caller,
  type FopContext,
  type FopReply,
  type FopRequest,
  type Graph,
  type OpenFd,
} from '../xlator/index.js';
import { GlusterError, abortError } from './errors.js';

export interface CallOptions {
  signal?: AbortSignal;
}

export interface VolumeEvents {
  /** glusterd sent FETCHSPEC and the volfile differs. The running graph is kept (docs/client.md). */
  volfileChanged: [text: string];
  /** The management connection dropped; reconnection is tried every 3 s. */
  mgmtDisconnected: [server: string];
  mgmtReconnected: [server: string];
}

/** Where a call comes from, for its GlusterError: the glfs_* name and the path. */
export type Where = { signal?: AbortSignal | undefined; syscall: string; path?: string | undefined };

export abstract class FopRunner extends EventEmitter<VolumeEvents> {
  /** Set once close() starts; only FLUSH and RELEASE(DIR) run after it. */
  protected closing: Promise<void> | undefined;
  private readonly ctx: FopContext;

  protected constructor(
    /** The running client graph; graph.top is where fops enter. */
    readonly graph: Graph,
    /** Who the calls run as; default: this process. */
    caller: Partial<Caller> = {},
  ) {
    super();
    const pid = caller.pid ?? process.pid;
    this.ctx = {
      caller: {
        uid: caller.uid ?? process.getuid?.() ?? 0,
        gid: caller.gid ?? process.getgid?.() ?? 0,
        groups: caller.groups ?? process.getgroups?.() ?? [],
        pid,
        lkOwner: caller.lkOwner ?? defaultLkOwner(pid),
      },
      session: { id: `glusterts-client-${randomUUID()}`, fds: new FdTable() },
    };
  }

  /**
   * Runs one fop down the graph (the layer every method here uses; public for tools and
   * tests). Failures become GlusterError naming `syscall` and `path`.
   */
  async fop<N extends FopName>(name: N, req: FopRequest<N>, where: Where): Promise<FopReply<N>> {
    const { signal, syscall, path } = where;
    if (this.closing && name !== 'RELEASE' && name !== 'RELEASEDIR' && name !== 'FLUSH') {
      throw new GlusterError('EBADF', syscall, path, { detail: 'the volume is closed' });
    }
    if (signal?.aborted) throw abortError(signal, syscall, path);
    const ctx: FopContext = signal ? { ...this.ctx, signal } : this.ctx;
    const running = this.graph.top.call(name, req, ctx);
    try {
      return signal ? await raceAbort(running, signal) : await running;
    } catch (err) {
      const fd = signal?.aborted ? openedFd(name, req) : undefined;
      if (fd) {
        // The layer below may still open it: release what arrives late.
        running.then(
          () => this.release(fd),
          () => undefined,
        );
      }
      if (signal?.aborted) throw abortError(signal, syscall, path);
      throw GlusterError.from(err, syscall, path);
    }
  }

  /** RELEASE / RELEASEDIR, never failing (stock: it cannot fail). */
  async release(fd: OpenFd): Promise<void> {
    const where = { syscall: 'glfs_close' };
    const req = { gfid: fd.gfid, fd, xdata: null };
    await (fd.isDirectory ? this.fop('RELEASEDIR', req, where) : this.fop('RELEASE', req, where)).catch(
      () => undefined,
    );
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
