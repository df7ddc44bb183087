import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FdBudget,
  FdTable,
  OpenFd,
  OptionError,
  parseOptions,
  parseSize,
  describeOptions,
} from '../../src/xlator/index.js';
import { FopError } from '../../src/protocol/index.js';

test('options parse with GlusterFS syntax and defaults; bad values name the key', () => {
  const schema = {
    'cache-size': { type: 'size', default: 1024, max: 1 << 30, description: 'bytes' },
    'flush-behind': { type: 'bool', default: true, description: '' },
    mode: { type: 'enum', default: 'a', values: ['a', 'b'], description: '' },
    directory: { type: 'required-string', description: '' },
  } as const;
  const { options, unknown } = parseOptions(
    schema,
    new Map([
      ['cache-size', '32MB'],
      ['flush-behind', 'off'],
      ['directory', '/b'],
      ['x', 'y'],
    ]),
  );
  assert.deepEqual(options, { 'cache-size': 32 << 20, 'flush-behind': false, mode: 'a', directory: '/b' });
  assert.deepEqual(unknown, ['x']);
  assert.throws(
    () =>
      parseOptions(
        schema,
        new Map([
          ['directory', '/b'],
          ['mode', 'c'],
        ]),
      ),
    (e: unknown) => e instanceof OptionError && /option mode/.test(e.message),
  );
  assert.throws(() => parseOptions(schema, new Map()), /option directory is required/);
  assert.throws(
    () =>
      parseOptions(
        schema,
        new Map([
          ['directory', '/b'],
          ['cache-size', '2GB'],
        ]),
      ),
    /above maximum/,
  );
  assert.equal(parseSize('4k'), 4096);
  assert.equal(parseSize('12'), 12);
  assert.equal(parseSize('1 TB'), 1024 ** 4);
  assert.equal(parseSize('-1'), undefined);
  assert.match(describeOptions(schema), /\| cache-size \| size \| 1024 \|/);
});

test('fd table hands out the lowest free number from 0 and is bounded', () => {
  const t = new FdTable(3);
  const fd = () => new OpenFd(Buffer.alloc(16), 0, false);
  assert.equal(t.allocate(fd()), 0);
  assert.equal(t.allocate(fd()), 1);
  assert.equal(t.allocate(fd()), 2);
  assert.throws(
    () => t.allocate(fd()),
    (e: unknown) => e instanceof FopError && e.code === 'EMFILE',
  );
  t.release(1);
  assert.equal(t.allocate(fd()), 1);
  assert.equal(t.get(-2), undefined);
  assert.equal(t.get(7), undefined);
  assert.equal(t.drain().length, 3);
  assert.equal(t.size, 0);
});

test('fd tables share a brick-wide budget, reuse the lowest free number, and number nothing once drained', () => {
  const budget = new FdBudget(4);
  const a = new FdTable(3, budget);
  const b = new FdTable(3, budget);
  const fd = () => new OpenFd(Buffer.alloc(16), 0, false);
  const emfile = (e: unknown) => e instanceof FopError && e.code === 'EMFILE';
  assert.deepEqual([a.allocate(fd()), a.allocate(fd()), a.allocate(fd())], [0, 1, 2]);
  assert.equal(b.allocate(fd()), 0);
  assert.throws(() => b.checkRoom(), emfile, 'the budget is spent');
  assert.throws(() => b.allocate(fd()), emfile);
  a.release(0);
  a.release(2);
  assert.equal(budget.open, 2);
  assert.equal(a.allocate(fd()), 0, 'lowest free first');
  assert.equal(a.allocate(fd()), 2);
  assert.equal(a.drain().length, 3);
  assert.equal(budget.open, 1);
  assert.throws(
    () => a.allocate(fd()),
    (e: unknown) => e instanceof FopError && e.code === 'EBADF',
    'an OPEN finishing after the session ended is refused',
  );
  // Many opens and closes stay cheap: no scan from 0 for each.
  const big = new FdTable(100_000);
  for (let i = 0; i < 70_000; i++) big.allocate(fd());
  assert.equal(big.size, 70_000);
});
