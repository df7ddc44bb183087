// What protocol/client puts on the wire (seen by fake-brick.ts): credential flavours per
// step, the SETVOLUME dict gfapi-style, the caller's identity in every fop's credential,
// filter-O_DIRECT; and the options it refuses.
import { GF_O_DIRECT } from '../../../src/protocol/fops.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthFlavor, decodeCredential } from '../../../src/rpc/index.js';
import {
  DumpProcs,
  Fops,
  FOP_PROGRAM,
  legacyString,
  Program,
  ROOT_GFID,
  zeroValue,
  type LegacyDict,
  type ProcDef,
} from '../../../src/protocol/index.js';
import { FdTable, OpenFd } from '../../../src/xlator/index.js';
import { FakeBrick, type IncomingCall } from './fake-brick.js';
import { buildClient, ctx, lookupRoot, within } from './helpers.js';

const answerAll = (call: IncomingCall, conn: import('./fake-brick.js').FakeConn) => {
  const def = FOP_PROGRAM.procs.get(call.header.proc)! as ProcDef;
  conn.reply(call.header.xid, def, {
    ...(zeroValue(def.results) as object),
    ...(def.name === 'OPEN' ? { fd: 3 } : {}),
  });
};

function base(port: number) {
  return {
    'remote-host': '127.0.0.35',
    'remote-port': port,
    'remote-subvolume': '/fake/brick',
    'transport-type': 'tcp',
    'reconnect-interval-ms': 50,
    username: 'u-1',
    password: 'p-1',
    'volfile-key': 'vms',
  };
}

