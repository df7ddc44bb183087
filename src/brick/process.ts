/**
 * The brick process (the glusterfsd role), as the management daemon runs it:
 *
 *     node dist/src/brick/main.js --volfile FILE --brick-name /abs/path [--mgmt HOST:PORT]
 *
 * It loads the brick volfile, listens where protocol/server says, prints one line
 * `glusterts brick NAME listening on HOST:PORT pid PID`, signs in to the daemon's
 * portmap, and on SIGTERM/SIGINT signs out, closes and exits 0.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { TranslatorRegistry } from '../xlator/index.js';
import { bootBrick } from './boot.js';
import { portmapSign } from './signin.js';

function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(.+):(\d+)$/.exec(s);
  if (!m) throw new Error(`--mgmt expects HOST:PORT, got ${s}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export async function runBrickProcess(argv: string[], registry: TranslatorRegistry): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      volfile: { type: 'string' },
      'brick-name': { type: 'string' },
      mgmt: { type: 'string' },
    },
  });
  if (!values.volfile) throw new Error('--volfile is required');
  const brick = await bootBrick(await readFile(values.volfile, 'utf8'), registry);
  const name = values['brick-name'] ?? brick.exportName;
  if (name !== brick.exportName)
    throw new Error(`--brick-name ${name} is not the volfile's export ${brick.exportName}`);
  const mgmt = values.mgmt ? parseHostPort(values.mgmt) : undefined;
  console.log(`glusterts brick ${name} listening on ${brick.host}:${brick.port} pid ${process.pid}`);
  if (mgmt) await portmapSign(mgmt, 'SIGNIN', name, brick.port);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
  if (mgmt) await portmapSign(mgmt, 'SIGNOUT', name, brick.port).catch(() => undefined);
  await brick.close();
}
