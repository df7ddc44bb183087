// The NBD server against the real Debian clients: qemu-img, qemu-io, nbdinfo, nbdcopy and
// fio's nbd engine, serving local files on 127.0.0.51.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, startServer, tempDir, type Running } from './support.js';

const HOST = '127.0.0.51';
const MiB = 1024 * 1024;
let srv: Running;
let dir: string;
let cleanup: () => Promise<void>;

const sha = async (path: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

before(async () => {
  ({ dir, cleanup } = await tempDir('peers'));
  for (const name of ['a.img', 'io.img', 'copy.img', 'fio.img']) {
    await writeFile(join(dir, name), '');
    await truncate(join(dir, name), 64 * MiB);
  }
  // Some data at 1 MiB in a.img, the rest sparse.
  const fh = await open(join(dir, 'a.img'), 'r+');
  await fh.write(randomBytes(64 * 1024), 0, 64 * 1024, MiB);
  await fh.close();
  srv = await startServer(HOST, {
    exports: {
      'vms/a.img': join(dir, 'a.img'),
      'vms/io.img': join(dir, 'io.img'),
      'vms/copy.img': join(dir, 'copy.img'),
      'vms/fio.img': join(dir, 'fio.img'),
    },
    defaultExport: 'vms/a.img',
  });
});

after(async () => {
  await srv.server.close();
  await cleanup();
});

test('qemu-img info, map, convert and compare over nbd://', async () => {
  const uri = srv.uri('vms/a.img');
  const info = await run('qemu-img', ['info', '--output=json', uri]);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(JSON.parse(info.stdout)['virtual-size'], 64 * MiB);

  const map = await run('qemu-img', ['map', '--output=json', uri]);
  assert.equal(map.code, 0, map.stderr);
  const extents = JSON.parse(map.stdout) as { start: number; length: number; data: boolean; zero: boolean }[];
  const data = extents.filter((e) => e.data);
  assert.deepEqual(
    data.map((e) => [e.start, e.length]),
    [[MiB, 64 * 1024]],
    'only the written 64 KiB is data (base:allocation from SEEK_DATA/SEEK_HOLE)',
  );

  const local = join(dir, 'converted.img');
  const conv = await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', uri, local]);
  assert.equal(conv.code, 0, conv.stderr);
  assert.equal(await sha(local), await sha(join(dir, 'a.img')));
  const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', local, uri]);
  assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);

  // Into the server: qcow2 → raw on the export, then compared back.
  const q = join(dir, 'src.qcow2');
  assert.equal((await run('qemu-img', ['create', '-f', 'qcow2', q, '64M'])).code, 0);
  assert.equal((await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 3M 2M', q])).code, 0);
  const up = await run('qemu-img', ['convert', '-n', '-f', 'qcow2', '-O', 'raw', q, srv.uri('vms/copy.img')]);
  assert.equal(up.code, 0, up.stderr);
  const back = await run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'raw', q, srv.uri('vms/copy.img')]);
  assert.equal(back.code, 0, back.stdout + back.stderr);
});

