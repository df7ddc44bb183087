/**
 * TLS for RPC connections, as GlusterFS's socket transport uses it (docs/tls.md): the TLS
 * handshake starts right after the TCP connect on the same port; both sides present a
 * certificate and verify the other's against the CA list (mutual TLS); the client does not
 * check the server's host name; the server learns the client's certificate CN, which
 * `auth.ssl-allow` matches. Files and settings come from the `transport.socket.ssl-*`
 * options, with stock's defaults (`/etc/ssl/glusterfs.{pem,key,ca}`, cipher list, depth 1).
 *
 * Callers pick plain or TLS when they listen or connect; RpcServer and RpcClient only see
 * a Duplex either way.
 */
import { Errno, GlusterTsError } from '../errors/index.js';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';

/** Stock's cipher list (TLS 1.2 and older); TLS 1.3 suites stay OpenSSL's defaults, as in stock. */
export const DEFAULT_CIPHER_LIST = 'AES128:EECDH:EDH:HIGH:!3DES:!RC4:!DES:!MD5:!aNULL:!eNULL';
/** Intermediate CAs allowed between a peer's certificate and the trusted CA. */
export const DEFAULT_CERT_DEPTH = 1;
export const DEFAULT_EC_CURVE = 'prime256v1';

/**
 * Where the default glusterfs.pem/.key/.ca (and dhparam.pem) live: /etc/ssl, or
 * GLUSTERTS_SSL_CERT_PATH (for tests: the machine's own files are never touched).
 */
export function sslCertPath(): string {
  return process.env.GLUSTERTS_SSL_CERT_PATH || '/etc/ssl';
}

/** The file whose presence turns on TLS for management connections (GLUSTERTS_SECURE_ACCESS_FILE for tests). */
export function secureAccessFile(): string {
  return process.env.GLUSTERTS_SECURE_ACCESS_FILE || '/var/lib/glusterd/secure-access';
}

/** The `transport.socket.ssl-*` settings (volume set `ssl.*`); absent = stock's default. */
export interface TlsSettings {
  ownCert?: string;
  privateKey?: string;
  caList?: string;
  /** A directory of CRLs (and CA certificates), checked by servers only, as stock does. */
  crlPath?: string;
  certDepth?: number;
  cipherList?: string;
  dhParam?: string;
  ecCurve?: string;
}

/** The `transport.socket.ssl-*` option names, each with its TlsSettings field. */
export const TLS_OPTION_NAMES = {
  ownCert: 'transport.socket.ssl-own-cert',
  privateKey: 'transport.socket.ssl-private-key',
  caList: 'transport.socket.ssl-ca-list',
  crlPath: 'transport.socket.ssl-crl-path',
  certDepth: 'transport.socket.ssl-cert-depth',
  cipherList: 'transport.socket.ssl-cipher-list',
  dhParam: 'transport.socket.ssl-dh-param',
  ecCurve: 'transport.socket.ssl-ec-curve',
} as const satisfies Record<keyof TlsSettings, string>;

/** Reads TlsSettings from volfile options (a Map of option → value). */
export function tlsSettingsFrom(get: (name: string) => string | undefined): TlsSettings {
  const out: TlsSettings = {};
  for (const [field, name] of Object.entries(TLS_OPTION_NAMES) as [keyof TlsSettings, string][]) {
    const v = get(name)?.trim();
    if (v === undefined || v === '') continue;
    if (field === 'certDepth') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new TlsConfigError(`${name} ${v}: not a depth`);
      out.certDepth = n;
    } else out[field] = v;
  }
  return out;
}

export class TlsConfigError extends GlusterTsError {
  static readonly codes = ['TLS_CONFIG_INVALID'] as const;
  constructor(message: string) {
    super('TLS_CONFIG_INVALID', Errno.EINVAL, message);
  }
}

/** Loaded credentials and settings for one side of a connection. */
export interface TlsConfig {
  side: 'server' | 'client';
  options: tls.SecureContextOptions;
  certDepth: number;
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`could not load ${what} at ${path}: ${(err as Error).message}`);
  }
}

/** Stock's list for TLS ≤ 1.2, with Node's TLS 1.3 suites kept (stock never narrows those). */
function ciphers(list: string): string {
  if (list.split(':').some((c) => c.startsWith('TLS_'))) return list;
  const tls13 = tls.DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_'));
  return [...tls13, list].join(':');
}

/** The PEM CRLs (and CA certificates, as OpenSSL's CApath holds both) in a directory. */
function crlDirectory(dir: string): { crl: Buffer[]; ca: Buffer[] } {
  const crl: Buffer[] = [];
  const ca: Buffer[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new TlsConfigError(`could not read ssl-crl-path ${dir}: ${(err as Error).message}`);
  }
  for (const name of names) {
    const p = join(dir, name);
    if (!statSync(p, { throwIfNoEntry: false })?.isFile()) continue;
    const text = readFileSync(p);
    if (text.includes('-----BEGIN X509 CRL-----')) crl.push(text);
    else if (text.includes('-----BEGIN CERTIFICATE-----')) ca.push(text);
  }
  return { crl, ca };
}

