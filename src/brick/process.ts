/**
 * The brick process (the glusterfsd role), as the management daemon runs it:
 *
 *     node dist/src/brick/main.js --volfile FILE --brick-name /abs/path [--mgmt HOST:PORT]
 *
 * It loads the brick volfile, listens where protocol/server says, prints one line
 * `glusterts brick NAME listening on HOST:PORT pid PID`, signs in to the daemon's
 * portmap, on SIGHUP applies its volfile's new access options, and on SIGTERM/SIGINT signs
 * out, closes and exits 0.
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
  const volfile = values.volfile;
  // SIGHUP: read the volfile again and apply its access options (as glusterfsd refetches
  // its volfile on SIGHUP); the daemon sends it after `volume set` of a brick-side key. One
  // that comes while the brick boots is applied once it listens.
  let reload = () => void (hupWhileBooting = true);
  let hupWhileBooting = false;
  const onHup = () => reload();
  process.on('SIGHUP', onHup);
  const brick = await bootBrick(await readFile(volfile, 'utf8'), registry);
  const name = values['brick-name'] ?? brick.exportName;
  if (name !== brick.exportName)
    throw new Error(`--brick-name ${name} is not the volfile's export ${brick.exportName}`);
  const mgmt = values.mgmt ? parseHostPort(values.mgmt) : undefined;
  console.log(`glusterts brick ${name} listening on ${brick.host}:${brick.port} pid ${process.pid}`);
  if (mgmt) await portmapSign(mgmt, 'SIGNIN', name, brick.port);

  reload = () => {
    readFile(volfile, 'utf8')
      .then((text) => brick.reconfigure(text))
      .then(
        (dropped) => console.log(`glusterts brick ${name}: reconfigured, ${dropped} client(s) disconnected`),
        (err: unknown) => console.error(`glusterts brick ${name}: reconfigure failed: ${String(err)}`),
      );
  };
  if (hupWhileBooting) reload();
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop).off('SIGINT', stop);
      resolve();
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
  process.off('SIGHUP', onHup);
  if (mgmt) await portmapSign(mgmt, 'SIGNOUT', name, brick.port).catch(() => undefined);
  await brick.close();
}
