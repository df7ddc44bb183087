// The glusterd role over loopback, as GlusterFS clients and bricks talk to it: DUMP,
// GETSPEC (byte-exact op_ret, key forms, hostile keys), GET_VOLUME_INFO, EVENT_NOTIFY,
// portmap, FETCHSPEC, persistence across restarts, and brick supervision (stub brick).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RpcError, type RpcCallback } from '../../src/rpc/index.js';
import {
  CallbackProcs,
  DumpProcs,
  DUMP_GFS_ID,
  Errno,
  HandshakeProcs,
  PortmapProcs,
  Program,
  legacyDict,
  legacyString,
  readBrickSignin,
} from '../../src/protocol/index.js';
import { Daemon } from '../../src/mgmt/daemon.js';
import { signinVerifier } from '../../src/protocol/index.js';
import { clientVolfile, brickVolfile } from '../../src/mgmt/volfiles.js';
import { brickVolfileKey } from '../../src/mgmt/volume.js';
import { STUB_BRICK, alive, call, connect, sleep, startTestDaemon, waitFor } from './support.js';

const HOST = '127.0.0.21';
const xdata = new Map<string, Buffer>();
const getspec = (key: string) => ({ flags: 1, key, xdata: legacyDict({ 'min-op-version': '1' }) });

test('DUMP lists exactly GF-DUMP, Portmap and Handshake; both PINGs answer', async () => {
  const t = await startTestDaemon(HOST);
  const c = await connect(t.daemon);
  try {
    const dump = await call(c, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID });
    assert.equal(dump.opRet, 0);
    assert.equal(dump.gfsId, 0n);
    assert.deepEqual(
      dump.progs.map((p) => [p.progname, p.prognum, p.progver]),
      [
        ['GF-DUMP', 123451501, 1],
        ['Gluster Portmap', 34123456, 1],
        ['Gluster Handshake', 14398633, 2],
      ],
    );
    assert.deepEqual(await call(c, Program.DUMP, DumpProcs.PING, null), {
      opRet: 0,
      opErrno: 0,
      xdata: Buffer.alloc(0),
    });
    assert.equal((await call(c, Program.HANDSHAKE, HandshakeProcs.PING, null)).opRet, 0);
    const ev = await call(c, Program.HANDSHAKE, HandshakeProcs.EVENT_NOTIFY, { op: 0, dict: xdata });
    assert.deepEqual([ev.opRet, ev.opErrno], [0, 0]);
  } finally {
    c.close();
    await t.cleanup();
  }
});

test('GETSPEC: op_ret is the byte length, keys with or without "/", brick keys, ENOENT otherwise', async () => {
  const t = await startTestDaemon(HOST);
  const c = await connect(t.daemon);
  try {
    // A non-ASCII brick path makes bytes and characters differ.
    const one = (await t.daemon.volumes.create('one', [t.brickDir('é0')])).volume;
    const three = (
      await t.daemon.volumes.create('three', [t.brickDir('t0'), t.brickDir('t1'), t.brickDir('t2')])
    ).volume;
    for (const [vol, key] of [
      [one, 'one'],
      [one, '/one'],
      [three, 'three'],
      [three, '//three'],
    ] as const) {
      const r = await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec(key));
      const expected = clientVolfile(vol, { mgmtPort: t.daemon.address.port });
      assert.equal(r.spec, expected, key);
      assert.equal(r.opRet, Buffer.byteLength(expected), key);
      assert.equal(r.opErrno, 0);
      assert.equal(r.xdata.size, 0);
      assert.equal(r.spec, readFileSync(join(t.data, 'vols', vol.name, `${vol.name}.tcp-fuse.vol`), 'utf8'));
    }
    const oneSpec = clientVolfile(one, { mgmtPort: t.daemon.address.port });
    assert.notEqual(Buffer.byteLength(oneSpec), oneSpec.length, 'the test covers multi-byte paths');
    assert.equal(
      (await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('three'))).spec.match(
        /type protocol\/client/g,
      )!.length,
      3,
    );

    const brick = three.bricks[1]!;
    const key = brickVolfileKey('three', brick);
    assert.equal(key, `three.${HOST}.${brick.path.slice(1).replaceAll('/', '-')}`);
    const b = await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec(key));
    assert.equal(b.spec, brickVolfile(three, brick));
    assert.equal(b.opRet, Buffer.byteLength(b.spec));

    const missing = await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('nope'));
    assert.deepEqual(missing, { opRet: -1, opErrno: Errno.ENOENT, spec: '', xdata });
  } finally {
    c.close();
    await t.cleanup();
  }
});

