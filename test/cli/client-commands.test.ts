// `glusterts cp | cat | ls | stat | rm` as a user runs them (spawned processes, stdout a
// pipe, not a terminal) against a glusterts server on 127.0.0.43: cp both directions with
// checksums and no progress output, cat, ls (-l), stat, rm (-r), errors with the errno
// name and the URL, exit codes 0 / 1 (failure) / 2 (usage), and that each process exits
// promptly after its work (no handle left open).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { GLUSTERTS_CLI as CLI, startGlusterts, type RunningGlusterts } from '../../src/peers/index.js';

const HOST = '127.0.0.43';
let server: RunningGlusterts;
let work: string;
const url = (p: string) => `gluster://${HOST}/cv${p}`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

function glusterts(...args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - started });
    });
  });
}

before(async () => {
  server = await startGlusterts({ host: HOST, volume: 'cv' });
  work = mkdtempSync(join('/var/tmp', 'glusterts-cli-client-'));
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('cp local → gluster → local keeps every byte (20 MiB, streamed); no progress output on a pipe', async () => {
  const data = randomBytes(20 * 1024 * 1024 + 12345);
  const src = join(work, 'src.bin');
  writeFileSync(src, data);
  const up = await glusterts('cp', src, url('/big.bin'));
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout.length, 0, 'no progress bar when stdout is not a terminal');
  assert.equal(up.stderr, '');

  const back = join(work, 'back.bin');
  const down = await glusterts('cp', url('/big.bin'), back);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(down.stdout.length, 0);
  assert.equal(sha(readFileSync(back)), sha(data));

  // gluster → gluster, and into an existing directory (keeps the base name).
  assert.equal((await glusterts('cp', url('/big.bin'), url('/big2.bin'))).code, 0);
  const cat = await glusterts('cat', url('/big2.bin'));
  assert.equal(cat.code, 0, cat.stderr);
  assert.equal(sha(cat.stdout), sha(data));
  const intoDir = await glusterts('cp', src, url('/'));
  assert.equal(intoDir.code, 0, intoDir.stderr);
  assert.equal(sha((await glusterts('cat', url('/src.bin'))).stdout), sha(data));
});

test('ls, ls -l, stat, cat, rm', async () => {
  const small = join(work, 'small.txt');
  writeFileSync(small, 'hello\n');
  assert.equal((await glusterts('cp', small, url('/small.txt'))).code, 0);
  const ls = await glusterts('ls', url('/'));
  assert.equal(ls.code, 0, ls.stderr);
  const names = ls.stdout.toString().trim().split('\n');
  assert.ok(names.includes('small.txt') && names.includes('big.bin'), names.join(' '));
  assert.ok(!names.includes('.') && !names.includes('..'));

  const long = await glusterts('ls', '-l', url('/'));
  assert.equal(long.code, 0, long.stderr);
  const line = long.stdout
    .toString()
    .split('\n')
    .find((l) => l.endsWith(' small.txt'));
  assert.match(line ?? '', /^-rw-r--r-- +1 +\d+ +\d+ +6 \d{4}-\d\d-\d\d \d\d:\d\d small\.txt$/);

  const st = await glusterts('stat', url('/small.txt'));
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout.toString(), /Size: 6\b/);
  assert.match(st.stdout.toString(), /regular file/);
  assert.match(st.stdout.toString(), /Gfid: [0-9a-f-]{36}/);

  const cat = await glusterts('cat', url('/small.txt'));
  assert.equal(cat.stdout.toString(), 'hello\n');

  assert.equal((await glusterts('rm', url('/small.txt'))).code, 0);
  const gone = await glusterts('stat', url('/small.txt'));
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /ENOENT/);
});

test('rm -r removes a tree; a directory without -r is EISDIR', async () => {
  // The CLI has no mkdir: the client library builds the tree.
  const vol = await Volume.connect({ volume: 'cv', servers: [{ host: HOST }] });
  try {
    await vol.mkdir('/tree');
    await vol.mkdir('/tree/a');
    for (const p of ['/tree/f', '/tree/a/g']) await (await vol.create(p, 'w')).close();
  } finally {
    await vol.close();
  }
  const noR = await glusterts('rm', url('/tree'));
  assert.equal(noR.code, 1);
  assert.match(noR.stderr, /^glusterts rm: gluster:\/\/127\.0\.0\.43\/cv\/tree: EISDIR/);
  const r = await glusterts('rm', '-r', url('/tree'));
  assert.equal(r.code, 0, r.stderr);
  const ls = await glusterts('ls', url('/tree'));
  assert.equal(ls.code, 1);
  assert.match(ls.stderr, /ENOENT \(no such file or directory\)/);
});

test('errors name the errno and the URL; exit codes 1 and 2', async () => {
  const missing = await glusterts('cat', url('/no/such/file'));
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    `glusterts cat: ${url('/no/such/file')}: ENOENT (no such file or directory)`,
  );

  const noVolume = await glusterts('ls', `gluster://${HOST}/novol/`);
  assert.equal(noVolume.code, 1);
  assert.match(noVolume.stderr, /ENOENT .*glfs_init novol/);

  const refused = await glusterts('stat', 'gluster://127.0.0.44:24999/cv/x');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /ECONNREFUSED/);

  const cpMissing = await glusterts('cp', join(work, 'nope'), url('/x'));
  assert.equal(cpMissing.code, 1);
  assert.match(cpMissing.stderr, /ENOENT/);

  const isDir = await glusterts('cat', url('/'));
  assert.equal(isDir.code, 1);
  assert.match(isDir.stderr, /EISDIR/);

  for (const args of [['cp', 'only-one'], ['cat'], ['ls', 'http://x/y'], ['rm', '-z', url('/x')]]) {
    const r = await glusterts(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('a command exits promptly after its work (no timers or sockets left)', async () => {
  const small = join(work, 'p.txt');
  writeFileSync(small, randomBytes(4096));
  assert.equal((await glusterts('cp', small, url('/p.txt'))).code, 0);
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await glusterts('cat', url('/p.txt'));
    assert.equal(r.code, 0);
    times.push(r.ms);
  }
  const line = `glusterts cat of 4 KiB, whole process (node start included): ${times.map((t) => t.toFixed(0)).join(' ')} ms`;
  console.log(line);
  assert.ok(Math.min(...times) < 5000, line);
});
