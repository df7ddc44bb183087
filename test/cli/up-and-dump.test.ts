// The CLI as a user runs it: `glusterts up` in the foreground, `glusterts dump` against
// it, and SIGTERM for a clean stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const run = promisify(execFile);

test('glusterts up serves DUMP, glusterts dump lists it, SIGTERM stops it cleanly', async () => {
  const data = mkdtempSync(join(tmpdir(), 'glusterts-up-'));
  const daemon = spawn(process.execPath, [CLI, 'up', '--host', '127.0.0.9', '--port', '0', '--data', data], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    const port = await new Promise<number>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no listening line in: ${out}`)), 10_000);
      daemon.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /listening on 127\.0\.0\.9:(\d+)/.exec(out);
        if (m && out.includes('Ctrl-C')) {
          clearTimeout(timer);
          ok(Number(m[1]));
        }
      });
    });
    assert.match(out, /gluster:\/\/127\.0\.0\.9:\d+\/vms\//, 'prints the QEMU URI to use');

    const { stdout } = await run(process.execPath, [CLI, 'dump', `127.0.0.9:${port}`]);
    assert.match(stdout, /123451501\/1\s+GF-DUMP/);
    assert.match(stdout, /14398633\/2\s+Gluster Handshake/);

    daemon.kill('SIGTERM');
    const [code] = await once(daemon, 'exit');
    assert.equal(code, 0, 'exits 0 on SIGTERM');
  } finally {
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
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
    run(process.execPath, [CLI, 'dump', '127.0.0.9:1']),
    (e: any) => e.code === 1 && /ECONNREFUSED/.test(e.stderr),
  );
});
