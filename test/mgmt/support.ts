// Shared helpers for the management daemon's tests: a daemon on a private loopback address
// and state directory, running the stub brick, and typed calls to it.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient, encodeCredential, glusterV2, type OpaqueAuth } from '../../src/rpc/index.js';
import { callProcedure, type Procedure } from '../../src/protocol/index.js';
import { Daemon, type DaemonOptions } from '../../src/mgmt/daemon.js';
import type { Infer } from '../../src/xdr/index.js';

export const STUB_BRICK = new URL('./stub-brick.js', import.meta.url).pathname;
export const REAL_BRICK = new URL('../../src/brick/main.js', import.meta.url).pathname;

export interface TestDaemon {
  daemon: Daemon;
  data: string;
  /** Makes an empty directory to use as a brick. */
  brickDir(name: string): string;
  cleanup(): Promise<void>;
}

/** A fresh state directory and a daemon on `host`, port 0, supervising the stub brick. */
export async function startTestDaemon(
  host: string,
  opts: Partial<DaemonOptions> & { data?: string } = {},
): Promise<TestDaemon> {
  const data = opts.data ?? mkdtempSync(join(tmpdir(), 'gts-mgmt-'));
  const daemon = await Daemon.start({
    host,
    port: 0,
    brickCommand: [process.execPath, STUB_BRICK],
    brickStopGraceMs: 2000,
    brickRestartMinMs: 100,
    brickRestartMaxMs: 400,
    signinTimeoutMs: 5000,
    log: () => undefined,
    ...opts,
    data,
  });
  return {
    daemon,
    data,
    brickDir(name) {
      const dir = join(data, 'bricks', name);
      mkdirSync(dir, { recursive: true });
      return dir;
    },
    async cleanup() {
      await daemon.close();
      if (!opts.data) rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function connect(daemon: Daemon): Promise<RpcClient> {
  return RpcClient.connect({ host: daemon.address.host, port: daemon.address.port }, { timeoutMs: 5000 });
}

export function call<P extends Procedure>(
  client: RpcClient,
  program: { prog: number; vers: number },
  proc: P,
  args: Infer<P['args']>,
  verf?: OpaqueAuth,
): Promise<Infer<P['results']>> {
  return callProcedure(client, program, proc, args, {
    cred: encodeCredential(glusterV2(process.pid)),
    ...(verf ? { verf } : {}),
  });
}

// Process helpers shared with every suite that drives real processes.
export { alive, sleep, waitFor } from '../../src/peers/process.js';
