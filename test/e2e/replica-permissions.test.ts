// A non-root TS client on a glusterts replica 3 volume (real bricks, features/access-control
// on each): uid 1000 creates, writes, renames, links, sets xattrs, chmods, truncates and
// removes in a 0777 directory, and is refused a root 0600 file, on all three bricks alike
// (replicate's locks and changelogs go as root; docs/permissions.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { GlusterError, Volume } from '../../src/client/index.js';
import { REAL_BRICK, startTestDaemon } from '../mgmt/support.js';

const HOST = '127.0.0.46';

test('uid 1000 on a replica 3 volume: its fops work on every brick, a root 0600 file is refused', async () => {
  const td = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, REAL_BRICK],
    signinTimeoutMs: 15_000,
  });
  const volumes: Volume[] = [];
  try {
    const dirs = ['a', 'b', 'c'].map((n) => td.brickDir(n));
    await td.daemon.volumes.create('rv', dirs, true, { replica: 3, arbiter: 0 });
    assert.deepEqual((await td.daemon.volumes.start('rv')).warnings, []);
    const servers = [{ host: HOST, port: td.daemon.address.port }];
    const connect = async (uid: number) => {
      const v = await Volume.connect({
        volume: 'rv',
        servers,
        caller: { uid, gid: uid, groups: [] },
        umask: 0o022,
      });
      volumes.push(v);
      return v;
    };
    const root = await connect(0);
    await root.mkdir('/pub');
    await root.chmod('/pub', 0o777);
    await (await root.create('/secret', 'w', 0o600)).close();
    const user = await connect(1000);
    const f = await user.create('/pub/x', 'w+', 0o644);
    await f.pwrite(Buffer.alloc(100_000, 7), 0);
    await f.fsync();
    assert.ok((await f.pread(10, 500)).equals(Buffer.alloc(10, 7)));
    await f.close();
    await user.rename('/pub/x', '/pub/y');
    await user.mkdir('/pub/d');
    await user.symlink('y', '/pub/s');
    await user.link('/pub/y', '/pub/h');
    await user.setxattr('/pub/y', 'user.a', 'b');
    await user.chmod('/pub/y', 0o600);
    await user.truncate('/pub/y', 10);
    for (const d of dirs) {
      const st = statSync(join(d, 'pub', 'y'));
      assert.deepEqual([st.uid, st.mode & 0o777, st.size], [1000, 0o600, 10], d);
    }
    await assert.rejects(
      user.open('/secret', 'r'),
      (e: unknown) => e instanceof GlusterError && e.code === 'EACCES',
    );
    await assert.rejects(
      user.unlink('/secret'),
      (e: unknown) => e instanceof GlusterError && e.code === 'EACCES',
    );
    for (const p of ['/pub/h', '/pub/s', '/pub/y']) await user.unlink(p);
    await user.rmdir('/pub/d');
  } finally {
    for (const v of volumes) await v.close().catch(() => undefined);
    await td.cleanup();
  }
});
