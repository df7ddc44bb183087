/**
 * What the client commands (cp, cat, ls, stat, rm) share: exit codes, the command error,
 * error messages with the errno name and the URL, and volumes opened from gluster:// URLs.
 */
import { getSystemErrorMap } from 'node:util';
import { Errno, GlusterTsError } from '../../errors/index.js';
import {
  GlusterError,
  connectUrl,
  parseGlusterUrl,
  type GlusterUrl,
  type Volume,
} from '../../client/index.js';

/** Exit codes of the client commands. */
export const Exit = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** A client command's failure: CLI_USAGE (exit 2, errno EINVAL) or CLI_FAILED (exit 1, errno EIO). */
export class CommandError extends GlusterTsError {
  static readonly codes = ['CLI_USAGE', 'CLI_FAILED'] as const;
  constructor(
    message: string,
    readonly exitCode: number = Exit.FAILED,
  ) {
    const usage = exitCode === Exit.USAGE;
    super(usage ? 'CLI_USAGE' : 'CLI_FAILED', usage ? Errno.EINVAL : Errno.EIO, message);
  }
}

const ERRNO_TEXT = (() => {
  const byName = new Map<string, string>();
  for (const [name, text] of getSystemErrorMap().values()) byName.set(name, text);
  return byName;
})();

/** "ENOENT (no such file or directory)" and the place it is about. */
export function describeFailure(err: unknown, where: string): string {
  if (err instanceof GlusterError || (err as { code?: unknown })?.code) {
    const code = String((err as { code: unknown }).code);
    const text = ERRNO_TEXT.get(code);
    // Connecting: say it was the volume (or its server), not the path, that failed.
    const init =
      err instanceof GlusterError && err.syscall === 'glfs_init' ? ` [glfs_init ${err.path ?? ''}]` : '';
    return `${where}: ${code}${text ? ` (${text})` : ''}${init}`;
  }
  return `${where}: ${err instanceof Error ? err.message : String(err)}`;
}

/** Runs a command body, printing failures as `glusterts NAME: …` on stderr; returns the exit code. */
export async function runCommand(name: string, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return Exit.OK;
  } catch (err) {
    const message = err instanceof CommandError ? err.message : describeFailure(err, name);
    console.error(`glusterts ${name}: ${message}`);
    return err instanceof CommandError ? err.exitCode : Exit.FAILED;
  }
}

/** Parses a gluster:// URL argument, as a usage error when malformed. */
export function urlArg(command: string, s: string | undefined): GlusterUrl {
  if (s === undefined) throw new CommandError(`missing gluster:// URL`, Exit.USAGE);
  try {
    return parseGlusterUrl(s);
  } catch {
    throw new CommandError(`${s}: not a gluster://host[:port]/volume/path URL (${command})`, Exit.USAGE);
  }
}

/** Connects for one command; failures name the URL. */
export async function volumeFor(url: GlusterUrl, text: string): Promise<Volume> {
  try {
    return await connectUrl(url, { timeoutMs: 15_000 });
  } catch (err) {
    throw new CommandError(describeFailure(err, text));
  }
}

/** Runs `fn` on a connected volume and closes it. */
export async function withVolume<T>(
  url: GlusterUrl,
  text: string,
  fn: (v: Volume) => Promise<T>,
): Promise<T> {
  const vol = await volumeFor(url, text);
  try {
    return await fn(vol);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(describeFailure(err, text));
  } finally {
    await vol.close();
  }
}