/** Loads the files the settings name (stock's defaults for the rest). Throws TlsConfigError. */
export function loadTls(settings: TlsSettings, side: 'server' | 'client'): TlsConfig {
  const base = sslCertPath();
  const cert = read(settings.ownCert ?? join(base, 'glusterfs.pem'), 'own certificate');
  const key = read(settings.privateKey ?? join(base, 'glusterfs.key'), 'private key');
  const ca: Buffer[] = [read(settings.caList ?? join(base, 'glusterfs.ca'), 'CA list')];
  const options: tls.SecureContextOptions = {
    cert,
    key,
    ca,
    ciphers: ciphers(settings.cipherList ?? DEFAULT_CIPHER_LIST),
    ecdhCurve: settings.ecCurve ?? DEFAULT_EC_CURVE,
    honorCipherOrder: true,
    minVersion: 'TLSv1.2',
  };
  const dhParam = settings.dhParam ?? join(base, 'dhparam.pem');
  if (existsSync(dhParam)) options.dhparam = read(dhParam, 'DH parameters');
  // Stock loads the CRL directory on both sides but checks revocation only on servers.
  if (settings.crlPath && settings.crlPath.toUpperCase() !== 'NULL' && side === 'server') {
    const dir = crlDirectory(settings.crlPath);
    ca.push(...dir.ca);
    if (dir.crl.length > 0) options.crl = dir.crl;
  }
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw new TlsConfigError(`TLS settings refused: ${(err as Error).message}`);
  }
  return { side, options, certDepth: settings.certDepth ?? DEFAULT_CERT_DEPTH };
}

/**
 * Why a verified peer is still refused: no certificate, or more intermediate CAs than
 * ssl-cert-depth allows (OpenSSL's verify depth, which Node does not expose).
 */
export function peerProblem(socket: tls.TLSSocket, certDepth: number): string | undefined {
  if (!socket.authorized) return `certificate not verified: ${String(socket.authorizationError)}`;
  const leaf = socket.getPeerCertificate(true);
  if (!leaf || Object.keys(leaf).length === 0) return 'no certificate';
  let chain = 1;
  for (let c = leaf; c.issuerCertificate && c.issuerCertificate !== c; c = c.issuerCertificate) chain++;
  // The chain ends at the trusted CA; what lies between it and the leaf are intermediates.
  const intermediates = Math.max(0, chain - 2);
  if (intermediates > certDepth)
    return `certificate chain has ${intermediates} intermediate CAs, ssl-cert-depth allows ${certDepth}`;
  return undefined;
}

/** The certificate CN of a TLS peer (what `auth.ssl-allow` matches); undefined on plain sockets. */
export function peerCommonName(socket: Duplex): string | undefined {
  if (!(socket instanceof tls.TLSSocket) || !socket.encrypted) return undefined;
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return (Array.isArray(cn) ? cn[0] : cn) ?? '';
}

/** A TLS listener: mutual TLS, peers checked before `onSecure` sees them; refusals to `onRefused`. */
export function createTlsServer(
  config: TlsConfig,
  onSecure: (socket: tls.TLSSocket) => void,
  onRefused: (why: string, remote: string) => void,
): tls.Server {
  // A peer gets 10 s for its handshake (Node's default is 120 s); connection limits count
  // it only once it is through (RpcServer.serve).
  const server = tls.createServer({
    ...config.options,
    requestCert: true,
    rejectUnauthorized: true,
    handshakeTimeout: 10_000,
  });
  server.on('secureConnection', (socket) => {
    const why = peerProblem(socket, config.certDepth);
    if (why) {
      onRefused(why, `${socket.remoteAddress}:${socket.remotePort}`);
      socket.destroy();
      return;
    }
    onSecure(socket);
  });
  server.on('tlsClientError', (err, socket) =>
    onRefused(err.message, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`),
  );
  return server;
}

/**
 * Connects with TLS: resolves once the handshake is done and the server's certificate
 * verified (chain and depth; no host-name check, as stock).
 */
export function connectTls(
  config: TlsConfig,
  target: { host: string; port: number; family?: number; localAddress?: string },
): tls.TLSSocket {
  const socket = tls.connect({
    ...config.options,
    host: target.host,
    port: target.port,
    ...(target.family ? { family: target.family } : {}),
    ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
  });
  socket.once('secureConnect', () => {
    const why = peerProblem(socket, config.certDepth);
    if (why) socket.destroy(new Error(`TLS peer ${target.host}:${target.port} refused: ${why}`));
  });
  return socket;
}

/**
 * Whether management connections use TLS: the secure-access file exists. Its
 * `option transport.socket.ssl-cert-depth N` line, if any, sets their certificate depth.
 */
export function secureAccess(): { certDepth: number } | undefined {
  let text: string;
  try {
    text = readFileSync(secureAccessFile(), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TlsConfigError(`could not read ${secureAccessFile()}: ${(err as Error).message}`);
  }
  const m = /^option transport\.socket\.ssl-cert-depth\s*(\d+)/m.exec(text);
  const depth = m ? Number(m[1]) : 0;
  return { certDepth: depth > 0 ? depth : DEFAULT_CERT_DEPTH };
}
