// TLS on brick connections (docs/tls.md), against the real programs, as stock's
// tests/features/ssl-authz.t and ssl-ciphers.t check it: glusterts bricks with
// `server.ssl on` serve the TS client and the stock FUSE client over mutual TLS, refuse a
// certificate CN outside auth.ssl-allow, a certificate of an untrusted CA and plain TCP;
// a cipher list is honoured for TLS 1.2 as on a stock brick; tshark sees no plaintext of
// what was written; and the TS client is served by a stock glusterfsd with server.ssl on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import {
  killPid,
  mountFuse,
  peerMissing,
  runCommand,
  sleep,
  startGlustertsDaemon,
  startStockGluster,
  type RunningDaemon,
  type StockGluster,
} from '../../src/peers/index.js';
import { portByBrick } from '../../src/peers/portmap.js';
import { makePki, type Identity, type Pki } from '../support/pki.js';

const HOST = '127.0.0.60';
const STOCK_HOST = '127.0.0.2';
const VOL = 'sv';
const work = mkdtempSync(join('/var/tmp', 'glusterts-tls-'));
const brickPath = join(work, 'brick');
let pki: Pki;
let brickId: Identity;
let alice: Identity;
let trustedFuse: Identity;
let mallory: Identity;
let rogue: Identity;
let daemon: RunningDaemon | undefined;
let stock: StockGluster | undefined;
const cleanups: (() => Promise<void>)[] = [];
const missing = ['stock-gluster', 'tshark', 'openssl'].map(peerMissing).find(Boolean);

function skipOrFail(t: { skip(m: string): void }): boolean {
  if (!missing) return false;
  if (process.env.CI === 'true') throw new Error(`peer missing under CI: ${missing}`);
  t.skip(`peer missing: ${missing}`);
  return true;
}

before(async () => {
  if (missing) return;
  pki = await makePki(join(work, 'pki'));
  brickId = await pki.issue('brick-host');
  alice = await pki.issue('alice');
  trustedFuse = await pki.issue('trusted-fuse');
  mallory = await pki.issue('mallory');
  rogue = await pki.issueRogue('alice');
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  if (process.env.GLUSTERTS_KEEP_TLS === '1') console.log(work, daemon?.data);
  await daemon?.stop();
  await stock?.stop();
  if (process.env.GLUSTERTS_KEEP_TLS !== '1') rmSync(work, { recursive: true, force: true });
});

/** A one-brick protocol/client volfile with TLS on and this identity's files. */
function clientVolfile(host: string, brick: string, id: Identity | undefined, extra = ''): string {
  const tls = id
    ? [
        'option transport.socket.ssl-enabled on',
        `option transport.socket.ssl-own-cert ${id.cert}`,
        `option transport.socket.ssl-private-key ${id.key}`,
        `option transport.socket.ssl-ca-list ${id.ca}`,
      ]
    : ['option transport.socket.ssl-enabled off'];
  return [
    'volume c0',
    '    type protocol/client',
    `    option remote-host ${host}`,
    `    option remote-subvolume ${brick}`,
    '    option reconnect-wait-ms 0',
    '    option handshake-timeout-ms 5000',
    ...tls.map((l) => `    ${l}`),
    extra,
    'end-volume',
  ].join('\n');
}

/** Writes and reads back a file through the TS client; resolves what was read. */
async function roundTrip(volfile: string, name: string): Promise<string> {
  const vol = await Volume.fromVolfile(volfile, { signal: AbortSignal.timeout(15_000) });
  try {
    const text = Buffer.from(`hello from ${name}\n`);
    const f = await vol.create(`/${name}`, 'w');
    await f.pwrite(text, 0);
    await f.close();
    const g = await vol.open(`/${name}`, 'r');
    const back = await g.pread(text.length, 0);
    await g.close();
    return back.toString();
  } finally {
    await vol.close();
  }
}

async function refused(volfile: string): Promise<void> {
  await assert.rejects(Volume.fromVolfile(volfile, { signal: AbortSignal.timeout(15_000) }));
}

