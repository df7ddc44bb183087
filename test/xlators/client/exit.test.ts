// After fini, protocol/client leaves no timer and no socket: a process that used it
// exits on its own, whether fini came while a call was in flight (ping and frame
// timers armed), while a reconnect was pending with a call waiting for it, or before
// it ever connected. Checked in a child process (exit-probe.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { FakeBrick } from './fake-brick.js';

const PROBE = new URL('./exit-probe.js', import.meta.url).pathname;

function probe(mode: string, port: number): Promise<{ code: number | null; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [PROBE, mode, String(port)],
      { timeout: 15_000 },
      (err, stdout, stderr) =>
        resolve({
          code: err ? ((err as { code?: number }).code ?? -1) : 0,
          out: stdout + stderr,
          ms: Date.now() - started,
        }),
    );
    child.stdin?.end();
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.35');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('fini with a call in flight: the process exits on its own', async () => {
  const f = await FakeBrick.start({ onFop: () => undefined });
  try {
    const r = await probe('up', f.port);
    assert.equal(r.code, 0, r.out);
    const report = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.equal(report.state, 'up');
    assert.match(report.outcomes[0], /^ENOTCONN/);
    assert.deepEqual(report.resources, []);
    assert.ok(r.ms < 10_000);
  } finally {
    await f.close();
  }
});

test('fini while a reconnect is pending and a call waits for it: the process exits on its own', async () => {
  const f = await FakeBrick.start({ onFop: (_call, conn) => conn.socket.destroy() });
  try {
    const r = await probe('down', f.port);
    assert.equal(r.code, 0, r.out);
    const report = JSON.parse(r.out.trim().split('\n').pop()!);
    assert.equal(report.state, 'connecting');
    assert.match(report.outcomes[0], /^ENOTCONN/, 'the call in flight at the drop');
    assert.match(report.outcomes[1], /^ENOTCONN.*stopped/, 'the waiting call, at fini');
    assert.deepEqual(report.resources, []);
  } finally {
    await f.close();
  }
});

test('fini before the brick was ever reachable: the process exits on its own', async () => {
  const r = await probe('never', await freePort());
  assert.equal(r.code, 0, r.out);
  const report = JSON.parse(r.out.trim().split('\n').pop()!);
  assert.equal(report.state, 'connecting');
  assert.match(report.outcomes[0], /^ENOTCONN/);
  assert.deepEqual(report.resources, []);
});
