import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountFuse, portByBrick, requirePeer, startStockGluster } from './stock-gluster.js';

function mounted(p: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === p);
}

test('private stock glusterd: volume up, FUSE mount, clean stop', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'glusterts-stock-test-'));
  const hostLibBefore = existsSync('/var/lib/glusterd/geo-replication');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const g = await startStockGluster({ dir, bricks: 2 });
  let unmount: (() => Promise<void>) | undefined;
  const mp = join(dir, 'mnt');
  try {
    assert.equal(g.port, 24007);
    assert.equal(g.brickPaths.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.ok(g.brickPort(i) > 0);
      assert.equal(await portByBrick(g.host, g.brickPaths[i]!), g.brickPort(i));
    }
    assert.equal(await portByBrick(g.host, '/no/such/brick'), 0);
    // glusterd binds the given address only.
    const ss = readFileSync('/proc/net/tcp', 'utf8');
    assert.ok(!/ 00000000:5DC7 00000000:0000 0A /.test(ss), 'glusterd must not listen on 0.0.0.0:24007');

    unmount = await mountFuse(g.host, g.volume, mp);
    assert.ok(mounted(mp));
    writeFileSync(join(mp, 'hello.txt'), 'hello\n');
    assert.equal(readFileSync(join(mp, 'hello.txt'), 'utf8'), 'hello\n');
    const onBrick = g.brickPaths.some((b) => existsSync(join(b, 'hello.txt')));
    assert.ok(onBrick, 'file landed on a brick');
    await unmount();
    assert.ok(!mounted(mp));
  } finally {
    await unmount?.();
    await g.stop();
  }
  assert.equal(
    existsSync('/var/lib/glusterd/geo-replication'),
    hostLibBefore,
    'host /var/lib/glusterd untouched',
  );
  for (const p of [g.glusterdPid]) assert.throws(() => process.kill(p, 0));
  assert.ok(!existsSync(join(dir, 'glusterd')));
});