/** `openssl s_client` with a certificate and one TLS version and cipher: the cipher agreed, or undefined. */
async function cipherAgreed(
  port: number,
  host: string,
  version: string,
  cipher: string,
): Promise<string | undefined> {
  const r = await runCommand(
    'bash',
    [
      '-c',
      `openssl s_client -connect ${host}:${port} ${version} -cipher ${cipher} -cert ${alice.cert} -key ${alice.key} -CAfile ${alice.ca} </dev/null 2>&1`,
    ],
    20_000,
  );
  const m = /Cipher is (\S+)/.exec(r.stdout);
  return m && m[1] !== '(NONE)' && m[1] !== '0000' ? m[1] : undefined;
}

async function startVolume(options: Record<string, string>): Promise<number> {
  const d = daemon!;
  await d.volume('stop', VOL).catch(() => undefined);
  for (const [k, v] of Object.entries(options)) await d.volume('set', VOL, k, v);
  await d.volume('start', VOL);
  for (let i = 0; ; i++) {
    const port = await portByBrick(HOST, brickPath).catch(() => 0);
    if (port > 0) return port;
    if (i > 200) throw new Error(`brick did not sign in:\n${d.output()}`);
    await sleep(50);
  }
}

test('glusterts TLS brick: the right CN is served; a CN outside auth.ssl-allow, an untrusted CA and plain TCP are refused', async (t) => {
  if (skipOrFail(t)) return;
  // The brick's own certificate comes from the default files (GLUSTERTS_SSL_CERT_PATH, in
  // place of /etc/ssl/glusterfs.*), so each client below can bring its own.
  daemon = await startGlustertsDaemon({
    host: HOST,
    data: join(work, 'data'),
    env: { ...process.env, GLUSTERTS_SSL_CERT_PATH: brickId.dir },
  });
  await daemon.volume('create', VOL, `${HOST}:${brickPath}`, 'force');
  await startVolume({ 'server.ssl': 'on', 'client.ssl': 'on', 'auth.ssl-allow': 'alice,trusted-*' });

  assert.equal(await roundTrip(clientVolfile(HOST, brickPath, alice), 'alice.txt'), 'hello from alice.txt\n');
  await refused(clientVolfile(HOST, brickPath, mallory));
  await refused(clientVolfile(HOST, brickPath, rogue));
  await refused(clientVolfile(HOST, brickPath, undefined));
  assert.equal(await readFile(join(brickPath, 'alice.txt'), 'utf8'), 'hello from alice.txt\n');
  const log = await brickLog();
  assert.match(log, /TLS client CN "mallory" refused \(auth.ssl-allow\)/);
  assert.match(log, /TLS connection from .* refused/);
});

async function brickLog(): Promise<string> {
  const logs = join(daemon!.data, 'logs', 'bricks');
  const files = await readdir(logs).catch(() => []);
  return (await Promise.all(files.map((f) => readFile(join(logs, f), 'utf8')))).join('\n');
}

