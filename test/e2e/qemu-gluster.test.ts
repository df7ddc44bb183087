// Stock QEMU 7.2 (qemu-img, qemu-io and its gluster:// driver, libgfapi 10.3 inside)
// against `glusterts up`. Each qemu process spends ~10 s in libgfapi's glfs_fini, so the
// suite packs many commands into few processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { glusterUri, requirePeer, startGlusterts, type RunningGlusterts } from '../../src/peers/index.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
let g: RunningGlusterts | undefined;
let local: string;

/** Runs a QEMU tool; returns stdout (libgfapi logs to stderr, which stays out of it). */
async function qemu(cmd: string, args: string[]): Promise<string> {
  const { stdout } = await run(cmd, args, { timeout: 120_000, maxBuffer: 16 * MiB });
  return stdout;
}

before(async () => {
  local = mkdtempSync(join('/var/tmp', 'glusterts-qemu-'));
});

after(async () => {
  await g?.stop();
  rmSync(local, { recursive: true, force: true });
});

test('qemu-img create, info and check a qcow2 image over gluster://', async (t) => {
  if (!requirePeer('qemu-gluster', t)) return;
  g = await startGlusterts();
  const uri = glusterUri(g, 'a.qcow2');
  await qemu('qemu-img', ['create', '-f', 'qcow2', uri, '1G']);
  const info = JSON.parse(await qemu('qemu-img', ['info', '--output=json', uri])) as {
    format: string;
    'virtual-size': number;
  };
  assert.equal(info.format, 'qcow2');
  assert.equal(info['virtual-size'], 1024 * MiB);
  assert.match(await qemu('qemu-img', ['check', uri]), /No errors were found on the image/);
  assert.equal(
    readFileSync(join(g.brickDir, 'a.qcow2')).subarray(0, 4).toString('latin1'),
    'QFI\xfb',
    'qcow2 magic on the brick',
  );
});

test('qemu-io with cache=none: patterns, flush, discard, write -z; qemu-img map shows the holes', async (t) => {
  if (!requirePeer('qemu-gluster', t) || !g) return;
  const uri = glusterUri(g, 'r.img');
  await qemu('qemu-img', ['create', '-f', 'raw', uri, '64M']);
  const out = await qemu('qemu-io', [
    '-f',
    'raw',
    '-t',
    'none',
    uri,
    '-c',
    'write -P 0xab 0 1M',
    '-c',
    'read -P 0xab 0 1M',
    '-c',
    'write -P 0xcd 4M 1M',
    '-c',
    'flush',
    '-c',
    'discard 0 1M',
    '-c',
    'read -P 0 0 1M',
    '-c',
    'write -z 4M 512k',
    '-c',
    'read -P 0 4M 512k',
    '-c',
    'read -P 0xcd 4608k 512k',
    '-c',
    'write -P 0x11 63M 1M',
    '-c',
    'read -P 0x11 63M 1M',
  ]);
  assert.doesNotMatch(out, /fail|error|mismatch/i, out);
  assert.equal((out.match(/^read /gm) ?? []).length, 5, out);

  const map = JSON.parse(await qemu('qemu-img', ['map', '--output=json', '-f', 'raw', uri])) as {
    start: number;
    length: number;
    data: boolean;
    zero: boolean;
  }[];
  const at = (off: number) => map.find((e) => e.start <= off && off < e.start + e.length)!;
  assert.equal(at(0).data, false, 'the discarded first MiB is a hole');
  assert.equal(at(10 * MiB).data, false, 'never-written space is a hole');
  assert.equal(at(4608 * 1024).data, true, 'written data is data');
  assert.equal(at(63 * MiB).data, true);
  assert.equal(statSync(join(g.brickDir, 'r.img')).size, 64 * MiB);
});

test('qemu-img convert a local image into the volume; qemu-img compare says identical', async (t) => {
  if (!requirePeer('qemu-gluster', t) || !g) return;
  const src = join(local, 'src.raw');
  const data = Buffer.alloc(8 * MiB);
  randomBytes(2 * MiB).copy(data, 1 * MiB); // data with holes around it
  randomBytes(MiB).copy(data, 6 * MiB);
  writeFileSync(src, data);
  const uri = glusterUri(g, 'converted.qcow2');
  await qemu('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', src, uri]);
  assert.match(
    await qemu('qemu-img', ['compare', '-f', 'raw', '-F', 'qcow2', src, uri]),
    /Images are identical/,
  );
});
