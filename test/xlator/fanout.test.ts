// The fan-out helper on its own: outcomes in target order, failure kinds, "enough
// answers?" rules, sequential stops (locks in order, reads falling back), the in-flight
// limit, the abort signal, and winding a fop to a translator's children.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Errno, FopError, ROOT_GFID, uintValue, zeroIatt } from '../../src/protocol/index.js';
import { Children, fanout, FdTable, Layer, Replies, type FopContext } from '../../src/xlator/index.js';

const ctx: FopContext = {
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.alloc(8) },
  session: { id: 'fanout-test', fds: new FdTable() },
};

/** Resolves `value` after `ms`, or rejects with `error`. */
const after = <T>(ms: number, value: T, error?: unknown): Promise<T> =>
  sleep(ms).then(() => {
    if (error !== undefined) throw error;
    return value;
  });

test('parallel: every target starts at once; outcomes follow target order, not completion order', async () => {
  const started: number[] = [];
  const replies = await fanout([2, 0, 1], (t) => {
    started.push(t);
    return after(30 - t * 10, `v${t}`);
  });
  assert.deepEqual(started, [2, 0, 1]);
  assert.deepEqual(
    replies.outcomes.map((o) => o.target),
    [2, 0, 1],
  );
  assert.deepEqual(replies.values(), ['v2', 'v0', 'v1']);
  assert.equal(replies.first()?.target, 2);
  assert.equal(replies.unwrap(0), 'v0');
  assert.deepEqual(replies.skipped, []);
});

test('failures are classified: errno, down (ENOTCONN), unexpected (EIO with the cause)', async () => {
  const bug = new TypeError('x is undefined');
  const answers = [
    () => Promise.resolve('ok'),
    () => Promise.reject(FopError.of('ENOENT')),
    () => Promise.reject(FopError.of('ENOTCONN', 'brick gone')),
    () => Promise.reject(bug),
  ];
  const replies = await fanout([0, 1, 2, 3], (t) => answers[t]!());
  assert.deepEqual(
    replies.failed.map((f) => [f.target, f.kind, f.error.code]),
    [
      [1, 'errno', 'ENOENT'],
      [2, 'down', 'ENOTCONN'],
      [3, 'unexpected', 'EIO'],
    ],
  );
  const unexpected = replies.get(3);
  assert.ok(unexpected && !unexpected.ok);
  assert.equal(unexpected.error.cause, bug);
  assert.deepEqual(replies.down, [2]);
  assert.throws(
    () => replies.unwrap(1),
    (e: FopError) => e.errno === Errno.ENOENT,
  );
  assert.throws(
    () => replies.unwrap(9),
    (e: FopError) => e.code === 'EIO',
  );
});

test('enough answers: all, any, a count, a predicate (AFR quorum auto)', async () => {
  const ok = (n: number, of: number) =>
    fanout(
      Array.from({ length: of }, (_, i) => i),
      (t) => (t < n ? Promise.resolve(t) : Promise.reject(FopError.of('ENOTCONN'))),
    );
  const twoOfThree = await ok(2, 3);
  assert.equal(twoOfThree.has('all'), false);
  assert.equal(twoOfThree.has('any'), true);
  assert.equal(twoOfThree.has(2), true);
  assert.equal(twoOfThree.has(3), false);

  // Quorum auto: more than half up, or exactly half including the first child.
  const quorum = (r: Replies<number>) => {
    const n = r.outcomes.length + r.skipped.length;
    const up = r.ok.length;
    return 2 * up > n || (2 * up === n && r.get(0)?.ok === true);
  };
  assert.equal(twoOfThree.has(quorum), true);
  assert.equal((await ok(1, 3)).has(quorum), false);
  assert.equal((await ok(1, 2)).has(quorum), true); // child 0 is the one up
  const secondOnly = await fanout([0, 1], (t) =>
    t === 1 ? Promise.resolve(1) : Promise.reject(FopError.of('ENOTCONN')),
  );
  assert.equal(secondOnly.has(quorum), false);

  assert.equal(twoOfThree.require('any'), twoOfThree);
  assert.throws(
    () => twoOfThree.require('all'),
    (e: FopError) => e.code === 'ENOTCONN',
  );
  assert.throws(
    () => twoOfThree.require(3, { otherwise: FopError.of('EROFS') }),
    (e: FopError) => e.code === 'EROFS',
  );
});

test('error(): the first failure in target order that `prefer` accepts, else `otherwise`, else the first', async () => {
  const replies = await fanout([0, 1, 2], (t) =>
    after(10 - t * 3, t, FopError.of((['ENOENT', 'EACCES', 'ESTALE'] as const)[t]!)),
  );
  assert.equal(replies.error().code, 'ENOENT'); // child 0, though it failed last
  const notAbsent = (e: FopError) => e.code !== 'ENOENT' && e.code !== 'ESTALE';
  assert.equal(replies.error({ prefer: notAbsent }).code, 'EACCES');
  assert.equal(
    replies.error({ prefer: (_e, kind) => kind === 'down', otherwise: FopError.of('EIO') }).code,
    'EIO',
  );
  assert.equal(new Replies<number>([]).error().code, 'EIO');
});

