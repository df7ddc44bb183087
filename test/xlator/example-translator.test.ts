// The example of docs/translators.md, run: a read-only filter over a real storage/posix
// brick in a temp directory. The section between the two markers is the documentation's
// code block, byte for byte (the last test checks it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gfuuidValue, randomGfid, ROOT_GFID } from '../../src/protocol/index.js';
import {
  FdTable,
  Graph,
  OpenFd,
  parseVolfile,
  type FopContext,
  type TranslatorRegistry,
  type TranslatorType,
} from '../../src/xlator/index.js';
import { posix } from '../../src/xlators/posix/index.js';

// --- example: start
import { FopError } from '../../src/protocol/index.js';
import { defineTranslator } from '../../src/xlator/index.js';

/** The access mode bits of GF_O_* open flags (O_RDONLY is 0). */
const O_ACCMODE = 0o3;

/** Refuses changes with EROFS (a few fops, to stay short); everything else passes through. */
export const readOnly = defineTranslator({
  type: 'example/read-only',
  children: 'one',
  options: {
    'read-only': { type: 'bool', default: true, description: 'refuse changes with EROFS' },
  },
  create({ options }) {
    if (!options['read-only']) return { fops: {} }; // nothing changed: all pass through
    const refuse = async () => {
      throw FopError.of('EROFS');
    };
    return {
      fops: {
        CREATE: refuse,
        MKDIR: refuse,
        UNLINK: refuse,
        RMDIR: refuse,
        RENAME: refuse,
        WRITE: refuse,
        SETATTR: refuse,
        SETXATTR: refuse,
        // A handler that decides per request: read-only opens go on down.
        async OPEN(req, _ctx, next) {
          if ((req.flags & O_ACCMODE) !== 0) throw FopError.of('EROFS', 'opened for writing');
          return next(req);
        },
      },
    };
  },
});
// --- example: end

const ctx: FopContext = {
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.alloc(8) },
  session: { id: 'example', fds: new FdTable() },
};

/** posix on a fresh directory under /var/tmp (trusted xattrs), the example on top. */
async function graphWith(option: string): Promise<{ graph: Graph; close(): Promise<void> }> {
  const dir = await mkdtemp(join('/var/tmp', 'glusterts-example-'));
  const volfile = parseVolfile(`
volume ex-posix
    type storage/posix
    option directory ${dir}
end-volume

volume ex-ro
    type example/read-only
    option read-only ${option}
    subvolumes ex-posix
end-volume
`);
  const registry: TranslatorRegistry = new Map<string, TranslatorType<any>>([
    [posix.type, posix],
    [readOnly.type, readOnly],
  ]);
  const graph = await Graph.build(volfile, registry, { strictOptions: true }).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    graph,
    async close() {
      await graph.fini();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const mkdir = (bname: string) => ({
  pargfid: ROOT_GFID,
  bname,
  mode: 0o755,
  umask: 0,
  xdata: new Map([['gfid-req', gfuuidValue(randomGfid())]]),
});

test('read-only on: changes fail EROFS, reads pass through to posix, the runner counts both', async (t) => {
  const { graph, close } = await graphWith('on');
  t.after(close);
  const top = graph.top;
  assert.equal(top.type, 'example/read-only');

  const root = await top.call(
    'LOOKUP',
    { gfid: ROOT_GFID, pargfid: ROOT_GFID, flags: 0, bname: '', xdata: null },
    ctx,
  );
  assert.ok(root.prestat.gfid.equals(ROOT_GFID));
  await assert.rejects(top.call('MKDIR', mkdir('d'), ctx), (e: FopError) => e.code === 'EROFS');
  await assert.rejects(top.call('UNLINK', { pargfid: ROOT_GFID, bname: 'x', xflags: 0, xdata: null }, ctx), {
    code: 'EROFS',
  });

  const readFd = new OpenFd(ROOT_GFID, 0, false);
  await assert.rejects(top.call('OPEN', { gfid: ROOT_GFID, flags: 0o2, xdata: null, fd: readFd }, ctx), {
    code: 'EROFS',
  });
  const statfs = await top.call('STATFS', { gfid: ROOT_GFID, xdata: null }, ctx);
  assert.ok(statfs.statfs.bsize > 0n);

  const mkdirs = top.stats.get('MKDIR')!;
  assert.deepEqual([mkdirs.calls, mkdirs.errors], [1, 1]);
  assert.equal(graph.find('ex-posix')!.stats.get('MKDIR'), undefined, 'never reached the brick');
  assert.equal(graph.find('ex-posix')!.stats.get('STATFS')?.calls, 1);
});

test('read-only off: the same graph creates directories on the brick', async (t) => {
  const { graph, close } = await graphWith('off');
  t.after(close);
  const made = await graph.top.call('MKDIR', mkdir('d'), ctx);
  assert.equal(made.stat.mode & 0o170000, 0o040000);
});

test('a bad option value is refused when the graph is built, naming the volume', async () => {
  await assert.rejects(graphWith('maybe'), /volume ex-ro: option read-only: expected on\/off/);
});

test('docs/translators.md shows this example byte for byte', async () => {
  const source = await readFile(
    new URL('../../../test/xlator/example-translator.test.ts', import.meta.url),
    'utf8',
  );
  const example = /\/\/ --- example: start\n([\s\S]*?)\/\/ --- example: end\n/.exec(source)?.[1];
  const docs = await readFile(new URL('../../../docs/translators.md', import.meta.url), 'utf8');
  const block = /<!-- example: test\/xlator\/example-translator\.test\.ts -->\n+```ts\n([\s\S]*?)```\n/.exec(
    docs,
  )?.[1];
  assert.ok(example, 'markers in the test file');
  assert.ok(block, 'the marked ts block in docs/translators.md');
  assert.equal(block, example);
});
