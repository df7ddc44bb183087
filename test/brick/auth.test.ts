// Who may attach to a brick and as whom it acts (docs/security.md): auth.addr matching
// (addresses, host names, CIDR for every prefix length, globs, negation, per-directory
// rules), auth.login verdicts, their precedence, root-squash/all-squash, and a running
// BrickServer taking new settings (clients no longer admitted disconnected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { RpcClient, encodeCredential, glusterV3 } from '../../src/rpc/index.js';
import {
  Fops,
  HandshakeProcs,
  Program,
  ROOT_GFID,
  callProcedure,
  legacyDict,
  legacyString,
  zeroIatt,
} from '../../src/protocol/index.js';
import { Graph, defineTranslator, parseVolfile, type Caller } from '../../src/xlator/index.js';
import { addrVerdict, entriesFor, globMatch, inNetwork } from '../../src/brick/auth-addr.js';
import { authenticate, loginVerdict, type AuthRules } from '../../src/brick/auth.js';
import { NO_SQUASH, squashCaller } from '../../src/brick/squash.js';
import { BrickServer, OPEN_ACCESS, type AccessSettings } from '../../src/brick/server.js';
import { serverSettings } from '../../src/brick/boot.js';

/** Reference CIDR check on bigints, for every prefix length. */
function refInNet(base: string, prefix: number, addr: string): boolean {
  const n = (a: string) => a.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
  const mask = prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
  return (n(base) & mask) === (n(addr) & mask);
}

test('CIDR matches exactly its network for every IPv4 prefix length, and IPv6', () => {
  const base = '10.37.201.77';
  const probes = [
    '10.37.201.77',
    '10.37.201.76',
    '10.37.200.1',
    '10.37.128.0',
    '10.36.201.77',
    '10.0.0.1',
    '138.37.201.77',
    '9.255.255.255',
  ];
  for (let p = 0; p <= 32; p++)
    for (const a of probes)
      assert.equal(inNetwork(`${base}/${p}`, a), refInNet(base, p, a), `${base}/${p} vs ${a}`);
  assert.equal(inNetwork('10.0.0.0/33', '10.0.0.1'), false);
  assert.equal(inNetwork('10.0.0.0/x', '10.0.0.1'), false);
  assert.equal(inNetwork('10.0.0.0/8', '::1'), false);
  assert.equal(inNetwork('fd00:1::/32', 'fd00:1:ffff::5'), true);
  assert.equal(inNetwork('fd00:1::/33', 'fd00:1:ffff::5'), false);
  assert.equal(inNetwork('::ffff:10.0.0.0/120', '::ffff:10.0.0.9'), true);
  assert.equal(inNetwork('::/0', '2001:db8::1'), true);
});

test('globs are fnmatch: *, ? and bracket classes; the rest literal', () => {
  assert.ok(globMatch('127.0.0.*', '127.0.0.12'));
  assert.ok(!globMatch('127.0.0.*', '127.0.1.12'));
  assert.ok(globMatch('127.0.0.?', '127.0.0.5'));
  assert.ok(!globMatch('127.0.0.?', '127.0.0.15'));
  assert.ok(globMatch('127.0.0.[2-4]', '127.0.0.3'));
  assert.ok(!globMatch('127.0.0.[!2-4]', '127.0.0.3'));
  assert.ok(!globMatch('127.0.0.1', '127.0.0.12'));
  assert.ok(!globMatch('127.0.0.1', '127x0x0x1'));
});

test('per-directory rules apply to the mount of their directory only; plain lists to every mount', () => {
  assert.deepEqual(entriesFor('10.0.0.1, 10.0.0.2', '/'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(entriesFor('10.0.0.1,10.0.0.2', '/d'), ['10.0.0.1', '10.0.0.2']);
  const rules = '/(127.0.0.5),/d(10.0.0.1|10.0.0.2),/d/e(*)';
  assert.deepEqual(entriesFor(rules, '/'), ['127.0.0.5']);
  assert.deepEqual(entriesFor(rules, '/d'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(entriesFor(rules, '/d/'), ['10.0.0.1', '10.0.0.2']);
  assert.deepEqual(entriesFor(rules, '/d/e'), ['*']);
  assert.deepEqual(entriesFor(rules, '/x'), []);
});

test('addr: reject wins over allow; host names resolve; ! negates; no match has no opinion', async () => {
  assert.equal(await addrVerdict({ allow: '*' }, '10.1.2.3', '/'), 'accept');
  assert.equal(await addrVerdict({ allow: '10.1.2.3' }, '10.1.2.4', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: '*', reject: '10.1.0.0/16' }, '10.1.2.3', '/'), 'reject');
  assert.equal(await addrVerdict({ allow: '10.1.2.3', reject: '10.1.2.3' }, '10.1.2.3', '/'), 'reject');
  assert.equal(await addrVerdict({ reject: '10.9.9.9' }, '10.1.2.3', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: '!10.1.*' }, '10.1.2.3', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: '!10.1.*' }, '10.2.2.3', '/'), 'accept');
  assert.equal(await addrVerdict({ allow: '!10.0.0.0/8' }, '10.2.2.3', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: 'localhost' }, '127.0.0.1', '/'), 'accept');
  assert.equal(await addrVerdict({ allow: 'localhost' }, '127.0.0.9', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: '!localhost' }, '127.0.0.9', '/'), 'accept');
  assert.equal(await addrVerdict({ allow: 'no-such-host.invalid' }, '127.0.0.1', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: '/(10.1.2.3),/d(10.1.2.4)' }, '10.1.2.4', '/'), 'dont-care');
  assert.equal(await addrVerdict({ allow: '/(10.1.2.3),/d(10.1.2.4)' }, '10.1.2.4', '/d'), 'accept');
});

