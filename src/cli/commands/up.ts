/** `glusterts up`: runs the embedded default in the foreground until SIGINT/SIGTERM. */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDaemon } from '../../mgmt/daemon.js';

export interface UpOptions {
  data: string;
  host: string;
  port: number;
  volume: string;
}

export async function up(opts: UpOptions): Promise<void> {
  const data = resolve(opts.data);
  mkdirSync(data, { recursive: true });
  const daemon = await startDaemon({ host: opts.host, port: opts.port });
  const { host, port } = daemon.address;
  const hostPort = port === 24007 ? host : `${host}:${port}`;
  console.log(`glusterts management daemon listening on ${host}:${port} (data: ${data})`);
  console.log(`serving: ${daemon.programs.map((p) => `${p.name} ${p.prog}/${p.vers}`).join(', ')}`);
  console.log(`check it with:    glusterts dump ${hostPort}`);
  console.log(
    `volume "${opts.volume}" and its bricks are not served yet (the volume service is the next milestone);\n` +
      `once they are, QEMU will reach it as:  qemu-img info gluster://${hostPort}/${opts.volume}/disk.qcow2`,
  );
  console.log('press Ctrl-C to stop');

  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      console.log(`\n${signal}: stopping`);
      process.off('SIGINT', onInt).off('SIGTERM', onTerm);
      daemon.close().then(done, done);
    };
    const onInt = () => stop('SIGINT');
    const onTerm = () => stop('SIGTERM');
    process.on('SIGINT', onInt).on('SIGTERM', onTerm);
  });
}
