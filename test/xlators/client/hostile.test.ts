// protocol/client against misbehaving servers (fake-brick.ts): garbage, lying lengths,
// wrong xids, huge records, stalls, refusals and seeded random replies. Nothing may
// crash the client or hang a call: every call settles with a reply or a FopError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AcceptStat, ReplyStat, RejectStat, successReply } from '../../../src/rpc/index.js';
import {
  CallbackProc,
  encodeReply,
  FOP_PROGRAM,
  Fops,
  HandshakeProcs,
  legacyDict,
  PortmapProcs,
  Program,
  ROOT_GFID,
  zeroValue,
  type FopName,
  type ProcDef,
} from '../../../src/protocol/index.js';
import { OpenFd } from '../../../src/xlator/index.js';
import {
  FakeBrick,
  GLUSTERD_PROGS,
  type FakeBrickOptions,
  type FakeConn,
  type IncomingCall,
} from './fake-brick.js';
import {
  buildClient,
  ctx,
  fstat,
  lookupRoot,
  read,
  rejectsWith,
  within,
  type BuiltClient,
} from './helpers.js';
import { sleep } from '../../../src/peers/process.js';

function options(port: number, extra: Record<string, string | number> = {}) {
  return {
    'remote-host': '127.0.0.35',
    'remote-port': port,
    'remote-subvolume': '/fake/brick',
    'transport-type': 'tcp',
    'reconnect-interval-ms': 50,
    'reconnect-wait-ms': 0,
    'ping-timeout': 1,
    ...extra,
  };
}

async function withFake(
  fake: FakeBrickOptions,
  extra: Record<string, string | number>,
  body: (b: BuiltClient, f: FakeBrick) => Promise<void>,
): Promise<void> {
  const f = await FakeBrick.start(fake);
  const b = await buildClient(options(f.port, extra));
  try {
    await body(b, f);
  } finally {
    await b.graph.fini();
    await f.close();
  }
}

function fopName(call: IncomingCall): FopName {
  return FOP_PROGRAM.procs.get(call.header.proc)!.name as FopName;
}

/** A well-formed successful reply for any fop, with overrides. */
function fopReply(conn: FakeConn, call: IncomingCall, fields: Record<string, unknown> = {}): void {
  const def = Fops[fopName(call)] as Omit<ProcDef, 'name'>;
  const results = { ...(zeroValue(def.results) as object), ...fields };
  conn.reply(call.header.xid, def, results);
}

const ready = (b: BuiltClient) => within(5000, b.graph.ready(), 'ready');

test('garbage instead of a DUMP reply: never up, fops fail ENOTCONN at once, the client keeps retrying', async () => {
  const junkRecord = Buffer.alloc(64, 0xa5);
  junkRecord.writeUInt32BE((0x8000_0000 | 60) >>> 0, 0);
  const garbage = [
    Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), // a mark of ~1.2 GB: refused at once
    junkRecord, // a whole record that is no RPC message
    Buffer.from([0x80, 0, 0, 2, 1]), // a record shorter than an xid
  ];
  for (const junk of garbage) {
    await withFake({ onConnect: (c) => c.write(junk) }, {}, async (b, f) => {
      await assert.rejects(b.graph.ready(AbortSignal.timeout(600)), 'whenReady does not resolve');
      await rejectsWith(lookupRoot(b.top), 'ENOTCONN', 'fop while never connected');
      assert.equal(b.xl.state, 'connecting');
      assert.ok(f.connections.length >= 2, `reconnected (${f.connections.length} attempts)`);
    });
  }
  // Garbage that stalls mid-record: the handshake-timeout (= ping-timeout here) ends it.
  await withFake({ onConnect: (c) => c.write(Buffer.from([0x80, 0, 1, 0, 1, 2, 3])) }, {}, async (b, f) => {
    await assert.rejects(b.graph.ready(AbortSignal.timeout(2500)));
    assert.ok(f.connections.length >= 2, `reconnected after the stall (${f.connections.length} attempts)`);
  });
});

interface FopCase {
  name: string;
  errno: string | null;
  fake?: Partial<FakeBrickOptions>;
  extra?: Record<string, string | number>;
  onFop(call: IncomingCall, conn: FakeConn): void;
  /** Which call to make (default LOOKUP root). */
  issue?: (b: BuiltClient) => Promise<unknown>;
  maxMs?: number;
}