const rules = (over: Partial<AuthRules> = {}): AuthRules => ({
  allow: '*',
  loginAllow: ['u1'],
  passwords: new Map([['u1', 'p1']]),
  strictAuth: false,
  ...over,
});
const req = (over: Record<string, string> = {}) => ({ peer: '10.1.2.3', subdir: '/', ...over });

test('login: listed user with the right password accepts, wrong rejects, none has no opinion', async () => {
  assert.equal(loginVerdict(rules(), req({ username: 'u1', password: 'p1' })), 'accept');
  assert.equal(loginVerdict(rules(), req({ username: 'u1', password: 'bad' })), 'reject');
  assert.equal(loginVerdict(rules(), req({ username: 'u1' })), 'dont-care');
  assert.equal(loginVerdict(rules(), req()), 'dont-care');
  assert.equal(loginVerdict(rules(), req({ username: 'other', password: 'x' })), 'dont-care');
  assert.equal(loginVerdict(rules({ strictAuth: true }), req()), 'reject');
  assert.equal(
    loginVerdict(rules({ strictAuth: true }), req({ username: 'other', password: 'x' })),
    'reject',
  );
  assert.equal(loginVerdict(rules({ loginAllow: ['u*'] }), req({ username: 'u2', password: 'x' })), 'reject');

  // Together: one reject refuses, one accept admits, nothing accepted refuses.
  const admitted = async (r: AuthRules, q: ReturnType<typeof req>) => (await authenticate(r, q)).admitted;
  assert.equal(await admitted(rules({ allow: '10.9.9.9' }), req()), false);
  assert.deepEqual(
    await authenticate(rules({ allow: '10.9.9.9' }), req({ username: 'u1', password: 'p1' })),
    {
      admitted: true,
      trusted: true,
    },
  );
  assert.equal(await admitted(rules({ reject: '10.1.2.3' }), req({ username: 'u1', password: 'p1' })), false);
  assert.equal(await admitted(rules(), req({ username: 'u1', password: 'bad' })), false);
  assert.deepEqual(await authenticate(rules(), req()), { admitted: true, trusted: false });
});

const root: Caller = { uid: 0, gid: 0, groups: [0, 5, 0], pid: 4242, lkOwner: Buffer.alloc(0) };
const user: Caller = { uid: 1000, gid: 1000, groups: [0, 10], pid: 4242, lkOwner: Buffer.alloc(0) };

test('root-squash maps 0s; all-squash maps everyone; trusted internal pids are exempt, gNFS never', () => {
  const rs = { ...NO_SQUASH, rootSquash: true, anonUid: 1234, anonGid: 4321 };
  assert.deepEqual(squashCaller(root, NO_SQUASH, false), root);
  const squashed = squashCaller(root, rs, false);
  assert.deepEqual([squashed.uid, squashed.gid, squashed.groups], [1234, 4321, [4321, 5, 4321]]);
  const u = squashCaller(user, rs, false);
  assert.deepEqual([u.uid, u.gid, u.groups], [1000, 1000, [4321, 10]]);
  const all = { ...rs, rootSquash: false, allSquash: true };
  const ua = squashCaller(user, all, false);
  assert.deepEqual([ua.uid, ua.gid, ua.groups], [1234, 4321, [4321, 10]]);
  for (const pid of [-1, -3, -4, -5, -6]) {
    assert.deepEqual(squashCaller({ ...root, pid }, rs, true), { ...root, pid }, `trusted pid ${pid}`);
    assert.equal(squashCaller({ ...root, pid }, rs, false).uid, 1234, `untrusted pid ${pid}`);
  }
  for (const pid of [1, -2, -7, 0, 4242]) assert.equal(squashCaller({ ...root, pid }, rs, true).uid, 1234);
});