test('hostile GETSPEC keys get ENOENT or GARBAGE_ARGS and never disturb the daemon', async () => {
  const t = await startTestDaemon(HOST);
  const c = await connect(t.daemon);
  try {
    await t.daemon.volumes.create('vol', [t.brickDir('h0')]);
    const keys = [
      '',
      '/',
      '/'.repeat(4096),
      '../../../etc/passwd',
      '/vol/../vol',
      'vol\0',
      'vol ',
      'VOL',
      '__proto__',
      'constructor',
      'vol.',
      `vol.${HOST}.`,
      `vol.${HOST}`,
      'x'.repeat(4096),
      '\u{1F4A9}'.repeat(1024),
    ];
    for (const key of keys) {
      const r = await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec(key));
      assert.deepEqual(
        [r.opRet, r.opErrno, r.spec],
        [-1, Errno.ENOENT, ''],
        JSON.stringify(key).slice(0, 40),
      );
    }
    // Longer than PATH_MAX: refused by the codec before anything is allocated for it.
    await assert.rejects(
      c.call({
        ...Program.HANDSHAKE,
        proc: HandshakeProcs.GETSPEC.proc,
        cred: { flavor: 0, body: Buffer.alloc(0) },
        args: (w) => w.u32(1).string('x'.repeat(4097)).opaque(Buffer.alloc(0)),
      }),
      (e: unknown) => e instanceof RpcError && e.code === 'GARBAGE_ARGS',
    );
    // A length that promises 2 GiB, then nothing.
    await assert.rejects(
      c.call({
        ...Program.HANDSHAKE,
        proc: HandshakeProcs.GETSPEC.proc,
        cred: { flavor: 0, body: Buffer.alloc(0) },
        args: (w) => w.u32(1).u32(0x7fff_fff0),
      }),
      (e: unknown) => e instanceof RpcError && e.code === 'GARBAGE_ARGS',
    );
    const ok = await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('vol'));
    assert.ok(ok.opRet > 0, 'the same connection still works');
  } finally {
    c.close();
    await t.cleanup();
  }
});

