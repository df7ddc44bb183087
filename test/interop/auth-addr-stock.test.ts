// auth.allow / auth.reject on a stock 10.3 brick and a glusterts brick in the same run
// (docs/security.md): clients connect from different loopback source addresses
// (protocol/client's transport.socket.source-addr) with volfiles that carry no login
// credentials, as stock's bug-1433815-auth-allow.t does; every rule is set while the bricks
// run. The TS client tries each rule from four addresses on both; stock FUSE mounts from an
// allowed and a refused address, then sees its live mount cut by a new auth.reject. CIDR
// prefixes that are not whole octets are checked on glusterts only (stock 10.3 mis-matches them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { mountFuse, requirePeer, startStockGluster, type StockGluster } from '../../src/peers/index.js';
import { sleep } from '../../src/peers/process.js';
import { REAL_BRICK, startTestDaemon, type TestDaemon } from '../mgmt/support.js';

const STOCK_HOST = '127.0.0.2';
const TS_HOST = '127.0.0.50';
const FROM = ['127.0.0.1', '127.0.0.61', '127.0.1.62', '127.0.2.71'] as const;

/**
 * [auth.allow, auth.reject or '', the FROM addresses admitted, without their '127.0.']. Only
 * values a stock glusterd takes: a wildcard must be a whole octet, and no '!'.
 */
const RULES: [string, string, string][] = [
  ['127.0.0.61', '', '0.61'],
  ['127.0.0.*', '', '0.1 0.61'],
  ['127.0.1.*', '', '1.62'],
  ['127.0.*', '', '0.1 0.61 1.62 2.71'],
  ['127.0.0.0/24', '', '0.1 0.61'],
  ['127.0.0.0/16', '', '0.1 0.61 1.62 2.71'],
  ['127.0.2.0/24', '', '2.71'],
  ['127.0.0.0/8', '127.0.1.62', '0.1 0.61 2.71'],
  ['127.0.0.61,127.0.1.62', '', '0.61 1.62'],
  ['*', '127.0.0.*', '1.62 2.71'],
  ['127.0.1.62', '127.0.1.62', ''],
  ['localhost', '', '0.1'],
  ['/(127.0.0.61|127.0.2.71)', '', '0.61 2.71'],
  ['/sub(127.0.0.61)', '', ''],
];
/** Checked on glusterts only: prefixes that are not whole octets. */
const EXACT_CIDR: [string, string, string][] = [
  ['127.0.0.56/29', '', '0.61'],
  ['127.0.0.0/23', '', '0.1 0.61 1.62'],
  ['127.0.0.0/22', '127.0.1.0/25', '0.1 0.61 2.71'],
];

interface Side {
  volfile: string;
  host: string;
  set(key: string, value: string): Promise<unknown>;
  reset(key: string): Promise<unknown>;
}

/** The volfile with every protocol/client bound to `from` and no credentials. */
function fromAddress(volfile: string, from: string): string {
  return volfile
    .split('\n')
    .filter((l) => !/^\s*option (username|password) /.test(l))
    .map((l) =>
      /^\s*type protocol\/client\s*$/.test(l) ? `${l}\n    option transport.socket.source-addr ${from}` : l,
    )
    .join('\n');
}

