/** A posix-only graph over a temp brick directory, and shorthands for calling fops. */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gfuuidValue, type GfxDict } from '../../../src/protocol/dict.js';
import { FopError } from '../../../src/protocol/errno.js';
import type { FopName } from '../../../src/protocol/fops.js';
import { ROOT_GFID, randomGfid, type Gfid } from '../../../src/protocol/gfid.js';
import {
  FdTable,
  Graph,
  OpenFd,
  parseVolfile,
  type FopContext,
  type FopReply,
  type FopRequest,
} from '../../../src/xlator/index.js';
import { posix } from '../../../src/xlators/posix/index.js';

export const registry = new Map([[posix.type, posix]]);

export function context(uid = 0, gid = 0, groups: number[] = []): FopContext {
  return {
    caller: { uid, gid, groups, pid: 1, lkOwner: Buffer.alloc(8) },
    session: { id: 'test', fds: new FdTable() },
  };
}

export interface TestBrick {
  dir: string;
  graph: Graph;
  ctx: FopContext;
  call<N extends FopName>(fop: N, req: FopRequest<N>, ctx?: FopContext): Promise<FopReply<N>>;
  /** Restarts posix on the same directory (a new graph). */
  restart(options?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** Under /var/tmp (ext4 here): tmpfs lacks O_DIRECT and trusted xattrs behave alike. */
export async function makeBrick(options: Record<string, string> = {}, dir?: string): Promise<TestBrick> {
  const base =
    dir ?? (await mkdtemp(join(process.env.GLUSTERTS_POSIX_TMP ?? '/var/tmp', 'glusterts-posix-')));
  const build = (opts: Record<string, string>) =>
    Graph.build(
      parseVolfile(
        `volume b-posix\n type storage/posix\n option directory ${base}\n` +
          Object.entries(opts)
            .map(([k, v]) => ` option ${k} ${v}\n`)
            .join('') +
          'end-volume\n',
      ),
      registry,
    );
  let graph = await build(options).catch(async (e: unknown) => {
    if (!dir) await rm(base, { recursive: true, force: true });
    throw e;
  });
  const ctx = context();
  const tb: TestBrick = {
    dir: base,
    get graph() {
      return graph;
    },
    ctx,
    call: (fop, req, c) => graph.top.call(fop, req, c ?? ctx),
    async restart(opts = options) {
      await graph.fini();
      graph = await build(opts);
    },
    async close() {
      await graph.fini();
      if (!dir) await rm(base, { recursive: true, force: true });
    },
  };
  return tb;
}

export function req(gfid: Gfid = randomGfid()): GfxDict {
  return new Map([['gfid-req', gfuuidValue(gfid)]]);
}

export async function create(
  b: TestBrick,
  name: string,
  parent: Gfid = ROOT_GFID,
  flags = 0o102,
  mode = 0o644,
) {
  const gfid = randomGfid();
  const fd = new OpenFd(gfid, flags, false);
  const reply = await b.call('CREATE', {
    pargfid: parent,
    flags,
    mode,
    umask: 0o022,
    bname: name,
    xdata: req(gfid),
    fd,
  });
  return { gfid, fd, reply };
}

export async function mkdir(b: TestBrick, name: string, parent: Gfid = ROOT_GFID, mode = 0o755) {
  const gfid = randomGfid();
  const reply = await b.call('MKDIR', { pargfid: parent, mode, umask: 0o022, bname: name, xdata: req(gfid) });
  return { gfid, reply };
}

export async function open(b: TestBrick, gfid: Gfid, flags = 0o2) {
  const fd = new OpenFd(gfid, flags, false);
  await b.call('OPEN', { gfid, flags, xdata: null, fd });
  return fd;
}

export async function write(b: TestBrick, fd: OpenFd, offset: number, data: Buffer | string, flag = 0) {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  return b.call('WRITE', {
    gfid: fd.gfid,
    fd,
    offset,
    size: payload.length,
    flag,
    xdata: null,
    payload,
  } as never);
}

export async function read(b: TestBrick, fd: OpenFd, offset: number, size: number) {
  const r = (await b.call('READ', {
    gfid: fd.gfid,
    fd,
    offset,
    size,
    flag: 0,
    xdata: null,
  })) as FopReply<'READ'> & {
    payload: Buffer;
  };
  return r;
}

export async function lookup(b: TestBrick, parent: Gfid, name: string, xdata: GfxDict = null) {
  return b.call('LOOKUP', { gfid: Buffer.alloc(16), pargfid: parent, flags: 0, bname: name, xdata });
}

/** Asserts a promise rejects with a FopError of the given errno name. */
export async function fails(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FopError && e.code === code) return;
    throw new Error(`expected ${code}, got ${(e as Error).message}`, { cause: e });
  }
  throw new Error(`expected ${code}, but it succeeded`);
}
