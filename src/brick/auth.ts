/**
 * Whether a SETVOLUME may attach, as stock's auth modules decide it together
 * (docs/security.md): each module says accept, reject or has no opinion; one reject refuses,
 * otherwise one accept admits, and a client no module accepts is refused. Modules:
 *
 * - addr (src/brick/auth-addr.ts): the client's address against auth.addr allow/reject;
 * - login: `auth.login.<brick>.allow` lists user-name globs, `auth.login.<user>.password`
 *   their passwords. A request without username or password has no opinion (unless
 *   `strict-auth-accept`); a name the list matches must bring its password, else reject; a
 *   name it does not match has no opinion. A login accepted makes the session trusted
 *   (root-squash exemptions, src/brick/squash.ts), and admits it whatever auth.addr allows.
 *   On a TLS connection the certificate CN stands in for the user name: matched against
 *   `auth.login.<brick>.ssl-allow`, no password (docs/tls.md).
 */
import { addrVerdict, globMatch, type AuthVerdict } from './auth-addr.js';

export interface AuthRules {
  /** auth.addr.<brick>.allow as written; undefined when absent. */
  allow?: string | undefined;
  /** auth.addr.<brick>.reject as written; undefined when absent. */
  reject?: string | undefined;
  /** auth.login.<brick>.allow: user-name globs; empty = no login module opinion. */
  loginAllow: readonly string[];
  /** auth.login.<user>.password for each user that has one. */
  passwords: ReadonlyMap<string, string>;
  /** auth.login.<brick>.ssl-allow: certificate-CN globs for TLS clients; undefined = any. */
  sslAllow?: readonly string[] | undefined;
  /** strict-auth-accept: a request without credentials is refused. */
  strictAuth: boolean;
}

export interface AuthRequest {
  peer: string;
  /** subdir-mount as the client sent it; "/" for the whole volume. */
  subdir: string;
  username?: string | undefined;
  password?: string | undefined;
  /** A TLS client's certificate CN (stock's ssl-name); undefined on plain connections. */
  sslName?: string | undefined;
}

export function loginVerdict(rules: AuthRules, req: AuthRequest): AuthVerdict {
  // TLS: the certificate is the credential. With an ssl-allow list the CN must be on it;
  // without one, login has no opinion (docs/tls.md).
  if (req.sslName !== undefined) {
    if (rules.sslAllow === undefined) return 'dont-care';
    return rules.sslAllow.some((p) => globMatch(p, req.sslName!)) ? 'accept' : 'reject';
  }
  if (req.username === undefined || req.password === undefined)
    return rules.strictAuth ? 'reject' : 'dont-care';
  if (rules.loginAllow.length === 0) return 'dont-care';
  const listed = rules.loginAllow.find((p) => globMatch(p, req.username!));
  if (listed === undefined) return rules.strictAuth ? 'reject' : 'dont-care';
  return rules.passwords.get(req.username) === req.password ? 'accept' : 'reject';
}

export interface AuthOutcome {
  admitted: boolean;
  /** The login module accepted the credentials. */
  trusted: boolean;
}

export async function authenticate(rules: AuthRules, req: AuthRequest): Promise<AuthOutcome> {
  const login = loginVerdict(rules, req);
  const addr = await addrVerdict(rules, req.peer, req.subdir);
  const verdicts = [addr, login];
  const admitted = !verdicts.includes('reject') && verdicts.includes('accept');
  return { admitted, trusted: admitted && login === 'accept' };
}
