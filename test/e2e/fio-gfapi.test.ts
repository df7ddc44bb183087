// fio 3.33's gfapi and gfapi_async engines (stock libgfapi 10.3) against `glusterts up`:
// 4 jobs, sequential and random, writes verified with crc32c, then reads; zero errors.
// The gfapi engine always talks to port 24007, hence the server's own 127.0.0.3.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requirePeer, startGlusterts, type RunningGlusterts } from '../../src/peers/index.js';

const run = promisify(execFile);
let g: RunningGlusterts | undefined;
const jobs = mkdtempSync(join('/var/tmp', 'glusterts-fio-'));

after(async () => {
  await g?.stop();
  rmSync(jobs, { recursive: true, force: true });
  // fio's gfapi engine logs to a fixed path; do not leave it behind.
  rmSync('/tmp/fio_gfapi.log', { force: true });
});

interface FioJob {
  jobname: string;
  error: number;
  read: { io_bytes: number };
  write: { io_bytes: number };
}

async function fio(engine: string, host: string, extra: string): Promise<FioJob[]> {
  const file = join(jobs, `${engine}.fio`);
  // Jobs run as threads sharing one gfapi instance (single-instance), and the two write
  // sections run together, then the two read sections: stock libgfapi spends ~10 s in
  // glfs_fini per instance, which would otherwise be paid per job and per section.
  writeFileSync(
    file,
    `[global]
ioengine=${engine}
volume=vms
brick=${host}
thread
single-instance=1
direct=1
verify_state_save=0
size=4M
numjobs=4
group_reporting=0
${engine === 'gfapi_async' ? 'iodepth=8' : ''}

[seq-write]
rw=write
bs=64k
verify=crc32c
filename_format=${engine}.seq.$jobnum

[rand-write]
rw=randwrite
bs=4k
verify=crc32c
filename_format=${engine}.rand.$jobnum

[seq-read]
stonewall
rw=read
bs=128k
filename_format=${engine}.seq.$jobnum

[rand-read]
rw=randread
bs=4k
filename_format=${engine}.rand.$jobnum
${extra}`,
  );
  const { stdout } = await run('fio', ['--output-format=json', file], {
    cwd: jobs,
    timeout: 240_000,
    maxBuffer: 64 << 20,
  });
  return (JSON.parse(stdout.slice(stdout.indexOf('{'))) as { jobs: FioJob[] }).jobs;
}

for (const engine of ['gfapi', 'gfapi_async']) {
  test(`fio ${engine}: 4 jobs, sequential and random, verified writes and reads, no errors`, async (t) => {
    if (!requirePeer(['fio', 'stock-gluster'], t)) return;
    g ??= await startGlusterts({ host: '127.0.0.3' });
    const results = await fio(engine, g.host, '');
    assert.equal(results.length, 16, '4 sections × 4 jobs');
    for (const j of results) {
      assert.equal(j.error, 0, `${j.jobname}: fio error ${j.error}`);
      const moved = j.jobname.includes('write') ? j.write.io_bytes : j.read.io_bytes;
      assert.equal(moved, 4 * 1024 * 1024, `${j.jobname} moved its whole file`);
    }
  });
}
