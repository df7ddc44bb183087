/** `glusterts dump HOST[:PORT]`: lists the RPC programs a GlusterFS server offers. */
import { RpcClient, encodeCredential, glusterV2 } from '../../rpc/index.js';
import { DUMP_GFS_ID, DumpProcs, Program, callProcedure } from '../../protocol/index.js';

export async function dump(target: string, timeoutMs = 5000): Promise<void> {
  const { host, port } = parseHostPort(target);
  const client = await RpcClient.connect({ host, port, timeout: timeoutMs });
  try {
    const reply = await callProcedure(
      client,
      Program.DUMP,
      DumpProcs.DUMP,
      { gfsId: DUMP_GFS_ID },
      { cred: encodeCredential(glusterV2(process.pid)), timeoutMs },
    );
    if (reply.opRet < 0) throw new Error(`DUMP failed: errno ${reply.opErrno}`);
    const role = reply.progs.some((p) => p.prognum === Program.PORTMAP.prog)
      ? 'management daemon (lists Portmap)'
      : reply.progs.some((p) => p.prognum === Program.FOP.prog)
        ? 'brick (lists the FOP program)'
        : 'server';
    console.log(`${host}:${port}: ${role}`);
    for (const p of reply.progs)
      console.log(`  ${String(p.prognum).padStart(10)}/${p.progver}  ${p.progname}`);
  } finally {
    client.close();
  }
}

export function parseHostPort(s: string, defaultPort = 24007): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s);
  if (!m) throw new Error(`expected HOST[:PORT], got ${s}`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bad port in ${s}`);
  return { host: m[1]!, port };
}
