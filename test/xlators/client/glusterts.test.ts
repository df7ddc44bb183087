// protocol/client against a glusterts brick (`glusterts up` on 127.0.0.31): portmap and
// remote-port, a file's life cycle, a wrong remote-subvolume, and a brick killed (SIGKILL;
// the daemon restarts it) under IO.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { portByBrick } from '../../support/stock-gluster.js';
import { startGlusterts, type RunningGlusterts } from '../../support/glusterts-up.js';
import { lifeCycle, wrongSubvolume } from './scenario.js';

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
