import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Program } from '../../src/protocol/index.js';
import {
  dumpPrograms,
  isMounted,
  mountFuse,
  parseVolumeStatusXml,
  portByBrick,
  requirePeer,
  startStockGluster,
} from '../../src/peers/index.js';

test('parseVolumeStatusXml reads the brick nodes of `gluster volume status --xml`', () => {
  const xml =
    '<cliOutput><volStatus><volumes><volume><volName>tv</volName><node><hostname>127.0.0.2</hostname>' +
    '<path>/b/b0</path><peerid>x</peerid><status>1</status><port>49152</port><ports><tcp>49152</tcp>' +
    '</ports><pid>4242</pid></node><node><path>/b/b1</path><status>0</status><port>N/A</port>' +
    '<pid>-1</pid></node></volume></volumes></volStatus></cliOutput>';
  assert.deepEqual(parseVolumeStatusXml(xml), [
    { path: '/b/b0', port: 49152, pid: 4242, status: 1 },
    { path: '/b/b1', port: NaN, pid: -1, status: 0 },
  ]);
});

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
    // GF-DUMP: glusterd lists Portmap, a brick does not.
    const progs = async (port: number) => (await dumpPrograms(g.host, port)).map((p) => p.prognum);
    assert.ok((await progs(g.port)).includes(Program.PORTMAP.prog));
    assert.ok(!(await progs(g.brickPort(0))).includes(Program.PORTMAP.prog));
    // One more volume, with options, and the client volfile glusterd serves for it.
    await g.addVolume('extra', { 'performance.write-behind': 'off' });
    const volfile = await g.clientVolfile('extra');
    assert.match(volfile, /type protocol\/client/);
    assert.doesNotMatch(volfile, /performance\/write-behind/);
    // glusterd binds the given address only.
    const ss = readFileSync('/proc/net/tcp', 'utf8');
    assert.ok(!/ 00000000:5DC7 00000000:0000 0A /.test(ss), 'glusterd must not listen on 0.0.0.0:24007');

    unmount = await mountFuse(g.host, g.volume, mp);
    assert.ok(isMounted(mp));
    writeFileSync(join(mp, 'hello.txt'), 'hello\n');
    assert.equal(readFileSync(join(mp, 'hello.txt'), 'utf8'), 'hello\n');
    const onBrick = g.brickPaths.some((b) => existsSync(join(b, 'hello.txt')));
    assert.ok(onBrick, 'file landed on a brick');
    await unmount();
    assert.ok(!isMounted(mp));
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