test('GET_VOLUME_INFO answers volume_id; unknown volumes fail', async () => {
  const t = await startTestDaemon(HOST);
  const c = await connect(t.daemon);
  try {
    const vol = (await t.daemon.volumes.create('vi', [t.brickDir('vi0')])).volume;
    const r = await call(c, Program.HANDSHAKE, HandshakeProcs.GET_VOLUME_INFO, {
      dict: legacyDict({ volname: 'vi', flags: '1' }),
    });
    assert.equal(r.opRet, 0);
    assert.equal(legacyString(r.dict, 'volume_id'), vol.id);
    assert.match(vol.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const bad = await call(c, Program.HANDSHAKE, HandshakeProcs.GET_VOLUME_INFO, {
      dict: legacyDict({ volname: 'nope', flags: '1' }),
    });
    assert.deepEqual([bad.opRet, bad.opErrno], [-1, Errno.ENOENT]);
    const none = await call(c, Program.HANDSHAKE, HandshakeProcs.GET_VOLUME_INFO, { dict: new Map() });
    assert.equal(none.opRet, -1);
  } finally {
    c.close();
    await t.cleanup();
  }
});

test('PORTBYBRICK is -1,0,0,0 until a brick of a started volume signs in, and again after SIGNOUT', async () => {
  // This daemon's stub bricks never sign in themselves: the test does it.
  const t = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, STUB_BRICK, '--no-signin'],
    signinTimeoutMs: 200,
  });
  const c = await connect(t.daemon);
  try {
    const dir = t.brickDir('p0');
    await t.daemon.volumes.create('pm', [dir]);
    const ask = () => call(c, Program.PORTMAP, PortmapProcs.PORTBYBRICK, { brick: dir });
    const unknown = { opRet: -1, opErrno: 0, status: 0, port: 0 };
    assert.deepEqual(await ask(), unknown);
    // Not started yet: the sign-in is refused.
    const early = await call(c, Program.PORTMAP, PortmapProcs.SIGNIN, { brick: dir, port: 40001, pid: 1 });
    assert.deepEqual(early, { opRet: -1, opErrno: Errno.ENOENT });
    assert.deepEqual(await ask(), unknown);

    const started = await t.daemon.volumes.start('pm');
    assert.match(started.warnings.join(), /has not signed in/);
    assert.deepEqual(await ask(), unknown, 'running but not signed in');
    const stranger = await call(c, Program.PORTMAP, PortmapProcs.SIGNIN, {
      brick: '/elsewhere',
      port: 1,
      pid: 1,
    });
    assert.equal(stranger.opRet, -1);
    const bad = await call(c, Program.PORTMAP, PortmapProcs.SIGNIN, { brick: dir, port: 70000, pid: 1 });
    assert.equal(bad.opRet, -1);

    // Only the brick process the daemon started may sign in: it holds the brick's token.
    const token = signinVerifier(t.daemon.supervisor.signinToken(dir));
    const forged = await call(c, Program.PORTMAP, PortmapProcs.SIGNIN, {
      brick: dir,
      port: 40001,
      pid: 4242,
    });
    assert.deepEqual(forged, { opRet: -1, opErrno: Errno.ENOENT }, 'no token');
    const wrong = signinVerifier('00'.repeat(32));
    const guessed = await call(
      c,
      Program.PORTMAP,
      PortmapProcs.SIGNIN,
      { brick: dir, port: 40001, pid: 4242 },
      wrong,
    );
    assert.deepEqual(guessed, { opRet: -1, opErrno: Errno.ENOENT }, 'wrong token');
    assert.deepEqual(await ask(), unknown);
    const signin = await call(
      c,
      Program.PORTMAP,
      PortmapProcs.SIGNIN,
      { brick: dir, port: 40001, pid: 4242 },
      token,
    );
    assert.deepEqual(signin, { opRet: 0, opErrno: 0 });
    assert.deepEqual(await ask(), { opRet: 0, opErrno: 0, status: 0, port: 40001 });
    assert.deepEqual(
      await call(c, Program.PORTMAP, PortmapProcs.PORTBYBRICK, { brick: dir + '/' }),
      unknown,
      'exact brick names only',
    );
    const forgedOut = await call(c, Program.PORTMAP, PortmapProcs.SIGNOUT, {
      brick: dir,
      port: 40001,
      rdmaPort: 0,
    });
    assert.deepEqual(forgedOut, { opRet: -1, opErrno: Errno.EPERM }, 'SIGNOUT without the token');
    assert.deepEqual(await ask(), { opRet: 0, opErrno: 0, status: 0, port: 40001 });
    const out = await call(
      c,
      Program.PORTMAP,
      PortmapProcs.SIGNOUT,
      { brick: dir, port: 40001, rdmaPort: 0 },
      token,
    );
    assert.deepEqual(out, { opRet: 0, opErrno: 0 });
    assert.deepEqual(await ask(), unknown);
  } finally {
    c.close();
    await t.cleanup();
  }
});

