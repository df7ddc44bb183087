/**
 * Loads glusterts_sys.node, the project's own N-API addon (native/, built by `npm install`
 * through binding.gyp), and declares its raw interface. The addon checks every argument
 * itself and throws TypeError for unusable ones; the typed wrappers in this folder add
 * defaults and documentation, not a second round of checks.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A path as the kernel sees it: a string (UTF-8) or the raw bytes of a name. */
export type PathArg = string | Uint8Array;
/** seconds or nanoseconds for utimensat: a safe integer or a bigint. */
export type IntArg = number | bigint;

export interface Binding {
  getxattr(path: PathArg, name: string): Promise<Buffer>;
  lgetxattr(path: PathArg, name: string): Promise<Buffer>;
  fgetxattr(fd: number, name: string): Promise<Buffer>;
  setxattr(path: PathArg, name: string, value: ArrayBufferView, flags: number): Promise<void>;
  lsetxattr(path: PathArg, name: string, value: ArrayBufferView, flags: number): Promise<void>;
  fsetxattr(fd: number, name: string, value: ArrayBufferView, flags: number): Promise<void>;
  listxattr(path: PathArg): Promise<string[]>;
  llistxattr(path: PathArg): Promise<string[]>;
  flistxattr(fd: number): Promise<string[]>;
  removexattr(path: PathArg, name: string): Promise<void>;
  lremovexattr(path: PathArg, name: string): Promise<void>;
  fremovexattr(fd: number, name: string): Promise<void>;
  fallocate(fd: number, mode: number, offset: number, length: number): Promise<void>;
  lseek(fd: number, offset: number, whence: number): Promise<number>;
  preadv(fd: number, buffers: readonly ArrayBufferView[], position: number): Promise<number>;
  pwritev(fd: number, buffers: readonly ArrayBufferView[], position: number): Promise<number>;
  statIo(
    fd: number,
    kind: 0 | 1,
    buffers: readonly ArrayBufferView[],
    position: number,
    sync: 0 | 1 | 2,
    out: BigInt64Array,
  ): Promise<number>;
  /**
   * statIo through io_uring; undefined when io_uring cannot take the op (then use statIo).
   * Optional: an addon built before it existed lacks it (rebuild with `npm run build:native`).
   */
  ringIo?(
    fd: number,
    kind: 0 | 1,
    buffers: readonly ArrayBufferView[],
    position: number,
    sync: 0 | 1 | 2,
    out: BigInt64Array,
  ): Promise<number> | undefined;
  /**
   * Many ranges of one file in one thread-pool hop: kind 0 reads `buffers[i]` from
   * `positions[i]` (short only at EOF), 1 writes them in full; `out` gets the stat before
   * (writes), the stat after, then the bytes of each range. Optional, as ringIo.
   */
  rangeIo?(
    fd: number,
    kind: 0 | 1,
    buffers: readonly ArrayBufferView[],
    positions: BigInt64Array,
    out: BigInt64Array,
  ): Promise<void>;
  syncfs(fd: number): Promise<void>;
  allocAligned(size: number, alignment: number): Buffer;
  /**
   * Bytes from the view's start to the next multiple of `alignment`. Optional: an addon
   * built before it existed lacks it (rebuild with `npm run build:native`).
   */
  misalignment?(view: ArrayBufferView, alignment: number): number;
  openBeneath(dirFd: number, path: PathArg, flags: number, mode: number, resolve: number): Promise<number>;
  mknodat(dirFd: number, path: PathArg, mode: number, dev: IntArg): Promise<void>;
  utimensat(
    dirFd: number,
    path: PathArg,
    atimeSec: IntArg,
    atimeNsec: IntArg,
    mtimeSec: IntArg,
    mtimeNsec: IntArg,
    flags: number,
  ): Promise<void>;
  futimens(
    fd: number,
    atimeSec: IntArg,
    atimeNsec: IntArg,
    mtimeSec: IntArg,
    mtimeNsec: IntArg,
  ): Promise<void>;
  /** The platform headers' values of the constants in constants.ts. */
  constants: Record<string, number>;
}

const ADDON = join('build', 'Release', 'glusterts_sys.node');

/** The package root holding build/: two levels up from src/sys, three from dist/src/sys. */
function findAddon(): string | undefined {
  const override = process.env.GLUSTERTS_SYS_ADDON;
  if (override) return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth++) {
    dir = dirname(dir);
    const candidate = join(dir, ADDON);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

let loaded: Binding | undefined;

/** The addon, loaded on first use so that importing src/sys costs nothing until needed. */
export function native(): Binding {
  if (loaded) return loaded;
  const path = findAddon();
  if (path === undefined) {
    const error = new Error(
      `glusterts: native addon ${ADDON} not found; build it with \`npm run build:native\` ` +
        '(needs Linux, g++, make, python3 and Node headers)',
    );
    (error as NodeJS.ErrnoException).code = 'ERR_SYS_ADDON_MISSING';
    throw error;
  }
  loaded = createRequire(import.meta.url)(path) as Binding;
  return loaded;
}
