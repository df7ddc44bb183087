// Root-squash and all-squash through stock FUSE as root, on a stock 10.3 brick and a
// glusterts brick in the same run (docs/security.md). Each volume is set while its brick
// runs (glusterts bricks apply it on SIGHUP, stock's on reconfigure); then root's reads of a
// root-only file, creates in a world-writable directory (owned by anonuid:anongid on disk),
// creates in root's 0755 directory, a chown, and a file uid 1000 creates under all-squash
// must end alike on both, and as stock documents them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Volume } from '../../src/client/index.js';
import { mountFuse, requirePeer, startStockGluster, type StockGluster } from '../../src/peers/index.js';
import { sleep } from '../../src/peers/process.js';
import { REAL_BRICK, startTestDaemon, type TestDaemon } from '../mgmt/support.js';

const run = promisify(execFile);
const STOCK_HOST = '127.0.0.2';
const TS_HOST = '127.0.0.49';
const ANON = { uid: 1234, gid: 1235 };
/**
 * With open-behind and quick-read, stock FUSE answers root's open and read of a small file
 * from what an earlier LOOKUP brought, without asking the brick: the probes would test the
 * client's caches, not the brick's squashing.
 */
const CLIENT_CACHES_OFF = { 'performance.open-behind': 'off', 'performance.quick-read': 'off' };

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    // A command run as another user: its exit and message (touch's own errno text).
    if (typeof e.code === 'number') return `exit ${e.code}: ${e.stderr?.trim().replace(/^.*: /, '')}`;
    return e.code ?? String(err);
  }
}

/** Polls until `probe` answers `want` (an option set on a running brick lands a little later). */
async function until(probe: () => Promise<string>, want: string, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    if ((last = await probe()) === want) return;
    await sleep(200);
  }
  assert.fail(`${what}: still ${last}, expected ${want}`);
}