test('DUMP with v2, SETVOLUME with v3 and a gfapi-like dict; RECON_NO counts reconnects', async () => {
  const f = await FakeBrick.start({ onFop: answerAll });
  const b = await buildClient(base(f.port), 'vms-client-0');
  try {
    await within(5000, b.graph.ready(), 'ready');
    const flavor = (c: IncomingCall) => c.header.cred.flavor;
    const dump = f.calls.find(
      (c) => c.header.prog === Program.DUMP.prog && c.header.proc === DumpProcs.DUMP.proc,
    )!;
    assert.equal(flavor(dump), AuthFlavor.GLUSTERFS_V2);
    const setvolumes = () => f.calls.filter((c) => c.header.prog === Program.HANDSHAKE.prog);
    const sv = setvolumes()[0]!;
    assert.equal(flavor(sv), AuthFlavor.GLUSTERFS_V3);
    const d = (sv.args as { dict: LegacyDict }).dict;
    const get = (k: string) => legacyString(d, k);
    assert.equal(get('fops-version'), '1298437');
    assert.equal(get('remote-subvolume'), '/fake/brick');
    assert.equal(get('volfile-key'), 'vms');
    assert.equal(get('client-version'), '10.3');
    assert.equal(get('opversion'), '100000');
    assert.equal(get('transport-type'), 'socket');
    assert.equal(get('username'), 'u-1');
    assert.equal(get('password'), 'p-1');
    assert.equal(get('ping-timeout'), '42');
    assert.equal(get('reconnect-interval-ms'), undefined, 'glusterts-only options stay local');
    assert.match(
      get('process-uuid')!,
      new RegExp(
        `^CTX_ID:[0-9a-f-]{36}-GRAPH_ID:0-PID:${process.pid}-HOST:.+-PC_NAME:vms-client-0-RECON_NO:-0$`,
      ),
    );
    f.dropAll();
    const deadline = Date.now() + 3000;
    while (setvolumes().length < 2 || b.xl.state !== 'up') {
      assert.ok(Date.now() < deadline, 'reconnected');
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = legacyString((setvolumes()[1]!.args as { dict: LegacyDict }).dict, 'process-uuid')!;
    assert.match(again, /-RECON_NO:-1$/);
    assert.equal(again.replace(/-1$/, ''), get('process-uuid')!.replace(/-0$/, ''), 'same CTX_ID');
  } finally {
    await b.graph.fini();
    await f.close();
  }
});

test('every fop carries the caller’s uid, gid, groups, pid and lock owner (v3); send-gids off drops groups', async () => {
  const f = await FakeBrick.start({ onFop: answerAll });
  for (const sendGids of [true, false]) {
    const b = await buildClient({ ...base(f.port), 'send-gids': sendGids ? 'on' : 'off' });
    try {
      await within(5000, b.graph.ready(), 'ready');
      const groups = Array.from({ length: 200 }, (_, i) => 1000 + i);
      const lkOwner = Buffer.from('0123456789abcdef', 'hex');
      const caller = { uid: 1234, gid: 5678, groups, pid: 4242, lkOwner };
      await b.top.call(
        'STAT',
        { gfid: ROOT_GFID, xdata: null },
        { caller, session: { id: 's', fds: new FdTable() } },
      );
      const call = f.calls.filter((c) => c.header.prog === Program.FOP.prog).pop()!;
      const cred = decodeCredential(call.header.cred);
      assert.ok(cred && cred.flavor === AuthFlavor.GLUSTERFS_V3);
      assert.equal(cred.uid, 1234);
      assert.equal(cred.gid, 5678);
      assert.equal(cred.pid, 4242);
      assert.ok(cred.lkOwner.equals(lkOwner));
      // 400-byte body: 9 fixed words, 2 words of owner, so 89 groups fit.
      assert.deepEqual(cred.groups, sendGids ? groups.slice(0, 89) : []);
    } finally {
      await b.graph.fini();
    }
  }
  await f.close();
});

test('filter-O_DIRECT clears O_DIRECT from OPEN flags; the fd keeps what was sent', async () => {
  const f = await FakeBrick.start({ onFop: answerAll });
  const b = await buildClient({ ...base(f.port), 'filter-O_DIRECT': 'on' });
  try {
    await within(5000, b.graph.ready(), 'ready');
    const fd = new OpenFd(ROOT_GFID, 0o2 | GF_O_DIRECT, false);
    await b.top.call('OPEN', { gfid: ROOT_GFID, flags: 0o2 | GF_O_DIRECT, xdata: null, fd }, ctx());
    const open = f.calls
      .filter((c) => c.header.prog === Program.FOP.prog && c.header.proc === Fops.OPEN.proc)
      .pop()!;
    assert.equal((open.args as { flags: number }).flags, 0o2);
    assert.equal(b.xl.openFds, 1);
    await lookupRoot(b.top);
  } finally {
    await b.graph.fini();
    await f.close();
  }
});

test('options glusterts cannot honour are refused when the graph is built, with a clear message', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    // TLS whose files do not load fails the graph, naming the file.
    [
      { 'transport.socket.ssl-enabled': 'on', 'transport.socket.ssl-own-cert': '/nonexistent/c.pem' },
      /could not load own certificate at \/nonexistent\/c\.pem/,
    ],
    [{ 'client.ssl': 'on', 'transport.socket.ssl-own-cert': '/nonexistent/c.pem' }, /could not load own/],
    [{ 'transport-type': 'rdma' }, /transport-type rdma is not implemented/],
    [{ 'transport.address-family': 'unix' }, /address-family unix is not implemented/],
    [{ 'ping-timeout': 'soon' }, /ping-timeout: expected an integer/],
  ];
  for (const [extra, message] of cases) {
    await assert.rejects(buildClient({ ...base(1), ...extra }), message);
  }
  await assert.rejects(
    buildClient({ 'remote-host': 'h', 'transport-type': 'tcp' }),
    /remote-subvolume is required/,
  );
});

test('README lists every option of the schema, with its default', async () => {
  const { readFileSync } = await import('node:fs');
  const { clientOptions } = await import('../../../src/xlators/client/options.js');
  const readme = readFileSync(new URL('../../../../src/xlators/client/README.md', import.meta.url), 'utf8');
  for (const [key, spec] of Object.entries(clientOptions)) {
    const def = 'default' in spec ? String(spec.default) : '(required)';
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const row = new RegExp(
      `^\\|\\s*${esc(key)}\\s*\\|\\s*${esc(spec.type)}\\s*\\|\\s*${esc(def)}\\s*\\|`,
      'm',
    );
    assert.match(readme, row, `README row for ${key}`);
  }
});