const anyFd = () => OpenFd.anonymous(ROOT_GFID);

const CASES: FopCase[] = [
  {
    name: 'reply with a wrong xid (server still answers PINGs): frame-timeout → ENOTCONN',
    errno: 'ENOTCONN',
    extra: { 'frame-timeout': 1 },
    onFop: (call, conn) => fopReply(conn, { ...call, header: { ...call.header, xid: call.header.xid + 7 } }),
  },
  {
    name: 'silent server (no reply, no PING reply): ping-timeout drops the connection → ENOTCONN',
    errno: 'ENOTCONN',
    fake: { answerPing: false },
    onFop: () => undefined,
  },
  {
    name: 'READ reply whose op_ret promises 4096 bytes but carries 10 → EINVAL',
    errno: 'EINVAL',
    issue: (b) => read(b.top, anyFd(), 0, 4096),
    onFop: (call, conn) => {
      const w = Buffer.concat(
        encodeReply(successReply(call.header.xid), Fops.READ as unknown as ProcDef, {
          ...zeroValue(Fops.READ.results as never),
          opRet: 10,
          size: 10,
          xdata: null,
          payload: Buffer.alloc(10),
        }),
      );
      // Rewrite op_ret (after the 4-byte mark and 24-byte header) to 4096.
      w.writeInt32BE(4096, 28);
      conn.write(w);
    },
  },
  {
    name: 'record mark of 2 GiB: the client drops the connection → ENOTCONN',
    errno: 'ENOTCONN',
    onFop: (_call, conn) => conn.write(Buffer.from([0xff, 0xff, 0xff, 0xff]), randomBytes(64)),
  },
  {
    name: 'a 1 MiB record announced, 100 bytes sent, then a stall → ENOTCONN by ping-timeout',
    errno: 'ENOTCONN',
    onFop: (_call, conn) => {
      const mark = Buffer.alloc(4);
      mark.writeUInt32BE((0x8000_0000 | (1 << 20)) >>> 0);
      conn.write(mark, randomBytes(100));
    },
  },
  {
    name: 'SUCCESS header with truncated results → EINVAL',
    errno: 'EINVAL',
    onFop: (call, conn) => conn.rawReply(call.header.xid, Buffer.from([0, 0, 0, 0])),
  },
  {
    name: 'results followed by trailing bytes → EINVAL',
    errno: 'EINVAL',
    onFop: (call, conn) => {
      const def = Fops.LOOKUP;
      const chunks = encodeReply(
        successReply(call.header.xid),
        def as unknown as ProcDef,
        zeroValue(def.results),
      );
      const rec = Buffer.concat([...chunks, Buffer.alloc(8)]);
      rec.writeUInt32BE((0x8000_0000 | (rec.length - 4)) >>> 0, 0);
      conn.write(rec);
    },
  },
  {
    name: 'accept_stat GARBAGE_ARGS → ENOTCONN',
    errno: 'ENOTCONN',
    onFop: (call, conn) => conn.status(call.header.xid, AcceptStat.GARBAGE_ARGS),
  },
  {
    name: 'denied AUTH_ERROR → EACCES',
    errno: 'EACCES',
    onFop: (call, conn) =>
      conn.reply(call.header.xid, Fops.LOOKUP as never, undefined, {
        xid: call.header.xid,
        replyStat: ReplyStat.MSG_DENIED,
        rejectStat: RejectStat.AUTH_ERROR,
        authStat: 1,
      }),
  },
  {
    name: 'op_ret -1 with op_errno 0 → EIO',
    errno: 'EIO',
    onFop: (call, conn) => fopReply(conn, call, { opRet: -1, opErrno: 0 }),
  },
  {
    name: 'op_ret -1 with op_errno 1000000 → EIO',
    errno: 'EIO',
    onFop: (call, conn) => fopReply(conn, call, { opRet: -1, opErrno: 1_000_000 }),
  },
  {
    name: 'op_ret -7 with op_errno ENOENT → ENOENT',
    errno: 'ENOENT',
    onFop: (call, conn) => fopReply(conn, call, { opRet: -7, opErrno: 2 }),
  },
  {
    name: 'OPEN answered with fd -7 → EIO, nothing recorded',
    errno: 'EIO',
    issue: (b) =>
      b.top.call(
        'OPEN',
        { gfid: ROOT_GFID, flags: 0, xdata: null, fd: new OpenFd(ROOT_GFID, 0, false) },
        ctx(),
      ),
    onFop: (call, conn) => fopReply(conn, call, { fd: -7 }),
  },
  {
    name: 'the reply sent twice, plus a reply to an unknown xid: the extra ones are ignored',
    errno: null,
    onFop: (call, conn) => {
      fopReply(conn, call);
      fopReply(conn, call);
      fopReply(conn, { ...call, header: { ...call.header, xid: 0xdead } });
    },
  },
  {
    name: 'callbacks and stray CALLs around the reply are ignored',
    errno: null,
    onFop: (call, conn) => {
      const cb = Program.CALLBACK;
      conn.callback(1, cb.prog, cb.vers, CallbackProc.CHILD_DOWN);
      conn.callback(2, cb.prog, cb.vers, CallbackProc.CACHE_INVALIDATION, randomBytes(33));
      conn.callback(3, cb.prog, cb.vers, CallbackProc.CHILD_UP);
      conn.callback(4, 999, 9, 9, randomBytes(10));
      fopReply(conn, call);
    },
  },
];

