// `glusterts up` also serves its volumes over NBD: a qcow2 image created and written
// through QEMU's gluster driver reads back identical through QEMU's NBD client, and
// libnbd's tools see the same image.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { glusterUri, requirePeer, startGlusterts, type RunningGlusterts } from '../../src/peers/index.js';

const run = promisify(execFile);
let g: RunningGlusterts | undefined;
const work = mkdtempSync(join('/var/tmp', 'glusterts-nbd-e2e-'));

after(async () => {
  await g?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function out(cmd: string, args: string[]): Promise<string> {
  return (await run(cmd, args, { timeout: 120_000, maxBuffer: 64 << 20 })).stdout;
}

test('a qcow2 image written over gluster:// reads back identical over nbd://', async (t) => {
  if (!requirePeer(['qemu-gluster', 'nbdinfo', 'nbdcopy'], t)) return;
  g = await startGlusterts({ host: '127.0.0.9' });
  assert.match(g.output(), /NBD export listening on 127\.0\.0\.9:10809/);
  const gluster = glusterUri(g, 'a.qcow2');
  const nbd = 'nbd://127.0.0.9:10809/vms/a.qcow2';
  await out('qemu-img', ['create', '-f', 'qcow2', gluster, '64M']);
  const written = await out('qemu-io', [
    '-f',
    'qcow2',
    gluster,
    '-c',
    'write -P 0x5a 1M 2M',
    '-c',
    'write -P 0xa5 40M 64k',
  ]);
  assert.match(written, /wrote 2097152\/2097152 bytes/);

  // QEMU's NBD client reads the same guest data…
  const read = await out('qemu-io', [
    '-f',
    'qcow2',
    '-r',
    nbd,
    '-c',
    'read -P 0x5a 1M 2M',
    '-c',
    'read -P 0xa5 40M 64k',
    '-c',
    'read -P 0 0 1M',
  ]);
  assert.doesNotMatch(read, /fail|mismatch/i, read);
  const info = JSON.parse(await out('qemu-img', ['info', '--output=json', nbd])) as {
    format: string;
    'virtual-size': number;
  };
  assert.deepEqual([info.format, info['virtual-size']], ['qcow2', 64 << 20]);
  // …the images compare equal across the two protocols…
  assert.match(
    await out('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', gluster, nbd]),
    /Images are identical/,
  );
  // …and libnbd copies out exactly the bytes on the brick.
  const copy = join(work, 'a.qcow2');
  await out('nbdcopy', [nbd, copy]);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  assert.equal(sha(readFileSync(copy)), sha(readFileSync(join(g.brickDir, 'a.qcow2'))));
  const size = JSON.parse(await out('nbdinfo', ['--json', nbd])) as { exports: { 'export-size': number }[] };
  assert.equal(size.exports[0]!['export-size'], readFileSync(join(g.brickDir, 'a.qcow2')).length);
});

test('an unknown volume or path is refused, the export keeps serving', async (t) => {
  if (!requirePeer('nbdinfo', t) || !g) return;
  await assert.rejects(out('nbdinfo', ['nbd://127.0.0.9:10809/novol/x.img']));
  await assert.rejects(out('nbdinfo', ['nbd://127.0.0.9:10809/vms/missing.img']));
  assert.match(await out('nbdinfo', ['nbd://127.0.0.9:10809/vms/a.qcow2']), /export-size/);
});

test('fio --ioengine=nbd through the gluster-backed export: 4 jobs, verify=crc32c, zero errors', async (t) => {
  if (!requirePeer(['fio', 'qemu-gluster'], t) || !g) return;
  await out('qemu-img', ['create', '-f', 'raw', glusterUri(g, 'fio.img'), '64M']);
  const { stdout } = await run(
    'fio',
    [
      '--name=nbd',
      '--ioengine=nbd',
      '--uri=nbd://127.0.0.9:10809/vms/fio.img',
      '--rw=randwrite',
      '--bs=4k',
      '--size=8M',
      '--numjobs=4',
      '--offset_increment=16M',
      '--iodepth=8',
      '--verify=crc32c',
      '--verify_fatal=1',
      '--verify_state_save=0',
      '--group_reporting',
      '--output-format=json',
    ],
    { cwd: work, timeout: 120_000, maxBuffer: 64 << 20 },
  );
  const job = (
    JSON.parse(stdout.slice(stdout.indexOf('{'))) as {
      jobs: { error: number; write: { io_bytes: number }; read: { io_bytes: number } }[];
    }
  ).jobs[0]!;
  assert.equal(job.error, 0);
  assert.equal(job.write.io_bytes, 4 * 8 * 1024 * 1024, 'every job wrote its 8 MiB');
  assert.equal(job.read.io_bytes, 4 * 8 * 1024 * 1024, 'and verified it by reading back');
});
