// The CLI as a user runs it: `glusterts up` in the foreground (daemon, volume, brick),
// `glusterts dump` and `glusterts volume info` against it, and SIGTERM for a clean stop
// that leaves no brick process behind. Bricks are the stub brick program until the real
// one is used (see test/mgmt/real-brick.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { GLUSTERTS_CLI as CLI, alive, startGlusterts } from '../../src/peers/index.js';

const STUB_BRICK = new URL('../mgmt/stub-brick.js', import.meta.url).pathname;
const REAL_BRICK = new URL('../../src/brick/main.js', import.meta.url).pathname;
const HOST = '127.0.0.24';
const run = promisify(execFile);

/** Runs `glusterts up` until it prints "Ctrl-C"; returns the process and its output so far. */
async function up(data: string, brickProgram: string | null = STUB_BRICK, host = HOST) {
  const env = { ...process.env };
  if (brickProgram) env.GLUSTERTS_BRICK_PROGRAM = brickProgram;
  else delete env.GLUSTERTS_BRICK_PROGRAM;
  const g = await startGlusterts({ host, port: 0, data, env, timeoutMs: 15_000 });
  return { child: g.child, out: g.output() };
}

test('glusterts up serves volume vms with a signed-in brick; SIGTERM stops everything', async () => {
  const data = mkdtempSync(join(tmpdir(), 'gts-up-'));
  let first: Awaited<ReturnType<typeof up>> | undefined;
  let second: Awaited<ReturnType<typeof up>> | undefined;
  const brickPids: number[] = [];
  try {
    first = await up(data);
    const { out } = first;
    const port = Number(new RegExp(`listening on ${HOST.replaceAll('.', '\\.')}:(\\d+)`).exec(out)![1]);
    const brick = join(data, 'bricks', 'vms-0');
    assert.match(out, new RegExp(`created volume vms \\(brick ${HOST}:${brick}\\)`));
    const m = /brick \S+ on port (\d+) \(pid (\d+)\)/.exec(out)!;
    const brickPid = Number(m[2]);
    brickPids.push(brickPid);
    assert.ok(alive(brickPid), 'the brick process runs');
    const uri = `gluster://${HOST}:${port}/vms/disk.qcow2`;
    assert.ok(out.includes(`  qemu-img create -f qcow2 ${uri} 10G\n`), out);
    assert.ok(
      out.includes(`  qemu-system-x86_64 -m 2G -drive file=${uri},format=qcow2,if=virtio,cache=none\n`),
      out,
    );
    assert.ok(out.includes(`  glusterts volume info --data ${data}\n`), out);

    const dump = await run(process.execPath, [CLI, 'dump', `${HOST}:${port}`]);
    assert.match(dump.stdout, /management daemon \(lists Portmap\)/);
    assert.match(dump.stdout, /123451501\/1\s+GF-DUMP/);
    assert.match(dump.stdout, /14398633\/2\s+Gluster Handshake/);
    const info = await run(process.execPath, [CLI, 'volume', 'info', '--data', data]);
    assert.match(info.stdout, /Volume Name: vms\nType: Distribute\n/);
    assert.match(info.stdout, /Status: Started\n/);
    assert.ok(info.stdout.includes(`Brick1: ${HOST}:${brick}\n`));
    const id = /Volume ID: (\S+)/.exec(info.stdout)![1];

    first.child.kill('SIGTERM');
    const [code] = await once(first.child, 'exit');
    assert.equal(code, 0, 'exits 0 on SIGTERM');
    assert.ok(!alive(brickPid), 'the brick process is gone too');

    // The second run reuses the volume and starts its brick again.
    second = await up(data);
    assert.doesNotMatch(second.out, /created volume/);
    const pid2 = Number(/\(pid (\d+)\)/.exec(second.out)![1]);
    brickPids.push(pid2);
    assert.notEqual(pid2, brickPid);
    const info2 = await run(process.execPath, [CLI, 'volume', 'info', '--data', data]);
    assert.ok(info2.stdout.includes(`Volume ID: ${id}\n`), 'same volume');
    second.child.kill('SIGINT');
    assert.deepEqual(await once(second.child, 'exit'), [0, null]);
    assert.ok(!alive(pid2));
  } finally {
    // On failure: a clean stop first (it stops the brick), then force.
    for (const r of [first, second]) {
      if (!r || r.child.exitCode !== null) continue;
      r.child.kill('SIGTERM');
      const timer = setTimeout(() => r.child.kill('SIGKILL'), 5000);
      await once(r.child, 'exit');
      clearTimeout(timer);
    }
    for (const pid of brickPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});

test('glusterts up with the real brick program: the brick answers DUMP as a brick; SIGTERM ends it', async (t) => {
  if (!existsSync(REAL_BRICK)) {
    t.skip('src/brick/main.ts is not built');
    return;
  }
  const host = '127.0.0.27';
  const data = mkdtempSync(join(tmpdir(), 'gts-up-'));
  let running: Awaited<ReturnType<typeof up>> | undefined;
  let brickPid = 0;
  try {
    running = await up(data, null, host);
    const m = /on port (\d+) \(pid (\d+)\)/.exec(running.out)!;
    brickPid = Number(m[2]);
    const dump = await run(process.execPath, [CLI, 'dump', `${host}:${m[1]}`]);
    assert.match(dump.stdout, /brick \(lists the FOP program\)/);
    assert.match(dump.stdout, /1298437\/400/);
    assert.doesNotMatch(dump.stdout, /34123456/, 'a brick never lists Portmap');
    running.child.kill('SIGTERM');
    assert.deepEqual(await once(running.child, 'exit'), [0, null]);
    assert.ok(!alive(brickPid), 'the real brick exited with the daemon');
  } finally {
    if (running && running.child.exitCode === null) {
      running.child.kill('SIGTERM');
      await once(running.child, 'exit');
    }
    if (brickPid && alive(brickPid)) process.kill(brickPid, 'SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
});

test('glusterts reports bad arguments with a clear message and a non-zero exit', async () => {
  await assert.rejects(
    run(process.execPath, [CLI, 'frobnicate']),
    (e: any) => e.code === 2 && /unknown command/.test(e.stderr),
  );
  await assert.rejects(
    run(process.execPath, [CLI, 'up', '--port', 'x']),
    (e: any) => e.code === 1 && /--port/.test(e.stderr),
  );
  await assert.rejects(
    run(process.execPath, [CLI, 'daemon', '--port', '70000']),
    (e: any) => e.code === 1 && /--port/.test(e.stderr),
  );
  await assert.rejects(
    run(process.execPath, [CLI, 'dump', `${HOST}:1`]),
    (e: any) => e.code === 1 && /ECONNREFUSED/.test(e.stderr),
  );
});
