// A one-layer client graph (a volfile with just protocol/client) and short fop helpers,
// shared by the live suites (glusterts and stock bricks) and the hostile-server suite.
import assert from 'node:assert/strict';
import {
  dict,
  gfuuidValue,
  randomGfid,
  ROOT_GFID,
  NULL_GFID,
  FopError,
  type Iatt,
} from '../../../src/protocol/index.js';
import {
  FdTable,
  Graph,
  OpenFd,
  parseVolfile,
  type FopContext,
  type FopReply,
  type Layer,
} from '../../../src/xlator/index.js';
import { client, type ClientTranslator } from '../../../src/xlators/client/index.js';

export const REGISTRY = new Map([[client.type, client]]) as Parameters<typeof Graph.build>[1];

export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const MiB = 1024 * 1024;

export interface BuiltClient {
  graph: Graph;
  top: Layer;
  xl: ClientTranslator;
}

/** Builds `volume NAME / type protocol/client / option …` and starts it (not waiting). */
export async function buildClient(
  options: Record<string, string | number>,
  name = 'c0',
): Promise<BuiltClient> {
  const lines = Object.entries(options).map(([k, v]) => `    option ${k} ${v}`);
  const text = [`volume ${name}`, '    type protocol/client', ...lines, 'end-volume', ''].join('\n');
  const graph = await Graph.build(parseVolfile(text), REGISTRY, { strictOptions: true });
  return { graph, top: graph.top, xl: graph.top.translator as ClientTranslator };
}

export function ctx(signal?: AbortSignal): FopContext {
  return {
    caller: { uid: 0, gid: 0, groups: [], pid: process.pid, lkOwner: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) },
    session: { id: 'test', fds: new FdTable() },
    ...(signal ? { signal } : {}),
  };
}

export function lookupRoot(top: Layer): Promise<FopReply<'LOOKUP'>> {
  return top.call('LOOKUP', { gfid: ROOT_GFID, pargfid: NULL_GFID, flags: 0, bname: '', xdata: null }, ctx());
}

export function lookup(top: Layer, bname: string): Promise<FopReply<'LOOKUP'>> {
  return top.call('LOOKUP', { gfid: NULL_GFID, pargfid: ROOT_GFID, flags: 0, bname, xdata: null }, ctx());
}

/** CREATE bname in the root with a fresh gfid-req; resolves the new OpenFd and its gfid. */
export async function create(top: Layer, bname: string): Promise<{ fd: OpenFd; gfid: Buffer; stat: Iatt }> {
  const gfid = randomGfid();
  const flags = O_RDWR | O_CREAT | O_EXCL;
  const fd = new OpenFd(gfid, flags, false);
  const reply = await top.call(
    'CREATE',
    {
      pargfid: ROOT_GFID,
      flags,
      mode: 0o100644,
      umask: 0o022,
      bname,
      xdata: dict({ 'gfid-req': gfuuidValue(gfid) }),
      fd,
    },
    ctx(),
  );
  assert.ok(reply.stat.gfid.equals(gfid), 'the brick used gfid-req');
  return { fd, gfid, stat: reply.stat };
}

export function write(top: Layer, fd: OpenFd, offset: number, chunks: Buffer[]): Promise<FopReply<'WRITE'>> {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  return top.call('WRITE', { gfid: fd.gfid, fd, offset, size, flag: 0, xdata: null, payload: chunks }, ctx());
}

export function read(top: Layer, fd: OpenFd, offset: number, size: number): Promise<FopReply<'READ'>> {
  return top.call('READ', { gfid: fd.gfid, fd, offset, size, flag: 0, xdata: null }, ctx());
}

export function fstat(top: Layer, fd: OpenFd): Promise<FopReply<'FSTAT'>> {
  return top.call('FSTAT', { gfid: fd.gfid, fd, xdata: null }, ctx());
}

export async function close(top: Layer, fd: OpenFd): Promise<void> {
  await top.call('FLUSH', { gfid: fd.gfid, fd, xdata: null }, ctx());
  await top.call('RELEASE', { gfid: fd.gfid, fd, xdata: null }, ctx());
}

/** Asserts a promise rejects with FopError of the errno name. */
export async function rejectsWith(p: Promise<unknown>, code: string, what = ''): Promise<FopError> {
  let caught: unknown;
  await p.then(
    () => assert.fail(`${what}: expected ${code}, it succeeded`),
    (e: unknown) => (caught = e),
  );
  assert.ok(caught instanceof FopError, `${what}: a FopError, got ${String(caught)}`);
  assert.equal(caught.code, code, `${what}: ${caught.message}`);
  return caught;
}

/** Times a promise out with a clear message instead of hanging the suite. */
export function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang)`)), ms);
    }),
  ]);
}