test('qemu-io with -t none: write -P, read -P, flush, discard, write -z, FUA writes', async () => {
  const r = await run('qemu-io', [
    '-f',
    'raw',
    '-t',
    'none',
    '-c',
    'write -P 0xab 0 1M',
    '-c',
    'read -P 0xab 0 1M',
    '-c',
    'write -f -P 0xcd 1M 64k',
    '-c',
    'read -P 0xcd 1M 64k',
    '-c',
    'flush',
    '-c',
    'write -z 2M 1M',
    '-c',
    'read -P 0 2M 1M',
    '-c',
    'write -P 0x11 4M 1M',
    '-c',
    'discard 4M 1M',
    '-c',
    'read -P 0 4M 1M',
    '-c',
    'write -z -u 6M 1M',
    '-c',
    'read -P 0 6M 1M',
    '-c',
    'read -P 0xab 512 1000',
    srv.uri('vms/io.img'),
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /fail|error|mismatch/i);
  const file = await readFile(join(dir, 'io.img'));
  assert.ok(file.subarray(0, MiB).every((b) => b === 0xab));
  assert.ok(file.subarray(MiB, MiB + 65536).every((b) => b === 0xcd));
  assert.ok(file.subarray(4 * MiB, 5 * MiB).every((b) => b === 0));
});

test('nbdinfo: export details, --list and --map', async () => {
  const info = await run('nbdinfo', ['--json', srv.uri('vms/a.img')]);
  assert.equal(info.code, 0, info.stderr);
  const j = JSON.parse(info.stdout) as { protocol: string; exports: Record<string, unknown>[] };
  assert.equal(j.protocol, 'newstyle-fixed');
  const e = j.exports[0]!;
  assert.equal(e['export-size'], 64 * MiB);
  for (const cap of [
    'can_flush',
    'can_fua',
    'can_trim',
    'can_zero',
    'can_fast_zero',
    'can_cache',
    'can_multi_conn',
  ]) {
    assert.equal(e[cap], true, cap);
  }
  assert.equal(e['block_size_minimum'], 1);
  assert.equal(e['block_size_preferred'], 4096);
  assert.equal(e['block_size_maximum'], 32 * MiB);

  const list = await run('nbdinfo', ['--list', '--json', `nbd://${HOST}:${srv.port}`]);
  assert.equal(list.code, 0, list.stderr);
  const names = (JSON.parse(list.stdout) as { exports: { 'export-name': string }[] }).exports.map(
    (x) => x['export-name'],
  );
  assert.deepEqual(names.sort(), ['vms/a.img', 'vms/copy.img', 'vms/fio.img', 'vms/io.img']);

  const map = await run('nbdinfo', ['--map', srv.uri('vms/a.img')]);
  assert.equal(map.code, 0, map.stderr);
  assert.match(map.stdout, /^\s*0\s+1048576\s+3\s+hole,zero$/m);
  assert.match(map.stdout, /^\s*1048576\s+65536\s+0\s+data$/m);

  // The default export ('' → vms/a.img).
  const def = await run('nbdinfo', ['--size', `nbd://${HOST}:${srv.port}`]);
  assert.equal(def.code, 0, def.stderr);
  assert.equal(def.stdout.trim(), String(64 * MiB));
});

test('nbdcopy into and out of the server keeps checksums equal', async () => {
  const src = join(dir, 'random.img');
  const body = Buffer.alloc(64 * MiB);
  randomBytes(8 * MiB).copy(body, 0);
  randomBytes(3 * MiB).copy(body, 40 * MiB);
  await writeFile(src, body);
  const up = await run('nbdcopy', [src, srv.uri('vms/copy.img')]);
  assert.equal(up.code, 0, up.stderr);
  const out = join(dir, 'out.img');
  const down = await run('nbdcopy', [srv.uri('vms/copy.img'), out]);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(await sha(out), await sha(src));
  assert.equal(await sha(join(dir, 'copy.img')), await sha(src));
});

test('fio --ioengine=nbd: 4 jobs, iodepth 8, verify=crc32c, zero errors', async () => {
  const r = await run('fio', [
    '--name=nbd',
    '--ioengine=nbd',
    `--uri=${srv.uri('vms/fio.img')}`,
    '--rw=randwrite',
    '--bs=4k',
    '--size=8M',
    '--numjobs=4',
    '--offset_increment=16M',
    '--iodepth=8',
    '--verify=crc32c',
    '--do_verify=1',
    '--verify_fatal=1',
    '--verify_state_save=0',
    '--group_reporting',
    '--output-format=json',
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const job = (
    JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      jobs: { error: number; write: { io_bytes: number }; read: { io_bytes: number } }[];
    }
  ).jobs[0]!;
  assert.equal(job.error, 0);
  assert.equal(job.write.io_bytes, 32 * MiB);
  assert.equal(job.read.io_bytes, 32 * MiB, 'every written block read back and verified');
  assert.equal(srv.server.connections, 0, 'fio disconnected cleanly');
});
