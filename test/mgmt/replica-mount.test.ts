// The volume service end to end for a replicated volume: `volume create … replica 3
// arbiter 1 … force` and `volume start` on the glusterts daemon with the real brick
// program, then the stock FUSE client mounts it from the daemon (GETSPEC gives it our
// client volfile with cluster/replicate; its own AFR does the replication) and a file
// written through it lands on both data bricks and, as a name without data, on the arbiter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountFuse, requirePeer } from '../../src/peers/index.js';
import { REAL_BRICK, startTestDaemon } from './support.js';

const HOST = '127.0.0.30';

test('stock FUSE client on a glusterts replica 3 arbiter 1 volume made by the volume service', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  assert.ok(existsSync(REAL_BRICK), 'the real brick program is built');
  const td = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 15_000,
  });
  let unmount: (() => Promise<void>) | undefined;
  try {
    const dirs = ['d0', 'd1', 'a2'].map((n) => td.brickDir(n));
    await td.daemon.volumes.create('rm', dirs, true, { replica: 3, arbiter: 1 });
    assert.deepEqual((await td.daemon.volumes.start('rm')).warnings, [], 'every brick signed in');
    unmount = await mountFuse(HOST, 'rm', join(td.data, 'mnt'), {
      port: td.daemon.address.port,
      extraArgs: ['--attribute-timeout=0', '--entry-timeout=0'],
    });
    const data = randomBytes(1 << 20);
    writeFileSync(join(td.data, 'mnt', 'image.raw'), data);
    assert.ok(readFileSync(join(td.data, 'mnt', 'image.raw')).equals(data), 'read back through the mount');
    await unmount();
    unmount = undefined;
    for (const d of dirs.slice(0, 2))
      assert.ok(readFileSync(join(d, 'image.raw')).equals(data), `data brick ${d} holds the file`);
    assert.equal(statSync(join(dirs[2]!, 'image.raw')).size, 0, 'the arbiter keeps the name, not the data');
  } finally {
    await unmount?.();
    await td.cleanup();
  }
});
