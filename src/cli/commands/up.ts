/**
 * `glusterts up`: the embedded default. Starts the management daemon, creates the volume
 * (one brick, DATA/bricks/<NAME>-0) on first run, starts it, waits for its brick to sign
 * in, prints how to use it, and runs until SIGINT/SIGTERM, which stop the bricks and the
 * daemon.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Daemon } from '../../mgmt/daemon.js';
import { untilSignal } from './daemon.js';
import { DEFAULT_NBD_PORT, startNbdExport, type NbdExport } from './nbd.js';

export interface UpOptions {
  data: string;
  host: string;
  port: number;
  volume: string;
  /** NBD export port on the same host (default 10809); -1 disables the export. */
  nbdPort?: number;
  /** The value --data defaults to, to leave it out of printed commands. */
  defaultData?: string;
}

export async function up(opts: UpOptions): Promise<void> {
  const data = resolve(opts.data);
  const stop = untilSignal();
  const daemon = await Daemon.start({ data, host: opts.host, port: opts.port });
  let nbd: NbdExport | undefined;
  try {
    const { host, port } = daemon.address;
    console.log(`glusterts management daemon listening on ${host}:${port} (data: ${data})`);
    const name = opts.volume;
    const brickDir = join(data, 'bricks', `${name}-0`);
    let vol = daemon.volumes.get(name);
    if (!vol) {
      mkdirSync(brickDir, { recursive: true });
      vol = (await daemon.volumes.create(name, [`${brickDir}`])).volume;
      console.log(`created volume ${name} (brick ${vol.bricks[0]!.host}:${brickDir})`);
    }
    if (vol.status !== 'started') await daemon.volumes.start(name);
    const ready = await Promise.race([
      Promise.all(
        vol.bricks.map((b) => daemon.portmap.waitForSignin(b.path, 30_000).then((e) => ({ b, e }))),
      ),
      stop.then(() => null),
    ]);
    if (!ready) return;
    for (const { b, e } of ready)
      console.log(`volume ${name} started: brick ${b.host}:${b.path} on port ${e.port} (pid ${e.pid})`);

    const nbdPort = opts.nbdPort ?? DEFAULT_NBD_PORT;
    if (nbdPort >= 0) {
      nbd = await startNbdExport({ host, port: nbdPort, volfileServer: { host, port } });
      console.log(`NBD export listening on ${host}:${nbd.address.port} (export names: VOLUME/PATH)`);
    }
    const hostPort = port === 24007 ? host : `${host}:${port}`;
    const uri = `gluster://${hostPort}/${name}/disk.qcow2`;
    const dataFlag = resolve(opts.defaultData ?? 'glusterts-data') === data ? '' : ` --data ${data}`;
    console.log(
      [
        '',
        'use it:',
        `  qemu-img create -f qcow2 ${uri} 10G`,
        `  qemu-system-x86_64 -m 2G -drive file=${uri},format=qcow2,if=virtio,cache=none`,
        ...(nbd
          ? [`  qemu-img info nbd://${host}:${nbd.address.port}/${name}/disk.qcow2      (any QEMU, over NBD)`]
          : []),
        `  glusterts volume info${dataFlag}`,
        `  glusterts dump ${hostPort}`,
        '',
        'press Ctrl-C to stop',
      ].join('\n'),
    );
    const signal = await stop;
    console.log(`\n${signal}: stopping the NBD export, bricks and daemon`);
  } finally {
    await nbd?.close();
    await daemon.close();
  }
}
