// The translator runner: pass-through by default, handlers see `next`, stack order is
// the volfile's, unknown types and bad options are refused with the volume named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errno, FopError, ROOT_GFID, zeroIatt } from '../../src/protocol/index.js';
import {
  FdTable,
  Graph,
  GraphError,
  defineTranslator,
  parseVolfile,
  type FopContext,
  type TranslatorRegistry,
} from '../../src/xlator/index.js';

const trace: string[] = [];

/** The identity translator: implements nothing, so everything passes through. */
const identity = defineTranslator({
  type: 'debug/identity',
  options: {},
  children: 'one',
  create: () => ({ fops: {} }),
});

/** Records the order layers see a STAT in, on the way down and up. */
const tracer = defineTranslator({
  type: 'debug/trace',
  options: { label: { type: 'string', default: '?', description: 'name in the trace' } },
  children: 'one',
  create: ({ options }) => ({
    fops: {
      async STAT(req, _ctx, next) {
        trace.push(`${options.label}>`);
        const reply = await next(req);
        trace.push(`<${options.label}`);
        return reply;
      },
    },
  }),
});

/** A leaf that answers STAT and LOOKUP and nothing else. */
const leaf = defineTranslator({
  type: 'storage/fake',
  options: { size: { type: 'size', default: 0, description: 'reported size' } },
  children: 'none',
  create: ({ options }) => ({
    fops: {
      async STAT(req) {
        trace.push('leaf');
        return { xdata: null, stat: { ...zeroIatt(), gfid: req.gfid, size: options.size } };
      },
      async LOOKUP() {
        throw FopError.of('ENOENT');
      },
    },
  }),
});

const registry: TranslatorRegistry = new Map([identity, tracer, leaf].map((t) => [t.type, t]));
const ctx: FopContext = {
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.alloc(4) },
  session: { id: 's', fds: new FdTable() },
};

const VOLFILE = `
volume v-leaf
    type storage/fake
    option size 4KB
end-volume
volume v-inner
    type debug/trace
    option label inner
    subvolumes v-leaf
end-volume
volume v-id
    type debug/identity
    subvolumes v-inner
end-volume
volume v-outer
    type debug/trace
    option label outer
    subvolumes v-id
end-volume
`;

test('fops flow top-down through handlers and pass-through layers, replies bottom-up', async () => {
  const graph = await Graph.build(parseVolfile(VOLFILE), registry);
  trace.length = 0;
  const reply = await graph.top.call('STAT', { gfid: ROOT_GFID, xdata: null }, ctx);
  assert.equal(reply.stat.size, 4096, 'size option parsed with its unit');
  assert.deepEqual(trace, ['outer>', 'inner>', 'leaf', '<inner', '<outer']);
  assert.equal(graph.find('v-id')!.stats.get('STAT')!.calls, 1, 'pass-through layers count too');
});

test('errors propagate as FopError; a fop no layer implements is ENOSYS naming the leaf', async () => {
  const graph = await Graph.build(parseVolfile(VOLFILE), registry);
  await assert.rejects(
    graph.top.call('LOOKUP', { gfid: ROOT_GFID, pargfid: ROOT_GFID, flags: 0, bname: 'x', xdata: null }, ctx),
    (e: unknown) => e instanceof FopError && e.errno === Errno.ENOENT,
  );
  await assert.rejects(
    graph.top.call('STATFS', { gfid: ROOT_GFID, xdata: null }, ctx),
    (e: unknown) => e instanceof FopError && e.code === 'ENOSYS' && /v-leaf/.test(e.message),
  );
  assert.equal(graph.top.stats.get('LOOKUP')!.errors, 1);
});

test('unknown translator types, bad options and wrong child counts are refused, naming the volume', async () => {
  await assert.rejects(
    Graph.build(parseVolfile('volume x\n type performance/nonesuch\nend-volume'), registry),
    (e: unknown) =>
      e instanceof GraphError &&
      /volume x: translator type performance\/nonesuch is not implemented/.test(e.message),
  );
  await assert.rejects(
    Graph.build(parseVolfile('volume x\n type storage/fake\n option size lots\nend-volume'), registry),
    /volume x: option size: expected a size/,
  );
  await assert.rejects(
    Graph.build(parseVolfile('volume x\n type debug/identity\nend-volume'), registry),
    /needs exactly one subvolume/,
  );
  await assert.rejects(
    Graph.build(parseVolfile('volume x\n type storage/fake\n option bogus 1\nend-volume'), registry, {
      strictOptions: true,
    }),
    /unknown options bogus/,
  );
});
