// A features/locks instance over a fake leaf, and short helpers for lock requests.
import { randomBytes } from 'node:crypto';
import { Errno, FopError } from '../../../src/protocol/index.js';
import type { Flock } from '../../../src/protocol/structs.js';
import {
  FdTable,
  OpenFd,
  defineTranslator,
  type FopContext,
  type Session,
} from '../../../src/xlator/index.js';
import { locks, type LocksTranslator } from '../../../src/xlators/locks/index.js';
import { buildStack } from '../brick-stack.js';

export const RD = 0;
export const WR = 1;
export const UN = 2;
export const GETLK = 0;
export const SETLK = 1;
export const SETLKW = 2;
/** entrylk()'s commands (ENTRYLK_LOCK, ENTRYLK_UNLOCK, ENTRYLK_LOCK_NB). */
export const LOCK = 0;
export const UNLOCK = 1;
export const LOCK_NB = 2;

/** What reached the leaf: fop names in order. */
export const below: string[] = [];

const leaf = defineTranslator({
  type: 'test/leaf',
  options: {},
  children: 'none',
  create: () => ({
    fops: {
      async FLUSH() {
        below.push('FLUSH');
        return { xdata: null };
      },
      async RELEASE() {
        below.push('RELEASE');
        return { xdata: null };
      },
      async STAT(req) {
        below.push('STAT');
        return { xdata: null, stat: { gfid: req.gfid } as never };
      },
      async LOOKUP(req) {
        // Tests pass the entry's gfid in req.gfid even for named lookups.
        below.push('LOOKUP');
        return { xdata: null, prestat: { gfid: req.gfid } as never, poststat: {} as never };
      },
    },
  }),
});

export async function lockGraph(options: Record<string, string | number> = {}) {
  const graph = await buildStack(
    [
      { name: 'leaf', type: leaf.type },
      { name: 'locks', type: locks.type, options },
    ],
    new Map([
      [leaf.type, leaf],
      [locks.type, locks],
    ]),
  );
  const translator = graph.top.translator as LocksTranslator;
  return { graph, top: graph.top, manager: translator.manager };
}

export function session(id: string): Session {
  return { id, fds: new FdTable() };
}

/** A caller: a session and an lk_owner (8 bytes, as FUSE and gfapi send). */
export function caller(s: Session, owner: string | Buffer, signal?: AbortSignal): FopContext {
  const lkOwner = typeof owner === 'string' ? Buffer.from(owner.padEnd(8, '.')) : owner;
  return {
    caller: { uid: 0, gid: 0, groups: [], pid: 4242, lkOwner },
    session: s,
    ...(signal ? { signal } : {}),
  };
}

export function openFile(gfid: Buffer = randomBytes(16)): OpenFd {
  return new OpenFd(gfid, 2, false);
}

export function flock(type: number, start: bigint | number, len: bigint | number, pid = 7): Flock {
  return { type, whence: 0, start: BigInt(start), len: BigInt(len), pid, lkOwner: Buffer.alloc(0) };
}

type Top = Awaited<ReturnType<typeof lockGraph>>['top'];

export function lk(
  top: Top,
  ctx: FopContext,
  fd: OpenFd,
  cmd: number,
  type: number,
  start: bigint | number,
  len: bigint | number,
  pid = 7,
) {
  return top.call(
    'LK',
    { gfid: fd.gfid, fd, cmd, type, flock: flock(type, start, len, pid), xdata: null },
    ctx,
  );
}

export function inodelk(
  top: Top,
  ctx: FopContext,
  gfid: Buffer,
  domain: string,
  cmd: number,
  type: number,
  start: bigint | number,
  len: bigint | number,
) {
  return top.call(
    'INODELK',
    { gfid, cmd, type, flock: flock(type, start, len), volume: domain, xdata: null },
    ctx,
  );
}

export function entrylk(
  top: Top,
  ctx: FopContext,
  dir: Buffer,
  domain: string,
  cmd: number,
  type: number,
  name: string | null,
) {
  return top.call(
    'ENTRYLK',
    { gfid: dir, cmd, type, namelen: name === null ? 0 : 1, name: name ?? '', volume: domain, xdata: null },
    ctx,
  );
}

export function isErrno(name: keyof typeof Errno) {
  return (e: unknown) => e instanceof FopError && e.errno === Errno[name];
}

/** Lets pending promise callbacks run. */
export const settle = () => new Promise<void>((r) => setImmediate(r));

/** Tracks whether a promise has settled, without awaiting it. */
export function track<T>(p: Promise<T>) {
  const state: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (v) => Object.assign(state, { done: true, value: v }),
    (e) => Object.assign(state, { done: true, error: e }),
  );
  return state;
}
