/**
 * A brick telling the management daemon where it listens (Portmap SIGNIN/SIGNOUT), with the
 * sign-in token the daemon gave it (src/protocol/brick-process.ts). A brick run by hand
 * without the token is refused by the daemon.
 */
import { RpcClient, encodeCredential, glusterV2 } from '../rpc/index.js';
import { PortmapProcs, Program, callProcedure, signinVerifier } from '../protocol/index.js';
export async function portmapSign(
  mgmt: { host: string; port: number },
  what: 'SIGNIN' | 'SIGNOUT',
  brick: string,
  port: number,
): Promise<void> {
  const client = await RpcClient.connect({ host: mgmt.host, port: mgmt.port, timeout: 5000 });
  try {
    const verf = signinVerifier();
    const opts = {
      cred: encodeCredential(glusterV2(process.pid)),
      timeoutMs: 5000,
      ...(verf ? { verf } : {}),
    };
    const reply =
      what === 'SIGNIN'
        ? await callProcedure(
            client,
            Program.PORTMAP,
            PortmapProcs.SIGNIN,
            { brick, port, pid: process.pid },
            opts,
          )
        : await callProcedure(
            client,
            Program.PORTMAP,
            PortmapProcs.SIGNOUT,
            { brick, port, rdmaPort: 0 },
            opts,
          );
    if (reply.opRet < 0) throw new Error(`${what} refused: errno ${reply.opErrno}`);
  } finally {
    client.close();
  }
}
