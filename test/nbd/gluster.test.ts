// The gluster backend: an image on a glusterts volume (a local storage/posix graph built
// with Volume.fromVolfile, no network) served over NBD on 127.0.0.55 to qemu-io,
// qemu-img and nbdcopy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { GlusterProvider, NbdServer } from '../../src/nbd/index.js';
import type { OptionSchema, TranslatorType } from '../../src/xlator/index.js';
import { ioStats } from '../../src/xlators/io-stats/index.js';
import { stockPassthroughs } from '../../src/xlators/passthrough/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { run } from './support.js';

const HOST = '127.0.0.55';
const MiB = 1024 * 1024;
const registry = new Map<string, TranslatorType<OptionSchema>>(
  [posix, ioStats, ...stockPassthroughs].map((t) => [t.type, t as TranslatorType<OptionSchema>]),
);
let brick: string;
let volume: Volume;
let server: NbdServer;
let port: number;
const uri = (name: string): string => `nbd://${HOST}:${port}/${name}`;

before(async () => {
  brick = mkdtempSync(join('/var/tmp', 'glusterts-nbd-gluster-'));
  volume = await Volume.fromVolfile(
    `volume vms-posix
    type storage/posix
    option directory ${brick}
end-volume

volume vms
    type debug/io-stats
    subvolumes vms-posix
end-volume
`,
    { registry, name: 'vms' },
  );
  await volume.mkdir('/images');
  const f = await volume.create('/images/a.img', 'w+');
  await f.ftruncate(32 * MiB);
  await f.pwrite(Buffer.alloc(65536, 0x42), 2 * MiB);
  await f.close();
  server = new NbdServer({
    provider: new GlusterProvider({ volumes: new Map([['vms', volume]]), listed: ['vms/images/a.img'] }),
  });
  ({ port } = await server.listen(0, HOST));
});

after(async () => {
  await server?.close();
  await volume?.close();
  rmSync(brick, { recursive: true, force: true });
});

test('nbdinfo sees the volume image, its allocation map and the listed export', async () => {
  const info = await run('nbdinfo', ['--json', uri('vms/images/a.img')]);
  assert.equal(info.code, 0, info.stderr);
  assert.equal(
    (JSON.parse(info.stdout) as { exports: { 'export-size': number }[] }).exports[0]!['export-size'],
    32 * MiB,
  );
  const map = await run('nbdinfo', ['--map', uri('vms/images/a.img')]);
  assert.equal(map.code, 0, map.stderr);
  assert.match(map.stdout, /^\s*2097152\s+65536\s+0\s+data$/m);
  const list = await run('nbdinfo', ['--list', '--json', `nbd://${HOST}:${port}`]);
  assert.match(list.stdout, /vms\/images\/a.img/);
  const missing = await run('nbdinfo', [uri('vms/images/nope.img')]);
  assert.notEqual(missing.code, 0);
  const escape = await run('nbdinfo', [uri('vms/../etc/passwd')]);
  assert.notEqual(escape.code, 0);
});

test('qemu-io writes, reads, flushes, discards and zeroes through the client library', async () => {
  const r = await run('qemu-io', [
    '-f',
    'raw',
    '-t',
    'none',
    '-c',
    'write -P 0xab 0 1M',
    '-c',
    'write -f -P 0xcd 1M 64k',
    '-c',
    'flush',
    '-c',
    'read -P 0xab 0 1M',
    '-c',
    'read -P 0xcd 1M 64k',
    '-c',
    'discard 2M 64k',
    '-c',
    'read -P 0 2M 64k',
    '-c',
    'write -z 4M 1M',
    '-c',
    'read -P 0 4M 1M',
    uri('vms/images/a.img'),
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /fail|mismatch|error/i);
  const onBrick = await readFile(join(brick, 'images', 'a.img'));
  assert.ok(onBrick.subarray(0, MiB).every((b) => b === 0xab));
  assert.ok(onBrick.subarray(MiB, MiB + 65536).every((b) => b === 0xcd));
});

test('nbdcopy in and out, and qemu-img compare, agree byte for byte', async () => {
  const dir = mkdtempSync(join('/var/tmp', 'glusterts-nbd-gluster-copy-'));
  try {
    const src = join(dir, 'src.img');
    const body = Buffer.alloc(32 * MiB);
    randomBytes(5 * MiB).copy(body, 3 * MiB);
    await writeFile(src, body);
    assert.equal((await run('nbdcopy', [src, uri('vms/images/a.img')])).code, 0);
    const out = join(dir, 'out.img');
    assert.equal((await run('nbdcopy', [uri('vms/images/a.img'), out])).code, 0);
    const sha = async (p: string) =>
      createHash('sha256')
        .update(await readFile(p))
        .digest('hex');
    assert.equal(await sha(out), await sha(src));
    const cmp = await run('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', src, uri('vms/images/a.img')]);
    assert.equal(cmp.code, 0, cmp.stdout + cmp.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