async function attach(volfile: string, from: string): Promise<string> {
  try {
    const v = await Volume.fromVolfile(fromAddress(volfile, from), { signal: AbortSignal.timeout(8000) });
    await v.close();
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

async function admitted(volfile: string): Promise<string> {
  const ok: string[] = [];
  for (const f of FROM) if ((await attach(volfile, f)) === 'ok') ok.push(f.slice('127.0.'.length));
  return ok.join(' ');
}

test('auth.allow/auth.reject: the same clients admitted as by a stock brick, live, TS client and stock FUSE', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  const base = mkdtempSync('/var/tmp/gts-authaddr-');
  chmodSync(base, 0o755);
  for (const d of ['stock', 'ts']) mkdirSync(join(base, d), { mode: 0o755 });
  let stock: StockGluster | undefined;
  let td: TestDaemon | undefined;
  const unmounts: (() => Promise<void>)[] = [];
  try {
    stock = await startStockGluster({ host: STOCK_HOST, volume: 'aa', dir: join(base, 'stock') });
    td = await startTestDaemon(TS_HOST, {
      brickCommand: [process.execPath, REAL_BRICK],
      signinTimeoutMs: 15_000,
      data: join(base, 'ts'),
    });
    await td.daemon.volumes.create('aa', [td.brickDir('b0')], true, { replica: 1, arbiter: 0 });
    await td.daemon.volumes.start('aa');
    const daemon = td.daemon;
    const sides: Record<'stock' | 'glusterts', Side> = {
      stock: {
        volfile: await stock.clientVolfile('aa'),
        host: STOCK_HOST,
        set: (k: string, v: string) => stock!.cli('volume', 'set', 'aa', k, v),
        reset: (k: string) => stock!.cli('volume', 'reset', 'aa', k),
      },
      glusterts: {
        volfile: daemon.volumes.volfileFor('aa')!.spec,
        host: TS_HOST,
        set: (k: string, v: string) => daemon.volumes.set('aa', k, v),
        reset: (k: string) => daemon.volumes.reset('aa', k),
      },
    };
    const apply = async (side: Side, allow: string, reject: string, want: string) => {
      await side.set('auth.allow', allow);
      if (reject) await side.set('auth.reject', reject);
      else await side.reset('auth.reject');
      // Set on a running brick: it lands a moment later.
      const deadline = Date.now() + 15_000;
      let got = await admitted(side.volfile);
      while (got !== want && Date.now() < deadline) {
        await sleep(300);
        got = await admitted(side.volfile);
      }
      return got;
    };
    const results: Record<string, Record<string, string>> = { stock: {}, glusterts: {} };
    for (const [which, side] of Object.entries(sides))
      for (const [allow, reject, want] of which === 'stock' ? RULES : [...RULES, ...EXACT_CIDR])
        results[which]![`allow ${allow} reject ${reject || '-'}`] = await apply(side, allow, reject, want);
    t.diagnostic(JSON.stringify(results, null, 1));
    for (const [allow, reject, want] of RULES) {
      const key = `allow ${allow} reject ${reject || '-'}`;
      assert.equal(results.stock![key], want, `stock: ${key}`);
      assert.equal(results.glusterts![key], want, `glusterts: ${key}`);
    }
    for (const [allow, reject, want] of EXACT_CIDR)
      assert.equal(results.glusterts![`allow ${allow} reject ${reject || '-'}`], want, `glusterts: ${allow}`);

    // Stock FUSE: admitted from .61, refused from .62 with stock's error; then the live mount
    // from .61 is cut when auth.reject comes to name it.
    const fuse: Record<string, Record<string, string>> = {};
    for (const [which, side] of Object.entries(sides)) {
      await apply(side, '127.0.0.61', '', '0.61');
      const r: Record<string, string> = {};
      const mount = async (from: string) => {
        const mnt = join(base, `mnt-${which}-${from}`);
        const vol = join(base, `${which}-${from}.vol`);
        const log = join(base, `fuse-${which}-${from}.log`);
        mkdirSync(mnt, { recursive: true });
        writeFileSync(vol, fromAddress(side.volfile, from));
        try {
          unmounts.push(
            await mountFuse(side.host, 'aa', mnt, {
              volfile: vol,
              logFile: log,
              timeoutMs: 10_000,
            }),
          );
          await readdir(mnt);
          return { mnt, log, outcome: 'mounted' };
        } catch (err) {
          return { mnt, log, outcome: (err as { code?: string }).code ?? 'not mounted' };
        }
      };
      const ok = await mount('127.0.0.61');
      r['from .61'] = ok.outcome;
      const refused = await mount('127.0.1.62');
      r['from .62'] = refused.outcome;
      const logText = existsSync(refused.log) ? readFileSync(refused.log, 'utf8') : '';
      r['from .62 log: SETVOLUME refused EACCES, Authentication failed'] = String(
        /SETVOLUME on remote-host failed \[\{remote-error=Authentication failed\}, \{errno=13\}/.test(
          logText,
        ),
      );
      await side.set('auth.reject', '127.0.0.61');
      const deadline = Date.now() + 15_000;
      let after = 'ok';
      while (after === 'ok' && Date.now() < deadline) {
        after = await readdir(ok.mnt).then(
          () => 'ok',
          (err: NodeJS.ErrnoException) => err.code ?? String(err),
        );
        if (after === 'ok') await sleep(300);
      }
      r['.61 mount after auth.reject names it'] = after;
      await side.reset('auth.reject');
      fuse[which] = r;
    }
    t.diagnostic(JSON.stringify(fuse, null, 1));
    assert.deepEqual(fuse.glusterts, fuse.stock);
    assert.equal(fuse.glusterts!['from .61'], 'mounted');
    assert.equal(fuse.glusterts!['from .62'], 'not mounted');
    assert.equal(fuse.glusterts!['from .62 log: SETVOLUME refused EACCES, Authentication failed'], 'true');
    assert.equal(fuse.glusterts!['.61 mount after auth.reject names it'], 'ENOTCONN');
  } finally {
    for (const u of unmounts) await u().catch(() => undefined);
    await td?.cleanup().catch(() => undefined);
    await stock?.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
});