for (const c of CASES) {
  test(`hostile FOP reply: ${c.name}`, async () => {
    await withFake({ ...c.fake, onFop: c.onFop }, c.extra ?? {}, async (b) => {
      await ready(b);
      const started = Date.now();
      const p = (c.issue ?? ((x: BuiltClient) => lookupRoot(x.top)))(b);
      if (c.errno === null) await within(c.maxMs ?? 5000, p, c.name);
      else await within(c.maxMs ?? 5000, rejectsWith(p, c.errno, c.name), c.name);
      assert.ok(Date.now() - started < (c.maxMs ?? 5000));
      if (c.name.startsWith('OPEN')) assert.equal(b.xl.openFds, 0);
    });
  });
}

test('handshake refusals: EACCES from SETVOLUME and an impossible portmap port reject whenReady, naming the brick', async () => {
  await withFake(
    {
      setvolume: (call, conn) =>
        conn.reply(call.header.xid, HandshakeProcs.SETVOLUME, {
          opRet: -1,
          opErrno: 13,
          dict: legacyDict({ ERROR: 'Authentication failed' }),
        }),
    },
    {},
    async (b) => {
      const err = await within(
        5000,
        b.graph.ready().then(
          () => null,
          (e: unknown) => e as Error,
        ),
        'ready',
      );
      assert.ok(err instanceof Error);
      assert.match(err.message, /\/fake\/brick.*Authentication failed \(EACCES\)/);
      assert.equal(b.xl.state, 'failed');
    },
  );
  await withFake(
    {
      progs: GLUSTERD_PROGS,
      portByBrick: (call, conn) =>
        conn.reply(call.header.xid, PortmapProcs.PORTBYBRICK, {
          opRet: 0,
          opErrno: 0,
          status: 0,
          port: 70000,
        }),
    },
    {},
    async (b) => {
      const err = await within(
        5000,
        b.graph.ready().then(
          () => null,
          (e: unknown) => e as Error,
        ),
        'ready',
      );
      assert.ok(err instanceof Error);
      assert.match(err.message, /knows no brick \/fake\/brick/);
    },
  );
});