test('serverSettings reads stock protocol/server options', () => {
  const vol = parseVolfile(
    [
      'volume /b\n type debug/io-stats\nend-volume',
      'volume s\n type protocol/server',
      ' option auth.addr./b.allow /(10.0.0.1)',
      ' option auth.addr./b.reject 10.0.0.0/8',
      ' option auth.login./b.allow u1,u2',
      ' option auth.login.u1.password p1',
      ' option root-squash on',
      ' option anonuid 7',
      ' subvolumes /b\nend-volume\n',
    ].join('\n'),
  );
  const { access } = serverSettings(vol.volumes[1]!);
  assert.equal(access.auth.allow, '/(10.0.0.1)');
  assert.equal(access.auth.reject, '10.0.0.0/8');
  assert.deepEqual(access.auth.loginAllow, ['u1', 'u2']);
  assert.deepEqual([...access.auth.passwords], [['u1', 'p1']]);
  assert.deepEqual(access.squash, { rootSquash: true, allSquash: false, anonUid: 7, anonGid: 65534 });
});

test('a running brick takes new access settings: squash at once, refused clients disconnected', async () => {
  const seen: Caller[] = [];
  const leaf = defineTranslator({
    type: 'storage/memory',
    options: {},
    children: 'none',
    create: () => ({
      fops: {
        async STAT(_req, ctx) {
          seen.push(ctx.caller);
          return { xdata: null, stat: { ...zeroIatt(), gfid: ROOT_GFID, ino: 1n } };
        },
      },
    }),
  });
  const top = defineTranslator({
    type: 'debug/io-stats',
    options: {},
    children: 'one',
    create: () => ({ fops: {} }),
  });
  const graph = await Graph.build(
    parseVolfile(
      'volume m\n type storage/memory\nend-volume\nvolume /b\n type debug/io-stats\n subvolumes m\nend-volume\n',
    ),
    new Map([leaf, top].map((t) => [t.type, t])),
  );
  const brick = new BrickServer({ graph, exportName: '/b', access: OPEN_ACCESS });
  const port = ((await brick.listen('127.0.0.1', 0)).address() as AddressInfo).port;
  const opts = { cred: encodeCredential(glusterV3(77)), timeoutMs: 5000 };
  const dict = legacyDict({ 'process-uuid': 'c', 'remote-subvolume': '/b', 'fops-version': '1298437' });
  const attach = async () => {
    const c = await RpcClient.connect({ host: '127.0.0.1', port });
    const r = await callProcedure(c, Program.HANDSHAKE, HandshakeProcs.SETVOLUME, { dict }, opts);
    return { c, r };
  };
  const lookup = (c: RpcClient) =>
    callProcedure(c, Program.FOP, Fops.STAT, { gfid: ROOT_GFID, xdata: null }, opts);
  try {
    const first = await attach();
    assert.equal(first.r.opRet, 0);
    await lookup(first.c);
    assert.equal(seen.at(-1)?.uid, 0);

    const squash: AccessSettings = {
      ...OPEN_ACCESS,
      squash: { ...NO_SQUASH, rootSquash: true, anonUid: 99 },
    };
    assert.equal(await brick.reconfigure(squash), 0);
    await lookup(first.c);
    assert.equal(seen.at(-1)?.uid, 99);

    const refused: AccessSettings = { ...squash, auth: { ...squash.auth, reject: '127.0.0.0/8' } };
    assert.equal(await brick.reconfigure(refused), 1);
    await assert.rejects(lookup(first.c));
    assert.ok(first.c.closed);
    const again = await attach();
    assert.equal(again.r.opRet, -1);
    assert.equal(again.r.opErrno, 13);
    assert.equal(legacyString(again.r.dict, 'ERROR'), 'Authentication failed');
    again.c.close();
  } finally {
    await brick.close();
    await graph.fini();
  }
});

test('a subdir mount is refused (ENOENT, stock text), never served the whole volume', async () => {
  const { checkSetvolume } = await import('../../src/brick/setvolume.js');
  const policy = { exportName: '/b', brickUuid: 'u', auth: OPEN_ACCESS.auth };
  const dict = (over: Record<string, string>) =>
    legacyDict({ 'process-uuid': 'c', 'remote-subvolume': '/b', 'fops-version': '1298437', ...over });
  const r = await checkSetvolume(dict({ 'subdir-mount': '/d' }), '127.0.0.1', policy);
  assert.equal(r.ok, false);
  assert.equal(r.ok ? 0 : r.errno, 2);
  assert.equal(legacyString(r.reply, 'ERROR'), 'subdirectory for mount "/d" is not found');
  assert.equal((await checkSetvolume(dict({}), '127.0.0.1', policy)).ok, true);
});
