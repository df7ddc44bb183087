/**
 * Probes of a running glusterd or brick over the project's own RPC client: portmap's
 * PORTBYBRICK (is the brick signed in, on which port) and GF-DUMP (does the server answer
 * RPC, which programs it offers). Probes carry PROBE_PID in their credential, so fixture
 * captures can tell them from the stock traffic they record.
 */
import { GLUSTERD_PORT } from '../protocol/portmap.js';
import {
  DUMP_GFS_ID,
  DumpProcs,
  PortmapProcs,
  Program,
  callProcedure,
  type Procedure,
  type ProgDetail,
} from '../protocol/index.js';
import { RpcClient, encodeCredential, glusterV2 } from '../rpc/index.js';
import type { Infer } from '../xdr/index.js';
import { sleep } from './process.js';

export { GLUSTERD_PORT };

/** The pid the harness's probes send: above Linux's pid_max, so no real client sends it. */
export const PROBE_PID = 0x4711_0000;

/** One call on a fresh connection, closed afterwards. */
async function probe<P extends Procedure>(
  host: string,
  port: number,
  program: { prog: number; vers: number },
  proc: P,
  args: Infer<P['args']>,
  timeoutMs: number,
): Promise<Infer<P['results']>> {
  const client = await RpcClient.connect({ host, port, timeout: timeoutMs }, { timeoutMs });
  try {
    return await callProcedure(client, program, proc, args, { cred: encodeCredential(glusterV2(PROBE_PID)) });
  } finally {
    client.close();
  }
}

/**
 * Asks glusterd's portmap for a brick's port. Returns the port, or 0 when glusterd answers
 * op_ret -1 (the brick has not signed in yet).
 */
export async function portByBrick(
  host: string,
  brick: string,
  port = GLUSTERD_PORT,
  timeoutMs = 2000,
): Promise<number> {
  const r = await probe(host, port, Program.PORTMAP, PortmapProcs.PORTBYBRICK, { brick }, timeoutMs);
  return r.opRet === 0 ? r.port : 0;
}

/** The programs a glusterd or brick lists in its GF-DUMP reply. */
export async function dumpPrograms(host: string, port: number, timeoutMs = 2000): Promise<ProgDetail[]> {
  const r = await probe(host, port, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID }, timeoutMs);
  if (r.opRet < 0) throw new Error(`DUMP on ${host}:${port} failed: errno ${r.opErrno}`);
  return r.progs;
}

/** True when host:port answers a GF-DUMP call. */
export function answersDump(host: string, port: number): Promise<boolean> {
  return dumpPrograms(host, port).then(
    () => true,
    () => false,
  );
}

/**
 * Waits until glusterd on host:port knows `brick` and the brick itself answers RPC;
 * resolves the brick's port.
 */
export async function waitForBrick(
  host: string,
  brick: string,
  timeoutMs = 30_000,
  port = GLUSTERD_PORT,
): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const brickPort = await portByBrick(host, brick, port).catch(() => 0);
    if (brickPort > 0 && (await answersDump(host, brickPort))) return brickPort;
    if (Date.now() > until) throw new Error(`brick ${host}:${brick} did not come online`);
    await sleep(100);
  }
}
