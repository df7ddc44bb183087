// Stock qemu-img (QEMU's gluster block driver, i.e. libgfapi 10.3) against the glusterts
// daemon.
//
// What this proves with any brick program: gfapi's management connection fetches the
// volfile with GETSPEC from our daemon, accepts op_ret and parses the generated client
// volfile (it builds the graph from it), and its protocol/client asks our portmap for the
// brick by the remote-subvolume we wrote, getting the port the brick signed in with.
// With the real brick (dist/src/brick/main.js, when present) it also proves the whole
// path: qemu-img creates a qcow2 image on the volume and reads it back with `info`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { requirePeer } from '../../src/peers/index.js';
import { REAL_BRICK, STUB_BRICK, startTestDaemon } from './support.js';

const HOST = '127.0.0.25';

interface Ran {
  code: number | null;
  out: string;
  timedOut: boolean;
}

/** Runs a program, killing it (by its pid) after `ms`. */
function runFor(file: string, args: string[], ms: number): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut });
    });
  });
}

test('stock qemu-img fetches our volfile (GETSPEC) and finds the brick through our portmap', async (t) => {
  if (!requirePeer('qemu-gluster', t)) return;
  const real = existsSync(REAL_BRICK);
  const td = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, real ? REAL_BRICK : STUB_BRICK],
  });
  try {
    const dir = td.brickDir('q0');
    await td.daemon.volumes.create('qv', [dir]);
    const started = await td.daemon.volumes.start('qv');
    assert.deepEqual(started.warnings, [], 'the brick signed in');
    const brickPort = td.daemon.portmap.get(dir)!.port;

    const getspecs: [string, string | undefined][] = [];
    const lookups: [string, number | undefined][] = [];
    td.daemon.on('getspec', (key, vol) => getspecs.push([key, vol]));
    td.daemon.on('portbybrick', (brick, port) => lookups.push([brick, port]));

    const uri = `gluster://${HOST}:${td.daemon.address.port}/qv/disk.qcow2`;
    const create = await runFor('qemu-img', ['create', '-f', 'qcow2', uri, '16M'], real ? 60_000 : 15_000);

    assert.deepEqual(getspecs[0], ['qv', 'qv'], 'gfapi asked for the volume by name and got it');
    assert.ok(
      lookups.some(([brick, port]) => brick === dir && port === brickPort),
      `protocol/client asked portmap for ${dir}: ${JSON.stringify(lookups)}`,
    );
    if (real) {
      assert.equal(create.code, 0, create.out);
      const info = await runFor('qemu-img', ['info', uri], 60_000);
      assert.equal(info.code, 0, info.out);
      assert.match(info.out, /file format: qcow2/);
      assert.match(info.out, /virtual size: 16 MiB/);
    } else {
      // The stub serves no file operations: qemu-img must fail (or be stopped), not succeed.
      assert.ok(create.code !== 0 || create.timedOut, 'the stub brick cannot store an image');
      t.diagnostic('stub brick: proved GETSPEC and portmap only; the real brick is not built yet');
    }
  } finally {
    await td.cleanup();
  }
});
