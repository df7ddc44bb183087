/**
 * `glusterts cp SRC DST`: copies a file where either side is a gluster:// URL (QEMU's
 * syntax, gluster://host[:port]/volume/path) or a local path. Data is streamed in 1 MiB
 * blocks with at most 4 in flight, so memory stays bounded whatever the size. On a
 * terminal a progress bar is drawn on stdout; when stdout is not a terminal nothing is
 * printed but errors. A DST naming an existing directory receives SRC's base name.
 *
 * Also the helpers the other client commands (cat, ls, stat, rm) share: endpoints
 * opened from URLs, error messages with the errno name and the URL, exit codes.
 */
import { open as openLocal, stat as statLocal, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { getSystemErrorMap } from 'node:util';
import { Errno, GlusterTsError } from '../../errors/index.js';
import {
  GlusterError,
  connectUrl,
  isGlusterUrl,
  parseGlusterUrl,
  type File,
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

// ---- endpoints -----------------------------------------------------------------------

interface Source {
  size: number;
  mode: number;
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

interface Sink {
  write(data: Buffer, position: number): Promise<void>;
  close(): Promise<void>;
}

function glusterSource(f: File, size: number, mode: number): Source {
  return { size, mode, read: (p, n) => f.pread(n, p), close: () => f.close() };
}

function localSource(h: FileHandle, size: number, mode: number): Source {
  return {
    size,
    mode,
    async read(position, length) {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await h.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    },
    close: () => h.close(),
  };
}

async function writeAll(write: (b: Buffer, p: number) => Promise<number>, data: Buffer, position: number) {
  let done = 0;
  while (done < data.length) {
    const n = await write(data.subarray(done), position + done);
    if (n <= 0) throw new GlusterError('EIO', 'write', undefined, { detail: 'short write' });
    done += n;
  }
}

const BLOCK = 1024 * 1024;
const IN_FLIGHT = 4;

/** A terminal progress bar on stdout, redrawn at most every 100 ms. */
class Progress {
  private last = 0;
  private readonly started = performance.now();
  constructor(
    private readonly total: number,
    private readonly label: string,
  ) {}

  update(done: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = 30;
    const frac = this.total > 0 ? Math.min(done / this.total, 1) : 1;
    const filled = Math.round(frac * width);
    const rate = done / 1048576 / Math.max((now - this.started) / 1000, 1e-3);
    process.stdout.write(
      `\r${this.label} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ` +
        `${(frac * 100).toFixed(0).padStart(3)}% ${(done / 1048576).toFixed(1)} MiB ${rate.toFixed(1)} MiB/s`,
    );
  }

  finish(done: number): void {
    this.update(done, true);
    process.stdout.write('\n');
  }
}

/** Copies src to dst in blocks, IN_FLIGHT at a time; returns the bytes copied. */
async function pump(src: Source, dst: Sink, progress: Progress | undefined): Promise<number> {
  let next = 0;
  let copied = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < src.size) {
      const position = next;
      next += BLOCK;
      try {
        const data = await src.read(position, Math.min(BLOCK, src.size - position));
        if (data.length > 0) await dst.write(data, position);
        copied += data.length;
        progress?.update(copied);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  if (failed !== undefined) throw failed;
  return copied;
}

export async function cp(args: string[]): Promise<number> {
  return runCommand('cp', async () => {
    const positional = args.filter((a) => a !== '--');
    if (positional.length !== 2) throw new CommandError('usage: glusterts cp SRC DST', Exit.USAGE);
    const [srcArg, dstArg] = positional as [string, string];
    const volumes: Volume[] = [];
    const closers: (() => Promise<void>)[] = [];
    try {
      const src = await openSource(srcArg, volumes, closers);
      const dst = await openSink(dstArg, srcArg, src.mode, volumes, closers);
      const progress = process.stdout.isTTY ? new Progress(src.size, basename(srcArg)) : undefined;
      const copied = await pump(src, dst.sink, progress).catch((err: unknown) => {
        throw new CommandError(describeFailure(err, `${srcArg} -> ${dst.name}`));
      });
      progress?.finish(copied);
    } finally {
      for (const close of closers.reverse()) await close().catch(() => undefined);
      for (const v of volumes) await v.close();
    }
  });
}

async function openSource(arg: string, volumes: Volume[], closers: (() => Promise<void>)[]): Promise<Source> {
  try {
    if (isGlusterUrl(arg)) {
      const url = urlArg('cp', arg);
      const vol = await volumeFor(url, arg);
      volumes.push(vol);
      const f = await vol.open(url.path, 'r');
      closers.push(() => f.close());
      const st = await f.fstat();
      return glusterSource(f, st.size, st.mode & 0o777);
    }
    const st = await statLocal(arg);
    if (st.isDirectory()) throw new GlusterError('EISDIR', 'open', arg);
    const h = await openLocal(arg, 'r');
    closers.push(() => h.close());
    return localSource(h, st.size, st.mode & 0o777);
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(describeFailure(err, arg));
  }
}

async function openSink(
  arg: string,
  srcArg: string,
  mode: number,
  volumes: Volume[],
  closers: (() => Promise<void>)[],
): Promise<{ sink: Sink; name: string }> {
  let name = arg;
  try {
    if (isGlusterUrl(arg)) {
      const url = urlArg('cp', arg);
      const vol = await volumeFor(url, arg);
      volumes.push(vol);
      let path = url.path;
      if (path === '/' || ((await vol.exists(path)) && (await vol.stat(path)).isDirectory())) {
        path = `${path.replace(/\/$/, '')}/${basename(srcArg)}`;
        name = `${arg.replace(/\/$/, '')}/${basename(srcArg)}`;
      }
      const f = await vol.create(path, 'w', mode || 0o644);
      closers.push(() => f.close());
      return {
        sink: { write: (d, p) => writeAll((b, q) => f.pwrite(b, q), d, p), close: () => f.close() },
        name,
      };
    }
    let path = arg;
    const st = await statLocal(arg).catch(() => undefined);
    if (st?.isDirectory()) path = name = `${arg.replace(/\/$/, '')}/${basename(srcArg)}`;
    const h = await openLocal(path, 'w', mode || 0o644);
    closers.push(() => h.close());
    return {
      sink: {
        write: (d, p) => writeAll(async (b, q) => (await h.write(b, 0, b.length, q)).bytesWritten, d, p),
        close: () => h.close(),
      },
      name,
    };
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(describeFailure(err, name));
  }
}
