/**
 * `glusterts cp SRC DST`: copies a file where either side is a gluster:// URL (QEMU's
 * syntax, gluster://host[:port]/volume/path) or a local path. Data is streamed in 1 MiB
 * blocks with at most 4 in flight, so memory stays bounded whatever the size. On a
 * terminal a progress bar is drawn on stdout; when stdout is not a terminal nothing is
 * printed but errors. A DST naming an existing directory receives SRC's base name.
 */
import { open as openLocal, stat as statLocal, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { GlusterError, isGlusterUrl, type File, type Volume } from '../../client/index.js';
import { CommandError, describeFailure, Exit, runCommand, urlArg, volumeFor } from './client-command.js';

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
