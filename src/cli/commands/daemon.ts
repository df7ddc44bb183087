/** `glusterts daemon`: the management daemon in the foreground until SIGINT/SIGTERM. */
import { Daemon, type DaemonOptions } from '../../mgmt/daemon.js';

/** Resolves when a SIGINT or SIGTERM arrives (and stops listening for them). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on).off('SIGTERM', on);
      done(signal);
    };
    process.on('SIGINT', on).on('SIGTERM', on);
  });
}

export async function daemon(opts: DaemonOptions): Promise<void> {
  const stop = untilSignal();
  const d = await Daemon.start(opts);
  const { host, port } = d.address;
  console.log(
    `glusterts management daemon listening on ${host}:${port}` +
      (opts.socketPath ? ` and ${opts.socketPath}` : '') +
      ` (data: ${d.store.dataDir})`,
  );
  const signal = await stop;
  console.log(`${signal}: stopping bricks and daemon`);
  await d.close();
}
