// protocol/client against a glusterts brick (`glusterts up` on 127.0.0.31): portmap and
// remote-port, a file's life cycle, a wrong remote-subvolume, and a brick killed (SIGKILL;
// the daemon restarts it) under IO.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { portByBrick, sleep, startGlusterts, type RunningGlusterts } from '../../../src/peers/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FopError } from '../../../src/protocol/index.js';
import { buildClient, close, create, fstat, MiB, read, within, write } from './helpers.js';
import { daemonVolfile, lifeCycle, wrongSubvolume } from './scenario.js';

let g: RunningGlusterts;

before(async () => {
  g = await startGlusterts({ host: '127.0.0.31' });
});
after(async () => {
  await g?.stop();
});

const base = () => ({
  'remote-host': g.host,
  'remote-subvolume': g.brickDir,
  'transport-type': 'tcp',
  'reconnect-interval-ms': 200,
});

test('glusterts brick through portmap (DUMP lists Portmap → PORTBYBRICK → brick)', async () => {
  await lifeCycle(base(), 'glusterts-portmap');
});

test('glusterts brick through remote-port (straight to the brick)', async () => {
  const port = await portByBrick(g.host, g.brickDir);
  assert.ok(port > 0);
  await lifeCycle({ ...base(), 'remote-port': port }, 'glusterts-direct');
});

test('glusterts: a wrong remote-subvolume rejects whenReady (portmap and brick refusals)', async () => {
  await wrongSubvolume(base());
  await wrongSubvolume({ ...base(), 'remote-port': await portByBrick(g.host, g.brickDir) });
});

test('the glusterts daemon’s own client volfile: its protocol/client block loads with strict options and connects', async () => {
  await daemonVolfile(g.host, g.port, g.volume);
});

/** The brick's PID, from the daemon's pid file (DATA/logs/bricks/<dashed path>.pid). */
function brickPid(gl: RunningGlusterts): number {
  const name = gl.brickDir.replace(/^\/+/, '').replace(/\//g, '-') + '.pid';
  return Number(readFileSync(join(gl.data, 'logs', 'bricks', name), 'utf8').trim()) || 0;
}

test('SIGKILL of the brick under IO: in-flight calls fail ENOTCONN, the client reconnects and re-opens the fd', async () => {
  const b = await buildClient({ ...base(), 'reconnect-wait-ms': 20_000 });
  try {
    await within(20_000, b.graph.ready(), 'ready');
    const { fd } = await create(b.top, `kill-${Date.now()}`);
    const pattern = Buffer.alloc(MiB, 0x5a);
    await write(b.top, fd, 0, [pattern]);
    const firstRpc = b.xl.rpc;

    // 16 streams of 1 MiB writes and reads, each until its first failure.
    let stop = false;
    const failures: string[] = [];
    const streams = Array.from({ length: 16 }, async (_, i) => {
      let ops = 0;
      while (!stop) {
        try {
          if (i % 2) await write(b.top, fd, 0, [pattern]);
          else assert.ok(((await read(b.top, fd, 0, MiB)).payload as Buffer).equals(pattern));
          ops++;
        } catch (e) {
          failures.push(e instanceof FopError ? e.code : String(e));
          return ops;
        }
      }
      return ops;
    });
    await sleep(300);
    const pid = brickPid(g);
    assert.ok(pid > 0);
    process.kill(pid, 'SIGKILL');
    const ops = await within(10_000, Promise.all(streams), 'in-flight calls settle');
    stop = true;
    assert.ok(
      ops.every((n) => n > 0),
      'every stream did IO before the kill',
    );
    assert.ok(failures.length > 0, 'calls in flight at the kill failed');
    assert.deepEqual([...new Set(failures)], ['ENOTCONN'], 'and only with ENOTCONN');

    // A call issued while down waits for the reconnection (reconnect-wait-ms), then works:
    // FSTAT needs a real remote fd, so it proves the re-open.
    const st = await within(25_000, fstat(b.top, fd), 'FSTAT issued during the outage');
    assert.equal(Number(st.stat.size), MiB);
    assert.equal(b.xl.state, 'up');
    assert.notEqual(b.xl.rpc, firstRpc, 'a new connection');
    assert.notEqual(brickPid(g), pid, 'the daemon restarted the brick');

    // The old fd reads and writes again.
    const fresh = Buffer.alloc(4096, 0x33);
    await write(b.top, fd, 4096, [fresh]);
    assert.ok(((await read(b.top, fd, 4096, 4096)).payload as Buffer).equals(fresh));
    await close(b.top, fd);
  } finally {
    await b.graph.fini();
  }
});