test("a brick's SIGNIN is announced (EVENT_NOTIFY) to its volume's self-heal daemons only", async () => {
  // Stub bricks that never sign in themselves: the test does it.
  const t = await startTestDaemon(HOST, {
    brickCommand: [process.execPath, STUB_BRICK, '--no-signin'],
    signinTimeoutMs: 200,
  });
  const healer = await connect(t.daemon);
  const client = await connect(t.daemon);
  const heard: RpcCallback[] = [];
  const bystander: RpcCallback[] = [];
  healer.on('callback', (cb) => heard.push(cb));
  client.on('callback', (cb) => bystander.push(cb));
  try {
    const dirs = [0, 1, 2].map((i) => t.brickDir(`r${i}`));
    await t.daemon.volumes.create('rv', dirs, true, { replica: 3 });
    await t.daemon.volumes.set('rv', 'cluster.self-heal-daemon', 'off');
    await t.daemon.volumes.start('rv');
    await call(healer, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('/shd/rv'));
    await call(client, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('rv'));
    const signin = { brick: dirs[1]!, port: 40002, pid: 4243 };
    const token = signinVerifier(t.daemon.supervisor.signinToken(dirs[1]!));
    assert.deepEqual(await call(client, Program.PORTMAP, PortmapProcs.SIGNIN, signin, token), {
      opRet: 0,
      opErrno: 0,
    });
    await waitFor('EVENT_NOTIFY', () => (heard.length === 1 ? true : undefined));
    const cb = heard[0]!;
    assert.deepEqual(
      [cb.header.prog, cb.header.vers, cb.header.proc],
      [Program.CALLBACK.prog, Program.CALLBACK.vers, CallbackProcs.EVENT_NOTIFY.proc],
    );
    assert.deepEqual(readBrickSignin(cb.args), { brick: dirs[1], port: 40002 });
    await sleep(50);
    assert.equal(bystander.length, 0, 'a client of the volume hears nothing');
  } finally {
    healer.close();
    client.close();
    await t.cleanup();
  }
});

