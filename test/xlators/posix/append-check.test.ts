// AppendChecks: write-is-append answers in arrival order while the writes' IO runs in parallel
// and completes in any order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppendChecks } from '../../../src/xlators/posix/append-check.js';

function tempFile(t: { after: (fn: () => void) => void }, size: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'append-check-'));
  const fd = openSync(join(dir, 'f'), 'w+');
  if (size > 0) writeSync(fd, Buffer.alloc(size));
  t.after(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
  return fd;
}

/** A write whose IO finishes when `finish` is called, reporting a (stale) pre-stat size. */
function pendingIo(bytes: number, preSize: bigint) {
  let finish!: (fail?: Error) => void;
  const io = () =>
    new Promise<{ bytes: number; preSize: bigint }>((resolve, reject) => {
      finish = (fail) => (fail ? reject(fail) : resolve({ bytes, preSize }));
    });
  return { io, finish: (fail?: Error) => finish(fail) };
}

test('sequential appends in flight together are all appends, whatever order they complete in', async (t) => {
  const fd = tempFile(t, 100);
  const checks = new AppendChecks();
  const ios = [0, 1, 2, 3].map(() => pendingIo(10, 0n));
  const runs = ios.map((w, i) => checks.run('g', fd, 100 + 10 * i, 10, w.io));
  await new Promise((r) => setImmediate(r));
  for (const i of [3, 1, 0, 2]) ios[i]!.finish();
  const done = await Promise.all(runs);
  assert.deepEqual(
    done.map((d) => d.sizeBefore),
    [100n, 110n, 120n, 130n],
  );
});

test('same-offset writes in flight together: only the first started at EOF; inside the file none did', async (t) => {
  const fd = tempFile(t, 50);
  const checks = new AppendChecks();
  const ios = [0, 1, 2].map(() => pendingIo(4096, 50n));
  const runs = ios.map((w) => checks.run('g', fd, 50, 4096, w.io));
  const inside = pendingIo(10, 50n);
  const insideRun = checks.run('g', fd, 0, 10, inside.io);
  await new Promise((r) => setImmediate(r));
  inside.finish();
  for (const w of ios) w.finish();
  const sizes = (await Promise.all([...runs, insideRun])).map((d) => d.sizeBefore);
  assert.deepEqual(sizes, [50n, 4146n, 4146n, 4146n]);
  // Each file has its own order; once idle, a new run starts from the file's real size.
  const other = pendingIo(1, 0n);
  const otherRun = checks.run('h', fd, 50, 1, other.io);
  other.finish();
  assert.equal((await otherRun).sizeBefore, 50n);
});

test('after a failed write the next answers from its own pre-stat, and a new run starts', async (t) => {
  const fd = tempFile(t, 10);
  const checks = new AppendChecks();
  const a = pendingIo(5, 10n);
  const b = pendingIo(5, 12n);
  const ra = checks.run('g', fd, 10, 5, a.io);
  const rb = checks.run('g', fd, 15, 5, b.io);
  await new Promise((r) => setImmediate(r));
  a.finish(new Error('EIO'));
  await assert.rejects(ra, /EIO/);
  b.finish();
  assert.equal((await rb).sizeBefore, 12n);
  const c = pendingIo(5, 0n);
  const rc = checks.run('g', fd, 10, 5, c.io);
  c.finish();
  assert.equal((await rc).sizeBefore, 10n, 'fstat of the file: nothing was written to it here');
});