test('root-squash and all-squash through stock FUSE end as on a stock brick', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const base = mkdtempSync('/var/tmp/gts-squash-');
  chmodSync(base, 0o755);
  for (const d of ['stock', 'ts']) mkdirSync(join(base, d), { mode: 0o755 });
  let stock: StockGluster | undefined;
  let td: TestDaemon | undefined;
  const unmounts: (() => Promise<void>)[] = [];
  const volumes: Volume[] = [];
  try {
    stock = await startStockGluster({
      host: STOCK_HOST,
      volume: 'sq',
      dir: join(base, 'stock'),
      volumeOptions: CLIENT_CACHES_OFF,
    });
    td = await startTestDaemon(TS_HOST, {
      brickCommand: [process.execPath, REAL_BRICK],
      signinTimeoutMs: 15_000,
      data: join(base, 'ts'),
    });
    await td.daemon.volumes.create('sq', [td.brickDir('b0')], true, { replica: 1, arbiter: 0 });
    for (const [k, v] of Object.entries(CLIENT_CACHES_OFF)) await td.daemon.volumes.set('sq', k, v);
    await td.daemon.volumes.start('sq');
    const daemon = td.daemon;
    const sides = {
      stock: {
        brick: stock.brickPaths[0]!,
        server: { host: STOCK_HOST },
        set: (k: string, v: string) => stock!.cli('volume', 'set', 'sq', k, v),
        reset: (k: string) => stock!.cli('volume', 'reset', 'sq', k),
      },
      glusterts: {
        brick: join(base, 'ts', 'bricks', 'b0'),
        server: { host: TS_HOST, port: daemon.address.port },
        set: (k: string, v: string) => daemon.volumes.set('sq', k, v),
        reset: (k: string) => daemon.volumes.reset('sq', k),
      },
    };
    const results: Record<string, Record<string, string>> = {};
    for (const [which, side] of Object.entries(sides)) {
      const mnt = join(base, `mnt-${which}`);
      mkdirSync(mnt, { mode: 0o755 });
      unmounts.push(
        await mountFuse(side.server.host, 'sq', mnt, {
          port: 'port' in side.server ? side.server.port : 24007,
          extraArgs: ['--acl', '--attribute-timeout=0', '--entry-timeout=0', '--negative-timeout=0'],
          logFile: join(base, `fuse-${which}.log`),
        }),
      );
      const at = (p: string) => join(mnt, p);
      const owner = (p: string) => {
        const st = statSync(join(side.brick, p));
        return `${st.uid}:${st.gid}`;
      };
      // Laid out by root before any squashing.
      await mkdir(at('pub'), { mode: 0o777 });
      chmodSync(at('pub'), 0o777);
      await writeFile(at('secret'), 'root only\n', { mode: 0o600 });
      await writeFile(at('open'), 'for all\n', { mode: 0o644 });
      const r: Record<string, string> = {};

      await side.set('server.anonuid', String(ANON.uid));
      await side.set('server.anongid', String(ANON.gid));
      await side.set('server.root-squash', 'on');
      await until(() => outcome(readFile(at('secret'))), 'EACCES', `${which}: root-squash`);
      r['root-squash: root reads secret'] = await outcome(readFile(at('secret')));
      r['root-squash: root reads open'] = await outcome(readFile(at('open')));
      r['root-squash: root creates pub/r'] = await outcome(writeFile(at('pub/r'), 'x'));
      r['root-squash: owner of pub/r'] = owner('pub/r');
      r['root-squash: root creates top/new'] = await outcome(writeFile(at('new'), 'x'));
      r['root-squash: root chowns open'] = await outcome(chown(at('open'), 1000, 1000));
      const v = await Volume.connect({
        volume: 'sq',
        servers: [side.server],
        timeoutMs: 20_000,
        umask: 0,
        caller: { uid: 0, gid: 0, groups: [0] },
      });
      volumes.push(v);
      r['root-squash: TS client root creates pub/t'] = await outcome(
        v.create('/pub/t', 'w').then((f) => f.close()),
      );
      r['root-squash: owner of pub/t'] = owner('pub/t');
      r['root-squash: TS client root reads secret'] = await outcome(
        v.open('/secret', 'r').then((f) => f.close()),
      );
      const asUser = await outcome(
        run('setpriv', ['--reuid', '1000', '--regid', '1000', '--clear-groups', 'touch', at('pub/u1')]),
      );
      r['root-squash: uid 1000 creates pub/u1'] = asUser;
      r['root-squash: owner of pub/u1'] = owner('pub/u1');

      await side.set('server.root-squash', 'off');
      await side.set('server.all-squash', 'on');
      await until(
        () =>
          outcome(
            run('setpriv', [
              '--reuid',
              '1000',
              '--regid',
              '1000',
              '--clear-groups',
              'touch',
              at('pub/probe'),
            ]),
          ).then(() => owner('pub/probe')),
        `${ANON.uid}:${ANON.gid}`,
        `${which}: all-squash`,
      );
      r['all-squash: root reads secret'] = await outcome(readFile(at('secret')));
      r['all-squash: uid 1000 creates pub/u2'] = await outcome(
        run('setpriv', ['--reuid', '1000', '--regid', '1000', '--clear-groups', 'touch', at('pub/u2')]),
      );
      r['all-squash: owner of pub/u2'] = owner('pub/u2');

      await side.reset('server.all-squash');
      await until(() => outcome(readFile(at('secret'))), 'ok', `${which}: all-squash reset`);
      r['reset: root reads secret'] = 'ok';
      r['reset: root creates top/new'] = await outcome(writeFile(at('new'), 'x'));
      r['reset: owner of new'] = owner('new');
      results[which] = r;
    }
    t.diagnostic(JSON.stringify(results, null, 1));
    assert.deepEqual(results.glusterts, results.stock);
    assert.equal(results.glusterts!['root-squash: root reads secret'], 'EACCES');
    assert.equal(results.glusterts!['root-squash: owner of pub/r'], `${ANON.uid}:${ANON.gid}`);
    assert.equal(results.glusterts!['root-squash: owner of pub/u1'], '1000:1000');
    assert.equal(results.glusterts!['all-squash: owner of pub/u2'], `${ANON.uid}:${ANON.gid}`);
    assert.equal(results.glusterts!['reset: owner of new'], '0:0');
  } finally {
    for (const u of unmounts) await u().catch(() => undefined);
    for (const v of volumes) await v.close().catch(() => undefined);
    await td?.cleanup().catch(() => undefined);
    await stock?.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
});
