/**
 * ringIo (io_uring) must do exactly what statIo (thread pool) does: the same bytes, the
 * same stats, the same errors. Each case runs through both and compares. Skipped where the
 * kernel offers no io_uring (ringIo answers undefined, and the brick uses statIo). The ring
 * hands entries to io-wq workers (IOSQE_ASYNC) unless GLUSTERTS_RING_ASYNC=0: the file runs
 * once more in a child with that switch, so both ways of submitting are checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocAligned } from '../../src/sys/index.js';
import { native, type Binding } from '../../src/sys/native.js';
import { directIoParent, tempDir } from './helpers.js';

const dir = tempDir();
let serial = 0;
const probeFd = fs.openSync(join(dir, 'probe'), 'w+');
const probe = native().ringIo?.(probeFd, 0, [Buffer.alloc(1)], 0, 0, new BigInt64Array(26));
const skip = probe === undefined && 'no io_uring here: ringIo declines and statIo serves';
await probe;
fs.closeSync(probeFd);

type Io = Binding['statIo'];
const pool: Io = (...a) => native().statIo(...a);
const ring: Io = (...a) => {
  const p = native().ringIo?.(...a);
  assert.ok(p, 'ringIo declined an op');
  return p;
};

/** Stats minus the times, which differ between two files written one after the other. */
function shape(out: BigInt64Array): bigint[] {
  return [...out].filter((_, i) => i % 13 !== 10 && i % 13 !== 11 && i % 13 !== 12 && i % 13 > 1);
}

async function both(fn: (io: Io, fd: number) => Promise<unknown>, flags = 'w+'): Promise<void> {
  const results = [];
  for (const io of [pool, ring]) {
    const fd = fs.openSync(join(dir, `f${serial++}`), flags);
    try {
      results.push(await fn(io, fd).catch((e: NodeJS.ErrnoException) => ({ code: e.code, errno: e.errno })));
    } finally {
      fs.closeSync(fd);
    }
  }
  assert.deepEqual(results[1], results[0]);
}

test('writes (gathered, each sync mode) and reads (short, at EOF) match statIo', { skip }, async () => {
  for (const sync of [0, 1, 2] as const) {
    await both(async (io, fd) => {
      const out = new BigInt64Array(26);
      const n = await io(fd, 1, [Buffer.from('hello '), Buffer.from('world')], 4096, sync, out);
      const back = Buffer.alloc(8192);
      const rout = new BigInt64Array(26);
      const m = await io(fd, 0, [back.subarray(0, 4100), back.subarray(4100)], 0, 0, rout);
      const eof = await io(fd, 0, [Buffer.alloc(10)], 1 << 20, 0, new BigInt64Array(26));
      return { n, m, eof, data: back.subarray(4096, m).toString(), w: shape(out), r: shape(rout) };
    });
  }
});

test('errors match statIo: EBADF from a write-only fd, a closed fd', { skip }, async () => {
  await both((io, fd) => io(fd, 0, [Buffer.alloc(16)], 0, 0, new BigInt64Array(26)), 'w');
  await both(async (io) => {
    const fd = fs.openSync(join(dir, `closed${serial++}`), 'w+');
    fs.closeSync(fd);
    return io(fd, 1, [Buffer.alloc(16)], 0, 0, new BigInt64Array(26));
  });
});

test('many in flight at once: every byte lands where it was sent', { skip }, async () => {
  const fd = fs.openSync(join(dir, `many${serial++}`), 'w+');
  try {
    // More than the ring's 256 entries in one turn: a full queue is handed over early.
    const blocks = Array.from({ length: 600 }, (_, i) => Buffer.alloc(4096, i % 251));
    await Promise.all(blocks.map((b, i) => ring(fd, 1, [b], i * 4096, 0, new BigInt64Array(26))));
    const back = blocks.map(() => Buffer.alloc(4096));
    const counts = await Promise.all(
      back.map((b, i) => ring(fd, 0, [b], i * 4096, 0, new BigInt64Array(26))),
    );
    assert.ok(counts.every((n) => n === 4096));
    back.forEach((b, i) =>
      assert.ok(
        b.every((x) => x === i % 251),
        `block ${i}`,
      ),
    );
  } finally {
    fs.closeSync(fd);
  }
});

const parent = directIoParent();
test(
  'O_DIRECT with aligned memory through the ring',
  { skip: skip || (parent === undefined && 'no O_DIRECT here') },
  async () => {
    const fd = fs.openSync(
      join(tempDir(parent), 'direct'),
      fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_DIRECT,
    );
    try {
      const out = allocAligned(8192).fill(0x42);
      const stats = new BigInt64Array(26);
      assert.equal(await ring(fd, 1, [out], 4096, 2, stats), 8192);
      assert.equal(stats[7], 0n);
      assert.equal(stats[13 + 7], 12288n);
      const back = allocAligned(8192);
      assert.equal(await ring(fd, 0, [back], 4096, 0, new BigInt64Array(26)), 8192);
      assert.ok(back.every((b) => b === 0x42));
      // Unaligned memory over data (a hole is zero-filled without the check): the kernel's
      // EINVAL, as through the thread pool.
      for (const io of [pool, ring]) {
        const unaligned = Buffer.alloc(4097).subarray(1);
        await assert.rejects(io(fd, 0, [unaligned], 4096, 0, new BigInt64Array(26)), { code: 'EINVAL' });
      }
    } finally {
      fs.closeSync(fd);
    }
  },
);

test(
  'the same cases with inline submission (GLUSTERTS_RING_ASYNC=0), in a child',
  { skip: skip || (process.env.GLUSTERTS_RING_ASYNC !== undefined && 'this is that run') },
  () => {
    // Without the runner's NODE_TEST_CONTEXT the child reports in TAP, on its own.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawnSync(process.execPath, ['--test-reporter=tap', fileURLToPath(import.meta.url)], {
      env: { ...env, GLUSTERTS_RING_ASYNC: '0' },
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stdout + child.stderr);
    assert.match(child.stdout, /# pass [1-9]/);
    assert.match(child.stdout, /# fail 0/);
  },
);