test('FETCHSPEC reaches the connections that fetched a volume when it is set, started, stopped', async () => {
  const t = await startTestDaemon(HOST);
  const fetcher = await connect(t.daemon);
  const bystander = await connect(t.daemon);
  const got: RpcCallback[] = [];
  const other: RpcCallback[] = [];
  fetcher.on('callback', (cb) => got.push(cb));
  bystander.on('callback', (cb) => other.push(cb));
  try {
    await t.daemon.volumes.create('fs', [t.brickDir('f0')]);
    await t.daemon.volumes.create('unrelated', [t.brickDir('u0')]);
    await call(fetcher, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('/fs'));
    await call(bystander, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('unrelated'));
    await call(bystander, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('nope'));

    await t.daemon.volumes.set('fs', 'client.trimmed', 'on');
    await waitFor('FETCHSPEC', () => (got.length === 1 ? true : undefined));
    const cb = got[0]!;
    assert.deepEqual(
      [cb.header.prog, cb.header.vers, cb.header.proc],
      [Program.CALLBACK.prog, Program.CALLBACK.vers, CallbackProcs.FETCHSPEC.proc],
    );
    assert.equal(cb.args.remaining, 0, 'FETCHSPEC has no body');
    const again = await call(fetcher, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('fs'));
    assert.doesNotMatch(again.spec, /performance\//, 'the refetched volfile is the trimmed one');

    await t.daemon.volumes.start('fs');
    await waitFor('FETCHSPEC after start', () => (got.length === 2 ? true : undefined));
    await t.daemon.volumes.stop('fs');
    await waitFor('FETCHSPEC after stop', () => (got.length === 3 ? true : undefined));
    await sleep(50);
    assert.equal(other.length, 0, 'connections that fetched other volumes hear nothing');
  } finally {
    fetcher.close();
    bystander.close();
    await t.cleanup();
  }
});

test('volumes, options and started bricks survive a daemon restart', async () => {
  const first = await startTestDaemon(HOST);
  const data = first.data;
  let second: Awaited<ReturnType<typeof startTestDaemon>> | undefined;
  try {
    const dir = first.brickDir('r0');
    const created = (await first.daemon.volumes.create('keep', [dir])).volume;
    await first.daemon.volumes.create('idle', [first.brickDir('r1')]);
    await first.daemon.volumes.set('keep', 'network.ping-timeout', '7');
    await first.daemon.volumes.start('keep');
    const pid1 = first.daemon.portmap.get(dir)!.pid;
    assert.ok(alive(pid1));
    await assert.rejects(startTestDaemon(HOST, { data }), /another glusterts daemon is running/);
    await first.daemon.close();
    assert.ok(!alive(pid1), 'closing the daemon stops its bricks');

    second = await startTestDaemon(HOST, { data });
    const vol = second.daemon.volumes.get('keep')!;
    assert.equal(vol.id, created.id);
    assert.equal(vol.status, 'started');
    assert.deepEqual(vol.options, { 'network.ping-timeout': '7' });
    assert.equal(second.daemon.volumes.get('idle')!.status, 'created');
    const entry = await second.daemon.portmap.waitForSignin(dir, 5000);
    assert.notEqual(entry.pid, pid1, 'the brick was started again');
    const c = await connect(second.daemon);
    try {
      const r = await call(c, Program.PORTMAP, PortmapProcs.PORTBYBRICK, { brick: dir });
      assert.deepEqual(r, { opRet: 0, opErrno: 0, status: 0, port: entry.port });
      const spec = await call(c, Program.HANDSHAKE, HandshakeProcs.GETSPEC, getspec('keep'));
      assert.match(spec.spec, /option ping-timeout 7\n/);
    } finally {
      c.close();
    }
    const stored = JSON.parse(readFileSync(join(data, 'vols', 'keep', 'info.json'), 'utf8'));
    assert.equal(stored.status, 'started');
    assert.deepEqual(
      readdirSync(join(data, 'vols', 'keep')).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary files left behind',
    );
    // A record that does not parse is skipped, not fatal.
    await second.daemon.close();
    writeFileSync(join(data, 'vols', 'idle', 'info.json'), '{"name": "idle", "id": 12');
    second = await startTestDaemon(HOST, { data });
    assert.equal(second.daemon.volumes.get('idle'), undefined);
    assert.ok(second.daemon.volumes.get('keep'));
  } finally {
    await first.daemon.close();
    await second?.daemon.close();
    await first.cleanup();
  }
});

test('a brick killed with SIGKILL is restarted with a new pid and signs in again; stop ends it', async () => {
  const t = await startTestDaemon(HOST);
  const c = await connect(t.daemon);
  try {
    const dir = t.brickDir('k0');
    await t.daemon.volumes.create('sup', [dir]);
    await t.daemon.volumes.start('sup');
    const first = t.daemon.portmap.get(dir)!;
    assert.equal(t.daemon.supervisor.pid(dir), first.pid);
    process.kill(first.pid, 'SIGKILL');
    const second = await waitFor('a new sign-in', () => {
      const e = t.daemon.portmap.get(dir);
      return e && e.pid !== first.pid ? e : undefined;
    });
    assert.ok(alive(second.pid));
    assert.equal(t.daemon.supervisor.info(dir)!.restarts, 1);
    const r = await call(c, Program.PORTMAP, PortmapProcs.PORTBYBRICK, { brick: dir });
    assert.deepEqual(r, { opRet: 0, opErrno: 0, status: 0, port: second.port });
    const log = readFileSync(
      join(t.data, 'logs', 'bricks', `${dir.slice(1).replaceAll('/', '-')}.log`),
      'utf8',
    );
    assert.equal(log.match(/listening on/g)!.length, 2, 'both runs logged to the brick log');

    const status = t.daemon.volumes.status('sup')[0]!;
    assert.deepEqual(status.bricks[0], {
      brick: `${HOST}:${dir}`,
      port: second.port,
      online: true,
      pid: second.pid,
    });

    await t.daemon.volumes.stop('sup');
    assert.ok(!alive(second.pid), 'stop ends the brick process');
    assert.equal(t.daemon.portmap.get(dir), undefined);
    assert.equal(t.daemon.volumes.status('sup')[0]!.bricks[0]!.online, false);
    await t.daemon.volumes.delete('sup');
    assert.ok(!existsSync(join(t.data, 'vols', 'sup')));
    assert.ok(existsSync(dir), 'delete leaves the brick directory alone');
  } finally {
    c.close();
    await t.cleanup();
  }
});

test('the daemon also serves a unix socket (gluster+unix)', async () => {
  const t = await startTestDaemon(HOST);
  const path = join(t.data, 'glusterd.socket');
  const d = await Daemon.start({
    data: join(t.data, 'second'),
    host: HOST,
    port: 0,
    socketPath: path,
    log: () => undefined,
  });
  try {
    const { RpcClient } = await import('../../src/rpc/index.js');
    const c = await RpcClient.connect({ path });
    const dump = await call(c, Program.DUMP, DumpProcs.DUMP, { gfsId: DUMP_GFS_ID });
    assert.equal(dump.progs.length, 3);
    c.close();
  } finally {
    await d.close();
    await t.cleanup();
  }
});
