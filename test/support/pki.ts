// Test certificates made with openssl: a CA, certificates with chosen CNs signed by it, and
// a second, untrusted CA for certificates that must be refused. No extendedKeyUsage, so a
// certificate serves as client and as server alike, as GlusterFS uses one per host.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/peers/process.js';

export interface Identity {
  cn: string;
  cert: string;
  key: string;
  /** The CA file that trusts it (for a rogue identity: the rogue CA). */
  ca: string;
  /** A directory holding glusterfs.pem/.key/.ca (GLUSTERTS_SSL_CERT_PATH layout). */
  dir: string;
}

export interface Pki {
  dir: string;
  ca: string;
  /** Signed by the trusted CA. */
  issue(cn: string): Promise<Identity>;
  /** Signed by a CA nobody trusts (but with the trusted CA file, so it would trust peers). */
  issueRogue(cn: string): Promise<Identity>;
  /** A CRL from the trusted CA revoking the given identities, in `dir` (ssl.crl-path). */
  revoke(ids: Identity[], crlDir: string): Promise<void>;
}

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args);
}

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  );
  return { cert, key };
}

export async function makePki(dir: string): Promise<Pki> {
  await mkdir(dir, { recursive: true });
  const ca = await makeCa(dir, 'glusterts-test-ca');
  const rogue = await makeCa(dir, 'rogue-ca');
  // `openssl ca` state for revocation.
  await writeFile(join(dir, 'index.txt'), '');
  await writeFile(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `database = ${join(dir, 'index.txt')}`,
      `crlnumber = ${join(dir, 'crlnumber')}`,
      'default_md = sha256',
      'default_crl_days = 2',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'crlnumber'), '01\n');
  let serial = 1;
  const issueBy = async (
    signer: { cert: string; key: string },
    cn: string,
    as: string,
  ): Promise<Identity> => {
    const idDir = join(dir, as);
    await mkdir(idDir, { recursive: true });
    const key = join(idDir, 'glusterfs.key');
    const cert = join(idDir, 'glusterfs.pem');
    const csr = join(idDir, 'req.csr');
    await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`);
    await openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      signer.cert,
      '-CAkey',
      signer.key,
      '-set_serial',
      String(serial++),
      '-out',
      cert,
      '-days',
      '2',
    );
    const caFile = join(idDir, 'glusterfs.ca');
    await run('cp', [ca.cert, caFile]);
    return { cn, cert, key, ca: caFile, dir: idDir };
  };
  return {
    dir,
    ca: ca.cert,
    issue: (cn) => issueBy(ca, cn, cn),
    issueRogue: (cn) => issueBy(rogue, cn, `rogue-${cn}`),
    async revoke(ids, crlDir) {
      await mkdir(crlDir, { recursive: true });
      for (const id of ids)
        await openssl(
          'ca',
          '-config',
          join(dir, 'ca.cnf'),
          '-keyfile',
          ca.key,
          '-cert',
          ca.cert,
          '-revoke',
          id.cert,
        );
      await openssl(
        'ca',
        '-config',
        join(dir, 'ca.cnf'),
        '-keyfile',
        ca.key,
        '-cert',
        ca.cert,
        '-gencrl',
        '-out',
        join(crlDir, 'crl.pem'),
      );
    },
  };
}