test('a brick portmap has no port for yet (down when the client starts) is asked for again and comes up when it runs', async () => {
  const brick = await FakeBrick.start({});
  let running = false;
  const glusterd = await FakeBrick.start({
    progs: GLUSTERD_PROGS,
    portByBrick: (call, conn) =>
      conn.reply(
        call.header.xid,
        PortmapProcs.PORTBYBRICK,
        running
          ? { opRet: 0, opErrno: 0, status: 0, port: brick.port }
          : { opRet: -1, opErrno: 0, status: 0, port: 0 },
      ),
  });
  const b = await buildClient(options(glusterd.port));
  try {
    const err = await within(
      5000,
      b.graph.ready().then(
        () => null,
        (e: unknown) => e as Error,
      ),
      'ready',
    );
    assert.match(String(err), /knows no brick \/fake\/brick/);
    assert.equal(b.xl.state, 'failed');
    await rejectsWith(lookupRoot(b.top), 'ENOTCONN', 'a fop while the brick is not running');
    running = true;
    const state = (): string => b.xl.state;
    for (const until = Date.now() + 5000; state() !== 'up'; await sleep(20))
      assert.ok(Date.now() < until, `up once the brick runs (state ${state()})`);
  } finally {
    await b.graph.fini();
    await glusterd.close();
    await brick.close();
  }
});

test('handshake failures that may pass are retried: SETVOLUME EINVAL, garbage SETVOLUME, no FOP program, portmap loop', async () => {
  const variants: FakeBrickOptions[] = [
    {
      setvolume: (call, conn) =>
        conn.reply(call.header.xid, HandshakeProcs.SETVOLUME, { opRet: -1, opErrno: 22, dict: new Map() }),
    },
    { setvolume: (call, conn) => conn.rawReply(call.header.xid, randomBytes(7)) },
    { progs: [{ progname: 'x', prognum: 1, progver: 1 }] },
  ];
  for (const v of variants) {
    await withFake(v, {}, async (b, f) => {
      await assert.rejects(b.graph.ready(AbortSignal.timeout(500)));
      assert.equal(b.xl.state, 'connecting');
      assert.ok(f.connections.length >= 2, 'retried');
    });
  }
  // Portmap that names its own port: the brick "is glusterd again" → retried, no loop.
  const f = await FakeBrick.start({
    progs: GLUSTERD_PROGS,
    portByBrick: (call, conn) =>
      conn.reply(call.header.xid, PortmapProcs.PORTBYBRICK, {
        opRet: 0,
        opErrno: 0,
        status: 0,
        port: f.port,
      }),
  });
  const b = await buildClient(options(f.port));
  try {
    await assert.rejects(b.graph.ready(AbortSignal.timeout(500)));
    assert.equal(b.xl.state, 'connecting');
  } finally {
    await b.graph.fini();
    await f.close();
  }
});

test('disconnects: in-flight calls fail ENOTCONN at once; reconnect-wait-ms 0 fails new calls at once, > 0 waits', async () => {
  let answer = false;
  await withFake(
    { onFop: (call, conn) => answer && fopReply(conn, call) },
    { 'reconnect-interval-ms': 300 },
    async (b, f) => {
      await ready(b);
      const inflight = lookupRoot(b.top);
      await sleep(50);
      const dropped = Date.now();
      f.dropAll();
      await rejectsWith(inflight, 'ENOTCONN', 'in flight at the drop');
      assert.ok(Date.now() - dropped < 200);
      await sleep(20);
      const t0 = Date.now();
      await rejectsWith(lookupRoot(b.top), 'ENOTCONN', 'issued while down, no wait');
      assert.ok(Date.now() - t0 < 50, 'at once');
      answer = true;
      await within(3000, b.graph.ready(), 'back up');
    },
  );
  await withFake(
    { onFop: (call, conn) => fopReply(conn, call) },
    { 'reconnect-interval-ms': 300, 'reconnect-wait-ms': 3000 },
    async (b, f) => {
      await ready(b);
      f.dropAll();
      await sleep(20);
      const t0 = Date.now();
      await within(4000, lookupRoot(b.top), 'issued while down, waits');
      assert.ok(Date.now() - t0 >= 200, `waited for the reconnection (${Date.now() - t0} ms)`);
    },
  );
  await withFake({}, { 'reconnect-interval-ms': 5000, 'reconnect-wait-ms': 200 }, async (b, f) => {
    await ready(b);
    f.dropAll();
    await sleep(20);
    const t0 = Date.now();
    await rejectsWith(lookupRoot(b.top), 'ENOTCONN', 'wait expired');
    assert.ok(Date.now() - t0 >= 190 && Date.now() - t0 < 1000);
  });
});

