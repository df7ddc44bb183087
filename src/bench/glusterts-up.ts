/**
 * Runs `glusterts up` (the README's main command) as a child process for end-to-end
 * tests and `glusterts bench`: its own loopback address and data directory, stopped by PID with SIGTERM.
 * fio's gfapi engine and QEMU default to port 24007, so each test server gets its own
 * 127.0.0.x address on that port (stock glusterd, when a test needs it, uses 127.0.0.2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const CLI = new URL('../cli/main.js', import.meta.url).pathname;

export interface RunningGlusterts {
  host: string;
  port: number;
  volume: string;
  data: string;
  /** The default volume's single brick directory. */
  brickDir: string;
  child: ChildProcess;
  /** What the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface UpOptions {
  host?: string;
  port?: number;
  volume?: string;
  /** Reuse a data directory (restart tests); a fresh temp dir otherwise. */
  data?: string;
  keepData?: boolean;
  timeoutMs?: number;
}

export async function startGlusterts(opts: UpOptions = {}): Promise<RunningGlusterts> {
  const host = opts.host ?? '127.0.0.3';
  const port = opts.port ?? 24007;
  const volume = opts.volume ?? 'vms';
  // A directory on the root filesystem: tmpfs cannot do O_DIRECT, which clients ask for.
  const data = opts.data ?? mkdtempSync(join('/var/tmp', 'glusterts-e2e-'));
  const child = spawn(
    process.execPath,
    [CLI, 'up', '--host', host, '--port', String(port), '--volume', volume, '--data', data],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`glusterts up not ready after ${opts.timeoutMs ?? 30000} ms:\n${out}`)),
        opts.timeoutMs ?? 30_000,
      );
      const poll = setInterval(() => {
        if (/Ctrl-C/.test(out)) {
          clearTimeout(timer);
          clearInterval(poll);
          ok();
        }
      }, 50);
      void exited.then((code) => {
        clearTimeout(timer);
        clearInterval(poll);
        fail(new Error(`glusterts up exited with ${code}:\n${out}`));
      });
    });
  } catch (e) {
    child.kill('SIGKILL');
    if (!opts.data && !opts.keepData) rmSync(data, { recursive: true, force: true });
    throw e;
  }
  return {
    host,
    port,
    volume,
    data,
    brickDir: join(data, 'bricks', `${volume}-0`),
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      if (!opts.data && !opts.keepData) rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A gluster:// URI for an image on the running server. */
export function glusterUri(g: RunningGlusterts, path: string): string {
  const hostPort = g.port === 24007 ? g.host : `${g.host}:${g.port}`;
  return `gluster://${hostPort}/${g.volume}/${path.replace(/^\//, '')}`;
}
