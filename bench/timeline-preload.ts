/**
 * `node --import dist/bench/timeline-preload.js …`: appends `<epoch ms> <pid> <event> <argv>`
 * lines to $GLUSTERTS_TIMELINE when this Node process started (from performance.timeOrigin),
 * when its main module starts running (first parseArgs call: the module graph is loaded),
 * when a server of it listens, and when it exits. `node dist/bench/heal.js --timeline` sets it
 * on the glusterts side's processes (CLI, bricks, shd) to break the heal time down.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const util = require('node:util') as typeof import('node:util');
const net = require('node:net') as typeof import('node:net');
const file = process.env.GLUSTERTS_TIMELINE;
const argv = process.argv.slice(2).join(' ');
const stamp = (event: string, at = performance.timeOrigin + performance.now()) => {
  if (file) appendFileSync(file, `${at.toFixed(1)} ${process.pid} ${event} ${argv}\n`);
};

stamp('process', performance.timeOrigin);
const parseArgs = util.parseArgs;
let first = true;
util.parseArgs = ((config) => {
  if (first) stamp('main');
  first = false;
  return parseArgs(config);
}) as typeof parseArgs;
syncBuiltinESMExports();
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: import('node:net').Server, ...args: unknown[]) {
  this.once('listening', () => stamp('listening'));
  return (listen as (...a: unknown[]) => import('node:net').Server).apply(this, args);
} as typeof listen;
process.on('exit', () => stamp('exit'));
