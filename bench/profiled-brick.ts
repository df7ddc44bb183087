/**
 * A brick process under V8's CPU profiler, for `brick-cpu.js --profile DIR` (Node 20 refuses
 * --cpu-prof in NODE_OPTIONS, and the daemon starts bricks as `node SCRIPT`): the daemon runs
 * this file through $GLUSTERTS_BRICK_PROGRAM; it starts the profiler, runs the real brick
 * entry point, and writes DIR/brick-PID.cpuprofile (Chrome DevTools format) on SIGTERM.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.GLUSTERTS_BRICK_PROFILE_DIR;
if (!dir) throw new Error('GLUSTERTS_BRICK_PROFILE_DIR is not set');
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 200 });
session.post('Profiler.start');
// Registered before the brick's own handler, so the profile is written before it exits.
process.once('SIGTERM', () =>
  session.post('Profiler.stop', (err, res) => {
    if (err) console.error(`profiler: ${err.message}`);
    else writeFileSync(join(dir, `brick-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
  }),
);
await import('../src/brick/main.js');
