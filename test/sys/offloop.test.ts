/** The blocking calls run on the libuv thread pool, never on the event loop. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants, openSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  fallocate,
  mknod,
  openBeneath,
  openDirectory,
  pwritev,
  S_IFIFO,
} from '../../src/sys/index.js';
import { tempDir } from './helpers.js';

const dir = tempDir();

test('a timer keeps firing while 200 concurrent fallocate/pwritev calls run', async (t) => {
  const fd = openSync(join(dir, 'busy'), 'w+');
  t.after(() => closeSync(fd));
  const chunk = Buffer.alloc(1024 * 1024, 1);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  t.after(() => clearInterval(timer));
  let settled = 0;
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    const offset = i * chunk.length;
    const call =
      i % 2 === 0
        ? pwritev(fd, [chunk.subarray(0, 4096), chunk.subarray(4096)], offset)
        : fallocate(fd, i % 4 === 1 ? 0 : FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, chunk.length);
    calls.push(call.then(() => settled++));
  }
  // Every call returned a pending promise: nothing ran synchronously.
  assert.equal(settled, 0);
  const ticksAtStart = ticks;
  await Promise.all(calls);
  assert.equal(settled, 200);
  assert.ok(ticks - ticksAtStart >= 3, `the interval fired ${ticks - ticksAtStart} times during the calls`);
});

/**
 * Opens a FIFO for writing once a reader waits in open(): before that, a non-blocking open
 * for writing fails with ENXIO, so retry.
 */
async function openWriter(path: string): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENXIO' || attempt > 1000) throw error;
      await sleep(1);
    }
  }
}

test('an openBeneath blocked in the kernel (FIFO with no writer) leaves the event loop free', async (t) => {
  await mknod(join(dir, 'fifo'), S_IFIFO | 0o600);
  const dirFd = await openDirectory(dir);
  t.after(() => closeSync(dirFd));
  let opened = false;
  // Opening a FIFO for reading waits in the kernel until a writer opens it.
  const reader = openBeneath(dirFd, 'fifo', constants.O_RDONLY).then((fd) => {
    opened = true;
    return fd;
  });
  try {
    for (let tick = 0; tick < 5; tick++) {
      await sleep(2); // timers run while the open is blocked
      assert.equal(opened, false);
    }
  } finally {
    // Become the writer; this also unblocks the thread if an assertion above failed.
    closeSync(await openWriter(join(dir, 'fifo')));
  }
  closeSync(await reader);
  assert.equal(opened, true);
});
