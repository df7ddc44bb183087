// What both live suites run against a real brick (glusterts and stock 10.3): a file's
// life cycle through a one-layer client graph, with zero-copy proofs and errno checks.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { ROOT_GFID } from '../../../src/protocol/index.js';
import type { CallReply, CallRequest } from '../../../src/rpc/client.js';
import { encodeCredential, glusterV2, RpcClient } from '../../../src/rpc/index.js';
import { callProcedure, HandshakeProcs, legacyDict, Program } from '../../../src/protocol/index.js';
import { Graph, OpenFd, parseVolfile } from '../../../src/xlator/index.js';
import type { ClientTranslator } from '../../../src/xlators/client/index.js';
import {
  buildClient,
  close,
  create,
  ctx,
  fstat,
  lookup,
  lookupRoot,
  MiB,
  read,
  REGISTRY,
  rejectsWith,
  within,
  write,
  type BuiltClient,
} from './helpers.js';

/** Records what the current connection writes to its socket and the reply records it gets. */
export function instrument(b: BuiltClient): { written: unknown[]; records: Buffer[] } {
  const rpc = b.xl.rpc;
  assert.ok(rpc, 'connected');
  const written: unknown[] = [];
  const records: Buffer[] = [];
  const socket = rpc.socket as net.Socket;
  const origWrite = socket.write.bind(socket) as (chunk: Buffer) => boolean;
  socket.write = ((chunk: Buffer) => (written.push(chunk), origWrite(chunk))) as typeof socket.write;
  const origCall = rpc.call.bind(rpc);
  rpc.call = async (req: CallRequest): Promise<CallReply> => {
    const reply = await origCall(req);
    records.push(reply.record);
    return reply;
  };
  return { written, records };
}

export async function lifeCycle(options: Record<string, string | number>, label: string): Promise<void> {
  const b = await buildClient(options);
  try {
    await within(20_000, b.graph.ready(), `${label}: ready`);
    assert.equal(b.xl.state, 'up');

    const root = await lookupRoot(b.top);
    assert.ok(root.prestat.gfid.equals(ROOT_GFID), 'LOOKUP root answers the root gfid');
    await rejectsWith(lookup(b.top, `missing-${process.pid}`), 'ENOENT', 'LOOKUP of a missing name');

    const name = `client-${label}-${Date.now()}-${randomBytes(3).toString('hex')}`;
    const { fd, gfid } = await create(b.top, name);
    assert.equal(b.xl.openFds, 1);
    await rejectsWith(create(b.top, name), 'EEXIST', 'CREATE O_EXCL of an existing name');

    const { written, records } = instrument(b);
    const chunks = [randomBytes(MiB / 2), randomBytes(MiB / 2)];
    const wrote = await write(b.top, fd, 0, chunks);
    assert.equal(wrote.opRet, MiB, 'WRITE op_ret is the byte count');
    assert.ok(
      written.includes(chunks[0]) && written.includes(chunks[1]),
      'the WRITE chunks handed to the socket are the caller’s Buffer objects',
    );

    const got = await read(b.top, fd, 0, MiB);
    assert.equal(got.opRet, MiB, 'READ op_ret is the byte count');
    const payload = got.payload as Buffer;
    assert.ok(payload.equals(Buffer.concat(chunks)), 'READ returns what was written');
    const rec = records.find((r) => r.buffer === payload.buffer);
    assert.ok(rec, 'the READ payload is a view of a received RPC record');
    assert.ok(
      payload.byteOffset >= rec.byteOffset &&
        payload.byteOffset + payload.length <= rec.byteOffset + rec.length,
    );

    const st = await fstat(b.top, fd);
    assert.equal(Number(st.stat.size), MiB);
    assert.ok(st.stat.gfid.equals(gfid));

    // Many calls in flight at once on the one connection.
    const reads = await Promise.all(Array.from({ length: 32 }, (_, i) => read(b.top, fd, i * 4096, 4096)));
    reads.forEach((r, i) =>
      assert.ok((r.payload as Buffer).equals(chunks[0]!.subarray(i * 4096, (i + 1) * 4096))),
    );

    // The anonymous fd goes out as fd -2 on any fd fop, as stock's client_get_remote_fd
    // sends it (shard's per-shard DISCARD/ZEROFILL rely on it): READ, and FSTAT too.
    const anon = OpenFd.anonymous(gfid);
    const anonRead = await read(b.top, anon, MiB - 10, 10);
    assert.ok((anonRead.payload as Buffer).equals(chunks[1]!.subarray(chunks[1]!.length - 10)));
    const anonStat = await fstat(b.top, anon);
    assert.ok(anonStat.stat.gfid.equals(gfid), 'FSTAT on the anonymous fd');
    assert.equal(Number(anonStat.stat.size), MiB);

    await close(b.top, fd);
    assert.equal(b.xl.openFds, 0);
    await rejectsWith(fstat(b.top, fd), 'EBADF', 'FSTAT after RELEASE');

    // Errors keep their errno: UNLINK of a missing name, OPENDIR of a file.
    await rejectsWith(
      b.top.call('UNLINK', { pargfid: ROOT_GFID, bname: `nope-${name}`, xflags: 0, xdata: null }, ctx()),
      'ENOENT',
      'UNLINK of a missing name',
    );
    await b.top.call('UNLINK', { pargfid: ROOT_GFID, bname: name, xflags: 0, xdata: null }, ctx());
  } finally {
    await b.graph.fini();
  }
  assert.equal(b.xl.state, 'stopped');
}

/** A wrong remote-subvolume: whenReady rejects, naming it. */
export async function wrongSubvolume(options: Record<string, string | number>): Promise<void> {
  const bogus = '/no/such/brick-' + process.pid;
  const b = await buildClient({ ...options, 'remote-subvolume': bogus });
  try {
    const err = await within(
      15_000,
      b.graph.ready().then(
        () => null,
        (e: unknown) => e as Error,
      ),
      'ready',
    );
    assert.ok(err instanceof Error, 'whenReady rejects');
    assert.ok(err.message.includes(bogus), `the error names the subvolume: ${err.message}`);
    assert.equal(b.xl.state, 'failed');
    await rejectsWith(lookupRoot(b.top), 'ENOTCONN', 'a fop after the refusal');
  } finally {
    await b.graph.fini();
  }
}

/**
 * Fetches the client volfile a daemon (stock glusterd or glusterts) serves for `volume`,
 * builds its protocol/client block alone with strict options (every option the daemon
 * writes must be declared), and checks it connects and answers LOOKUP.
 */
export async function daemonVolfile(host: string, port: number, volume: string): Promise<void> {
  const rpc = await RpcClient.connect({ host, port });
  let spec: string;
  try {
    const reply = await callProcedure(
      rpc,
      Program.HANDSHAKE,
      HandshakeProcs.GETSPEC,
      { flags: 1, key: volume, xdata: legacyDict({ 'min-op-version': '1', 'max-op-version': '100000' }) },
      { cred: encodeCredential(glusterV2(0)) },
    );
    assert.ok(reply.opRet > 0, 'GETSPEC answered');
    spec = reply.spec;
  } finally {
    rpc.close();
  }
  const decl = parseVolfile(spec).volumes.find((v) => v.type === 'protocol/client');
  assert.ok(decl, spec);
  decl.options.set('reconnect-interval-ms', '200');
  const graph = await Graph.build({ volumes: [decl] }, REGISTRY, { strictOptions: true });
  try {
    await within(20_000, graph.ready(), 'ready');
    assert.equal((graph.top.translator as ClientTranslator).state, 'up');
    await lookupRoot(graph.top);
  } finally {
    await graph.fini();
  }
}