test('while an fd waits for its re-open: READ goes out with fd -2, FSTAT fails EBADF; then the re-open lands', async () => {
  let reopen: (() => void) | undefined;
  let opens = 0;
  const seenReadFds: number[] = [];
  await withFake(
    {
      onFop: (call, conn) => {
        const name = fopName(call);
        if (name === 'OPEN') {
          opens++;
          // The first OPEN is the application's; the re-open waits for the test.
          if (opens === 1) fopReply(conn, call, { fd: 5 });
          else reopen = () => fopReply(conn, call, { fd: 9 });
          return;
        }
        if (name === 'READ') seenReadFds.push((call.args as { fd: number }).fd);
        if (name === 'READ')
          return fopReply(conn, call, { opRet: 0, size: 0, xdata: null, payload: Buffer.alloc(0) });
        fopReply(conn, call);
      },
    },
    { 'reconnect-wait-ms': 200 },
    async (b, f) => {
      await ready(b);
      const fd = new OpenFd(ROOT_GFID, 0o1102, false);
      await b.top.call('OPEN', { gfid: ROOT_GFID, flags: 0o1102, xdata: null, fd }, ctx());
      await read(b.top, fd, 0, 1);
      f.dropAll();
      const deadline = Date.now() + 3000;
      while (!reopen) {
        assert.ok(Date.now() < deadline, 're-open sent');
        await sleep(10);
      }
      assert.equal(b.xl.state, 'reopening');
      const reopenCall = f.calls.filter(
        (c) => c.header.prog === Program.FOP.prog && fopName(c) === 'OPEN',
      )[1]!;
      assert.equal((reopenCall.args as { flags: number }).flags, 0o2, 'O_CREAT|O_TRUNC dropped, O_RDWR kept');
      await read(b.top, fd, 0, 1);
      await rejectsWith(fstat(b.top, fd), 'EBADF', 'FSTAT before the re-open');
      reopen();
      await within(2000, b.graph.ready(), 'up after the re-open');
      await fstat(b.top, fd);
      await read(b.top, fd, 0, 1);
      assert.deepEqual(seenReadFds, [5, -2, 9]);
    },
  );
});

/** xorshift32: a deterministic stream for the fuzz below. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

test('seeded random replies (mutated, random bodies, random bytes): every call settles, the client survives', async () => {
  const rand = rng(0x5eed);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const outcomes = new Map<string, number>();
  await withFake(
    {
      onFop: (call, conn) => {
        const r = rand();
        const kind = r < 0.35 ? 0 : r < 0.6 ? 1 : r < 0.95 ? 2 : 3;
        if (kind === 0) return fopReply(conn, call);
        if (kind === 1) return conn.rawReply(call.header.xid, bytes(Math.floor(rand() * 300)));
        if (kind === 2) {
          const def = Fops[fopName(call)] as unknown as ProcDef;
          const rec = Buffer.concat(encodeReply(successReply(call.header.xid), def, zeroValue(def.results)));
          for (let i = 0; i < 3; i++) {
            // Not the mark or the xid: unanswered calls have their own tests (frame/ping timeouts).
            const at = 8 + Math.floor(rand() * (rec.length - 8));
            rec[at]! ^= 1 << Math.floor(rand() * 8);
          }
          return conn.write(rec);
        }
        conn.write(bytes(Math.floor(rand() * 64)));
      },
    },
    { 'reconnect-wait-ms': 3000, 'frame-timeout': 1 },
    async (b) => {
      await ready(b);
      for (let i = 0; i < 30; i++) {
        const batch = Array.from({ length: 4 }, () => lookupRoot(b.top));
        const settled = await within(10_000, Promise.allSettled(batch), `batch ${i}`);
        for (const s of settled) {
          const key =
            s.status === 'fulfilled' ? 'ok' : ((s.reason as { code?: string }).code ?? String(s.reason));
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        }
      }
    },
  );
  // Only FopErrors (errno names) or success; the mix shows each kind of answer was seen.
  const seen = JSON.stringify([...outcomes]);
  for (const key of outcomes.keys()) assert.match(key, /^(ok|E[A-Z]+)$/, seen);
  for (const key of ['ok', 'EINVAL', 'ENOTCONN']) assert.ok(outcomes.has(key), `${key} in ${seen}`);
});
