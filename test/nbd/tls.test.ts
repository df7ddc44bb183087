// STARTTLS with X.509 (certificates made here with openssl), against nbdinfo (nbds:// with
// tls-certificates) and qemu-img (--object tls-creds-x509), in require-TLS mode on
// 127.0.0.53: plaintext clients are refused, and plaintext pipelined behind STARTTLS never
// reaches the TLS session (CVE-2021-3716).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { Channel } from '../../src/nbd/channel.js';
import { OPT, REP } from '../../src/nbd/protocol.js';
import { RawClient, run, startServer, tempDir, type Running } from './support.js';

const HOST = '127.0.0.53';
const MiB = 1024 * 1024;
let srv: Running;
let dir: string;
let pki: string;
let cleanup: () => Promise<void>;

async function openssl(args: string[]): Promise<void> {
  const r = await run('openssl', args);
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  ({ dir, cleanup } = await tempDir('tls'));
  pki = join(dir, 'pki');
  await run('mkdir', [pki]);
  const p = (f: string): string => join(pki, f);
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('ca-key.pem'),
    '-out',
    p('ca-cert.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=glusterts test CA',
  ]);
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    p('server-key.pem'),
    '-out',
    p('server.csr'),
    '-subj',
    `/CN=${HOST}`,
  ]);
  await writeFile(
    p('ext.cnf'),
    `subjectAltName=IP:${HOST}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
  );
  await openssl([
    'x509',
    '-req',
    '-in',
    p('server.csr'),
    '-CA',
    p('ca-cert.pem'),
    '-CAkey',
    p('ca-key.pem'),
    '-CAcreateserial',
    '-out',
    p('server-cert.pem'),
    '-days',
    '2',
    '-extfile',
    p('ext.cnf'),
  ]);
  await writeFile(join(dir, 't.img'), '');
  await truncate(join(dir, 't.img'), 16 * MiB);
  srv = await startServer(
    HOST,
    { exports: { 'vms/t.img': join(dir, 't.img') } },
    {
      tls: { cert: await readFile(p('server-cert.pem')), key: await readFile(p('server-key.pem')) },
      requireTls: true,
      handshakeTimeoutMs: 5000,
    },
  );
});

after(async () => {
  await srv.server.close();
  await cleanup();
});

test('nbdinfo over nbds:// with tls-certificates', async () => {
  const r = await run('nbdinfo', ['--json', `nbds://${HOST}:${srv.port}/vms/t.img?tls-certificates=${pki}`]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { TLS: boolean; exports: { 'export-size': number }[] };
  assert.equal(j.TLS, true);
  assert.equal(j.exports[0]!['export-size'], 16 * MiB);
});

test('qemu-img and qemu-io through tls-creds-x509', async () => {
  const creds = `tls-creds-x509,id=tls0,dir=${pki},endpoint=client`;
  const opts = `driver=nbd,server.type=inet,server.host=${HOST},server.port=${srv.port},export=vms/t.img,tls-creds=tls0`;
  const io = await run('qemu-io', [
    '--object',
    creds,
    '--image-opts',
    opts,
    '-c',
    'write -P 0x77 0 1M',
    '-c',
    'read -P 0x77 0 1M',
    '-c',
    'flush',
  ]);
  assert.equal(io.code, 0, io.stdout + io.stderr);
  assert.doesNotMatch(io.stdout, /fail|mismatch/i);
  const info = await run('qemu-img', ['info', '--object', creds, '--image-opts', `${opts}`]);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /virtual size: 16 MiB/);
  const onDisk = await readFile(join(dir, 't.img'));
  assert.ok(onDisk.subarray(0, MiB).every((b) => b === 0x77));
});

test('require-TLS: plaintext clients are refused', async () => {
  const q = await run('qemu-img', ['info', srv.uri('vms/t.img')]);
  assert.notEqual(q.code, 0);
  assert.match(q.stderr, /TLS/);
  const n = await run('nbdinfo', [srv.uri('vms/t.img')]);
  assert.notEqual(n.code, 0);

  const c = await RawClient.connect(HOST, srv.port);
  await c.greet();
  for (const option of [OPT.LIST, OPT.GO, OPT.INFO, OPT.STRUCTURED_REPLY, 99]) {
    c.sendOption(
      option,
      option === OPT.GO || option === OPT.INFO ? Buffer.from([0, 0, 0, 0, 0, 0]) : Buffer.alloc(0),
    );
    const [r] = await c.readOptionReplies();
    assert.equal(r!.type, REP.ERR_TLS_REQD, `option ${option}`);
  }
  c.sendOption(OPT.EXPORT_NAME, Buffer.from('vms/t.img'));
  await c.closed();
});

test('plaintext pipelined after STARTTLS does not leak into the TLS session (CVE-2021-3716)', async () => {
  const c = await RawClient.connect(HOST, srv.port);
  await c.greet();
  // STARTTLS and, in the same segment, an injected STRUCTURED_REPLY in plaintext.
  const opt = (o: number): Buffer => {
    const h = Buffer.alloc(16);
    h.write('IHAVEOPT', 0, 'latin1');
    h.writeUInt32BE(o, 8);
    return h;
  };
  c.write(Buffer.concat([opt(OPT.STARTTLS), opt(OPT.STRUCTURED_REPLY)]));
  const ack = await c.readOptionReply();
  assert.equal(ack.option, OPT.STARTTLS);
  assert.equal(ack.type, REP.ACK);
  const secure = tlsConnect({ socket: c.socket, ca: await readFile(join(pki, 'ca-cert.pem')), host: HOST });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
  });
  const t = new Channel(secure);
  const send = (o: number): void => void secure.write(opt(o));
  const reply = async (): Promise<{ option: number; type: number }> => {
    const h = await t.read(20);
    await t.read(h.readUInt32BE(16));
    return { option: h.readUInt32BE(8), type: h.readUInt32BE(12) };
  };
  // The first reply inside TLS answers what was sent inside TLS, and the injected option
  // had no effect: structured replies are still not negotiated.
  send(OPT.STRUCTURED_REPLY);
  assert.deepEqual(await reply(), { option: OPT.STRUCTURED_REPLY, type: REP.ACK });
  send(OPT.STARTTLS);
  assert.deepEqual(await reply(), { option: OPT.STARTTLS, type: REP.ERR_INVALID }, 'second STARTTLS');
  send(OPT.ABORT);
  assert.deepEqual(await reply(), { option: OPT.ABORT, type: REP.ACK });
  secure.destroy();
});