test('sequential, stop at first failure: locks taken in child order, none after a refusal', async () => {
  let inFlight = 0;
  const order: number[] = [];
  const replies = await fanout(
    [0, 1, 2, 3],
    async (t) => {
      assert.equal(inFlight++, 0, 'one call at a time');
      order.push(t);
      await sleep(5);
      inFlight--;
      if (t === 2) throw FopError.of('EAGAIN');
      return `lock${t}`;
    },
    { order: 'sequential', stop: 'first-failure' },
  );
  assert.deepEqual(order, [0, 1, 2]);
  assert.deepEqual(
    replies.ok.map((o) => o.target),
    [0, 1],
  ); // what to unlock
  assert.deepEqual(replies.skipped, [3]);
  assert.equal(replies.aborted, false);
  assert.equal(replies.has('all'), false); // skipped targets count against 'all'
});

test('sequential, stop at first success: a read falls back to the next child', async () => {
  const tried: number[] = [];
  const replies = await fanout(
    [1, 0, 2],
    (t) => {
      tried.push(t);
      return t === 1 ? Promise.reject(FopError.of('ENOTCONN')) : Promise.resolve(`data from ${t}`);
    },
    { order: 'sequential', stop: 'first-success' },
  );
  assert.deepEqual(tried, [1, 0]);
  assert.equal(replies.first()?.value, 'data from 0');
  assert.deepEqual(replies.skipped, [2]);
});

test('a stop predicate, and a limit on calls in flight (shard-style per-piece calls)', async () => {
  let inFlight = 0;
  let most = 0;
  const pieces = Array.from({ length: 10 }, (_, i) => i);
  const replies = await fanout(
    pieces,
    async (t) => {
      most = Math.max(most, ++inFlight);
      await sleep(2);
      inFlight--;
      return t * 2;
    },
    { limit: 3 },
  );
  assert.equal(most, 3);
  assert.deepEqual(
    replies.values(),
    pieces.map((p) => p * 2),
  );

  const stopped = await fanout(pieces, async (t) => t, {
    order: 'sequential',
    stop: (o) => o.ok && o.value === 4,
  });
  assert.deepEqual(stopped.values(), [0, 1, 2, 3, 4]);
  assert.equal(stopped.skipped.length, 5);
});

test('abort: no call starts after the signal; running calls are awaited; require says ECANCELED', async () => {
  const ac = new AbortController();
  const finished: number[] = [];
  const replies = await fanout(
    [0, 1, 2],
    async (t) => {
      if (t === 1) ac.abort();
      await sleep(5);
      finished.push(t);
      return t;
    },
    { order: 'sequential', signal: ac.signal },
  );
  assert.deepEqual(finished, [0, 1]);
  assert.deepEqual(replies.skipped, [2]);
  assert.equal(replies.aborted, true);
  assert.throws(
    () => replies.require('all'),
    (e: FopError) => e.code === 'ECANCELED',
  );
  assert.equal(replies.has(2), true);

  let called = 0;
  const none = await fanout([0, 1], async () => called++, { signal: AbortSignal.abort() });
  assert.equal(called, 0);
  assert.deepEqual(none.skipped, [0, 1]);
});

test('and(): merges two fan-outs over different targets, refuses repeats', async () => {
  const a = await fanout([2], async () => 'a');
  const b = await fanout([0, 1], async (t) => (t ? 'b' : Promise.reject(FopError.of('ENOENT'))));
  const both = a.and(b);
  assert.deepEqual(
    both.outcomes.map((o) => o.target),
    [2, 0, 1],
  );
  assert.deepEqual(both.values(), ['a', 'b']);
  assert.throws(() => both.and(a), /repeated/);
});

test('Children.wind: one fop to chosen children, the same request or one per child', async () => {
  const seen: string[] = [];
  const leaf = (name: string, fail?: FopError) =>
    new Layer(
      name,
      'test/leaf',
      {
        fops: {
          async STAT(req) {
            seen.push(`${name}:${req.xdata?.size ?? 0}`);
            if (fail) throw fail;
            return { stat: { ...zeroIatt(), gfid: req.gfid, size: name.length }, xdata: null };
          },
        },
      },
      [],
    );
  const kids = new Children([leaf('a'), leaf('bb', FopError.of('ENOTCONN')), leaf('ccc')]);
  assert.deepEqual(kids.indexes(), [0, 1, 2]);

  const all = await kids.wind('STAT', { gfid: ROOT_GFID, xdata: null }, ctx);
  assert.deepEqual(all.down, [1]);
  assert.deepEqual(
    all.values().map((r) => r.stat.size),
    [1, 3],
  );

  seen.length = 0;
  const withKeys = (i: number) => new Map(Array.from({ length: i }, (_, k) => [`k${k}`, uintValue(k)]));
  const some = await kids.wind('STAT', (i) => ({ gfid: ROOT_GFID, xdata: withKeys(i) }), ctx, {
    to: [2, 0],
    order: 'sequential',
  });
  assert.deepEqual(seen, ['ccc:2', 'a:0']);
  assert.equal(some.first()?.target, 2);

  await assert.rejects(
    kids.call(7, 'STAT', { gfid: ROOT_GFID, xdata: null }, ctx),
    (e: FopError) => e.code === 'EIO',
  );
  assert.equal(kids.layers[0]!.stats.get('STAT')?.calls, 2); // the runner's stats still count each call
});
