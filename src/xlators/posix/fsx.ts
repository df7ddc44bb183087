/**
 * fs calls on plain fd numbers, as promises. posix keeps OS fds as numbers (the addon's
 * preadv/pwritev/fallocate/lseek take numbers, and a FileHandle would close itself on GC).
 */
import * as fs from 'node:fs';
import type { BigIntStats } from 'node:fs';

type Cb<T> = (err: NodeJS.ErrnoException | null, v: T) => void;
function call<T>(f: (cb: Cb<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => f((err, v) => (err ? reject(err) : resolve(v))));
}

export const fstat = (fd: number): Promise<BigIntStats> =>
  call<BigIntStats>((cb) => fs.fstat(fd, { bigint: true }, cb as never));
export const open = (path: string, flags: number, mode = 0o600): Promise<number> =>
  call<number>((cb) => fs.open(path, flags, mode, cb));
export const close = (fd: number): Promise<void> => call<void>((cb) => fs.close(fd, cb as Cb<void>));
export const fsync = (fd: number): Promise<void> => call<void>((cb) => fs.fsync(fd, cb as Cb<void>));
export const fdatasync = (fd: number): Promise<void> => call<void>((cb) => fs.fdatasync(fd, cb as Cb<void>));
export const ftruncate = (fd: number, len: number): Promise<void> =>
  call<void>((cb) => fs.ftruncate(fd, len, cb as Cb<void>));
export const fchmod = (fd: number, mode: number): Promise<void> =>
  call<void>((cb) => fs.fchmod(fd, mode, cb as Cb<void>));
export const fchown = (fd: number, uid: number, gid: number): Promise<void> =>
  call<void>((cb) => fs.fchown(fd, uid, gid, cb as Cb<void>));
export const lstat = (path: string): Promise<BigIntStats> => fs.promises.lstat(path, { bigint: true });

/** Closes and ignores failures: for cleanup paths whose own error is already being reported. */
export function closeQuietly(fd: number): Promise<void> {
  return close(fd).catch(() => undefined);
}

export function errCode(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}
