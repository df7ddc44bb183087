// A stand-in brick program for supervision tests, following src/brick/main.ts's contract:
//   node stub-brick.js [--no-signin] --volfile FILE --brick-name /abs/path --mgmt HOST:PORT
// It reads protocol/server's bind-address and listen-port from the volfile, listens there
// (answering GF-DUMP as a brick would), prints the "listening" line, signs in to the
// daemon's portmap, and on SIGTERM signs out and exits 0. It serves no file operations.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { RpcClient, RpcServer, encodeCredential, glusterV2 } from '../../src/rpc/index.js';
import {
  DumpProcs,
  PortmapProcs,
  Program,
  callProcedure,
  procedureHandler,
} from '../../src/protocol/index.js';
import { parseVolfile } from '../../src/xlator/volfile.js';
import { signinVerifier } from '../../src/protocol/index.js';
import type { Infer } from '../../src/xdr/index.js';

const { values } = parseArgs({
  options: {
    volfile: { type: 'string' },
    'brick-name': { type: 'string' },
    mgmt: { type: 'string' },
    'no-signin': { type: 'boolean' },
  },
});
const brick = values['brick-name']!;
const [mgmtHost, mgmtPort] = values.mgmt!.split(':') as [string, string];
const graph = parseVolfile(readFileSync(values.volfile!, 'utf8'));
const server = graph.volumes.find((v) => v.type === 'protocol/server')!;
if (!graph.volumes.some((v) => v.name === brick)) throw new Error(`volfile has no volume named ${brick}`);

const rpc = new RpcServer();
rpc.register({
  ...Program.DUMP,
  name: 'GF-DUMP',
  procs: {
    [DumpProcs.DUMP.proc]: procedureHandler(DumpProcs.DUMP, () => ({
      gfsId: 0n,
      opRet: 0,
      opErrno: 0,
      progs: [{ progname: 'GF-DUMP', prognum: Program.DUMP.prog, progver: Program.DUMP.vers }],
    })),
  },
});
const net = await rpc.listen({
  host: server.options.get('transport.socket.bind-address')!,
  port: Number(server.options.get('transport.socket.listen-port') ?? 0),
});
const { address, port } = net.address() as AddressInfo;
console.log(`glusterts brick ${brick} listening on ${address}:${port} pid ${process.pid}`);

async function portmap<P extends typeof PortmapProcs.SIGNIN | typeof PortmapProcs.SIGNOUT>(
  proc: P,
  args: Infer<P['args']>,
): Promise<void> {
  const client = await RpcClient.connect({ host: mgmtHost, port: Number(mgmtPort) });
  try {
    const verf = signinVerifier();
    const r = await callProcedure(client, Program.PORTMAP, proc, args, {
      cred: encodeCredential(glusterV2(process.pid)),
      ...(verf ? { verf } : {}),
      timeoutMs: 5000,
    });
    console.log(`portmap proc ${proc.proc}: op_ret ${r.opRet}`);
  } finally {
    client.close();
  }
}

if (!values['no-signin']) await portmap(PortmapProcs.SIGNIN, { brick, port, pid: process.pid });

process.on('SIGTERM', () => {
  portmap(PortmapProcs.SIGNOUT, { brick, port, rdmaPort: 0 })
    .catch((err: unknown) => console.error(`signout failed: ${String(err)}`))
    .finally(() => {
      void rpc.close();
      process.exit(0);
    });
});
