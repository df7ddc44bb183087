/**
 * The contract between the management daemon and the brick processes it starts, beyond the
 * command line (src/brick/process.ts):
 *
 * - Sign-in token: each spawn gets a random token in its environment; the brick sends it as
 *   the verifier of its portmap SIGNIN/SIGNOUT (a private flavor whose body is the raw token).
 *   The daemon refuses both without the brick's current token, so no other process can point
 *   clients at its own port or withdraw a brick's (docs/security.md).
 * - A configuration the brick refuses (an unknown or unenforceable option) ends it with
 *   EXIT_CONFIG and one line starting CONFIG_ERROR_PREFIX: the daemon does not restart it and
 *   shows the rest of the line in `volume status`.
 */
import type { OpaqueAuth } from '../rpc/message.js';

/** The environment variable carrying the sign-in token, in hex. */
export const SIGNIN_TOKEN_ENV = 'GLUSTERTS_SIGNIN_TOKEN';
/** The private verifier flavor ("gts1") of a SIGNIN/SIGNOUT carrying the token. */
export const SIGNIN_TOKEN_FLAVOR = 0x67747331;

/** The verifier proving a SIGNIN/SIGNOUT comes from the brick the daemon started. */
export function signinVerifier(tokenHex = process.env[SIGNIN_TOKEN_ENV]): OpaqueAuth | undefined {
  if (!tokenHex) return undefined;
  return { flavor: SIGNIN_TOKEN_FLAVOR, body: Buffer.from(tokenHex, 'hex') };
}

/** The token a SIGNIN/SIGNOUT call carries, if any. */
export function signinTokenOf(verf: OpaqueAuth): Buffer | undefined {
  return verf.flavor === SIGNIN_TOKEN_FLAVOR ? verf.body : undefined;
}

/** The brick process's exit status for a configuration it refuses (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;
/** Starts the log line that gives the reason; the daemon shows the rest in `volume status`. */
export const CONFIG_ERROR_PREFIX = 'glusterts brick: configuration refused: ';