test('stock FUSE client over TLS to glusterts bricks; tshark on the brick port sees no plaintext; a CN outside auth.ssl-allow gets no I/O', async (t) => {
  if (skipOrFail(t) || !daemon) return;
  // As stock's volgen does, ssl.own-cert/private-key/ca-list go to both sides' volfiles.
  const port = await startVolume({
    'ssl.own-cert': trustedFuse.cert,
    'ssl.private-key': trustedFuse.key,
    'ssl.ca-list': trustedFuse.ca,
  });
  const mnt = join(work, 'mnt');
  const pcap = join(work, 'brick.pcap');
  const capture = spawn('dumpcap', ['-q', '-i', 'lo', '-f', `host ${HOST}`, '-w', pcap], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(() => killPid(capture.pid!));
  let started = '';
  capture.stderr.on('data', (d: Buffer) => (started += d.toString()));
  for (let i = 0; !/Capturing on/.test(started); i++) {
    if (i > 200) throw new Error(`dumpcap did not start: ${started}`);
    await sleep(50);
  }
  const unmount = await mountFuse(HOST, VOL, mnt, {
    extraArgs: ['--attribute-timeout=0', '--entry-timeout=0'],
  });
  cleanups.push(unmount);
  const pattern = 'GLUSTERTS-TLS-PLAINTEXT-PROBE-'.repeat(2000);
  await writeFile(join(mnt, 'probe.txt'), pattern);
  await runCommand('sync', []);
  assert.equal(await readFile(join(mnt, 'probe.txt'), 'utf8'), pattern);
  assert.equal(await readFile(join(brickPath, 'probe.txt'), 'utf8'), pattern, 'the data reached the brick');
  await unmount();
  // Let dumpcap read what the kernel still holds for it before it stops.
  await sleep(1500);
  capture.kill('SIGINT');
  await new Promise((r) => capture.once('exit', r));
  const raw = await readFile(pcap);
  assert.ok(raw.length > pattern.length, `the capture holds the traffic (${raw.length} bytes)`);
  assert.equal(raw.indexOf('GLUSTERTS-TLS-PLAINTEXT-PROBE'), -1, 'no plaintext of the file in the capture');
  // tshark, told the brick port carries TLS, decodes the traffic as TLS application data.
  const tshark = await runCommand('tshark', ['-r', pcap, '-d', `tcp.port==${port},tls`]);
  assert.equal(tshark.code, 0, tshark.stderr);
  const records = tshark.stdout.split('\n').filter((l) => /TLSv1\.[23].*Application Data/.test(l));
  assert.ok(records.length > 10, `tshark sees TLS application data (${records.length} packets)`);

  // Not on the list any more: the mount comes up but the brick refuses its SETVOLUME.
  await startVolume({ 'auth.ssl-allow': 'alice' });
  const mnt2 = join(work, 'mnt2');
  const unmount2 = await mountFuse(HOST, VOL, mnt2, { timeoutMs: 20_000 }).catch(() => undefined);
  if (unmount2) {
    cleanups.push(unmount2);
    await assert.rejects(readFile(join(mnt2, 'probe.txt')));
    await unmount2();
  }
  assert.match(await brickLog(), /TLS client CN "trusted-fuse" refused \(auth.ssl-allow\)/);
});

test('cipher list honoured for TLS 1.2 on a glusterts brick as on a stock brick', async (t) => {
  if (skipOrFail(t) || !daemon) return;
  const list = 'AES256-GCM-SHA384';
  const port = await startVolume({ 'auth.ssl-allow': 'alice', 'ssl.cipher-list': list });
  stock = await startStockGluster({
    host: STOCK_HOST,
    dir: join(work, 'stock'),
    volumeOptions: {
      'server.ssl': 'on',
      'client.ssl': 'on',
      'ssl.own-cert': brickId.cert,
      'ssl.private-key': brickId.key,
      'ssl.ca-list': brickId.ca,
      'auth.ssl-allow': 'alice',
      'ssl.cipher-list': list,
    },
  });
  const probes = [
    ['-tls1_2', 'AES256-GCM-SHA384'],
    ['-tls1_2', 'ECDHE-RSA-AES128-GCM-SHA256'],
    ['-tls1_2', 'AES128-SHA'],
  ] as const;
  const ours = [];
  const theirs = [];
  for (const [v, c] of probes) {
    ours.push(await cipherAgreed(port, HOST, v, c));
    theirs.push(await cipherAgreed(stock.brickPort(0), STOCK_HOST, v, c));
  }
  assert.deepEqual(ours, ['AES256-GCM-SHA384', undefined, undefined]);
  assert.deepEqual(ours, theirs, 'same answers as the stock brick');
});

test('TS client over TLS to a stock glusterfsd with server.ssl on: the right CN served, a wrong CN refused', async (t) => {
  if (skipOrFail(t) || !stock) return;
  const brick = stock.brickPaths[0]!;
  // Portmap on 24007 stays plain (no secure-access), the brick connection is TLS.
  assert.equal(
    await roundTrip(clientVolfile(STOCK_HOST, brick, alice), 'to-stock.txt'),
    'hello from to-stock.txt\n',
  );
  assert.equal(await readFile(join(brick, 'to-stock.txt'), 'utf8'), 'hello from to-stock.txt\n');
  await refused(clientVolfile(STOCK_HOST, brick, mallory));
  await refused(clientVolfile(STOCK_HOST, brick, rogue));
  await refused(clientVolfile(STOCK_HOST, brick, undefined));
});
