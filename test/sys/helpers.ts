/** Temporary directories on real filesystems for the src/sys tests. */
import { closeSync, constants, mkdtempSync, openSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { isSysError } from '../../src/sys/index.js';

/** A fresh directory under `parent` (default os.tmpdir()), removed when the file's tests end. */
export function tempDir(parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'glusterts-sys-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const isRoot = process.getuid?.() === 0;

/** Resolves to the rejection of `promise`, failing if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Asserts `error` is a SysError with one of `codes`. */
export function expectCode(error: unknown, ...codes: string[]): void {
  if (!isSysError(error) || !codes.includes(error.code)) {
    throw new Error(`expected ${codes.join(' or ')}, got ${String(error)}`, { cause: error });
  }
}

/**
 * The first of several candidate parents whose filesystem accepts O_DIRECT opens (tmpfs,
 * for one, does not), or undefined.
 */
export function directIoParent(): string | undefined {
  const candidates = [tmpdir(), '/var/tmp', process.cwd(), '/root', '/'];
  for (const parent of candidates) {
    const probe = join(parent, `.glusterts-odirect-${process.pid}`);
    try {
      closeSync(openSync(probe, constants.O_CREAT | constants.O_RDWR | constants.O_DIRECT, 0o600));
      unlinkSync(probe);
      return parent;
    } catch {
      try {
        unlinkSync(probe);
      } catch {
        // not created
      }
    }
  }
  return undefined;
}
