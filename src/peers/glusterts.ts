/**
 * glusterts as child processes, the way a user runs it: `glusterts up` (management daemon,
 * one volume, its brick, the NBD export), `glusterts daemon`, `glusterts volume …` and
 * `glusterts nbd`. Each is stopped by PID with SIGTERM (SIGKILL if it lingers).
 * fio's gfapi engine and QEMU default to port 24007, so each server gets its own
 * 127.0.0.x address on that port (stock glusterd, when a test needs it, uses 127.0.0.2).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_PATH_NODE_FLAGS } from '../mgmt/node-flags.js';
import { GLUSTERD_PORT } from './portmap.js';
import { run, startService } from './process.js';

/** The glusterts command (dist/src/cli/main.js). */
export const GLUSTERTS_CLI = new URL('../cli/main.js', import.meta.url).pathname;

export interface RunningGlusterts {
  host: string;
  /** The management port (the one it bound when asked for port 0). */
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
  /** Management port (default 24007; 0 = any free port). */
  port?: number;
  volume?: string;
  /** Reuse a data directory (restart tests); a fresh temp dir otherwise. */
  data?: string;
  keepData?: boolean;
  /** Environment of the process (e.g. GLUSTERTS_BRICK_PROGRAM); the parent's by default. */
  env?: NodeJS.ProcessEnv;
  /** Extra `glusterts up` arguments (e.g. ['--nbd-port', 'off']). */
  args?: string[];
  timeoutMs?: number;
}

/** Starts `glusterts up` and resolves once it printed its ready line ("… Ctrl-C …"). */
export async function startGlusterts(opts: UpOptions = {}): Promise<RunningGlusterts> {
  const host = opts.host ?? '127.0.0.3';
  const volume = opts.volume ?? 'vms';
  // A directory on the root filesystem: tmpfs cannot do O_DIRECT, which clients ask for.
  const data = opts.data ?? mkdtempSync(join('/var/tmp', 'glusterts-e2e-'));
  const args = ['up', '--host', host, '--port', String(opts.port ?? GLUSTERD_PORT), '--volume', volume];
  let service;
  try {
    service = await startService(
      process.execPath,
      [...DATA_PATH_NODE_FLAGS, GLUSTERTS_CLI, ...args, '--data', data, ...(opts.args ?? [])],
      /Ctrl-C/,
      {
        what: 'glusterts up',
        timeoutMs: opts.timeoutMs ?? 30_000,
        ...(opts.env ? { env: opts.env } : {}),
      },
    );
  } catch (e) {
    if (!opts.data && !opts.keepData) rmSync(data, { recursive: true, force: true });
    throw e;
  }
  const s = service;
  const bound = new RegExp(`listening on ${host.replaceAll('.', '\\.')}:(\\d+)`).exec(s.output());
  return {
    host,
    port: bound ? Number(bound[1]) : (opts.port ?? GLUSTERD_PORT),
    volume,
    data,
    brickDir: join(data, 'bricks', `${volume}-0`),
    child: s.child,
    output: s.output,
    async stop() {
      await s.stop();
      if (!opts.data && !opts.keepData) rmSync(data, { recursive: true, force: true });
    },
  };
}

/** A gluster:// URI for an image on the running server. */
export function glusterUri(g: { host: string; port: number; volume: string }, path: string): string {
  const hostPort = g.port === GLUSTERD_PORT ? g.host : `${g.host}:${g.port}`;
  return `gluster://${hostPort}/${g.volume}/${path.replace(/^\//, '')}`;
}

/** Runs `glusterts volume ARGS… --data DATA`; resolves stdout. */
export function glustertsVolume(data: string, ...args: string[]): Promise<string> {
  return run(process.execPath, [GLUSTERTS_CLI, 'volume', ...args, '--data', data]);
}

export interface RunningNbd {
  /** `nbd://host:port`; export names are VOLUME/PATH. */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `glusterts nbd` on `host` (any free port) serving the volumes of the volfile
 * server `server`; `trimmed` connects them with the trimmed client stack, `volumes` are
 * connected before it listens (others on first use).
 */
export async function startGlustertsNbd(
  host: string,
  server: { host: string; port?: number },
  opts: { trimmed?: boolean; volumes?: readonly string[]; timeoutMs?: number } = {},
): Promise<RunningNbd> {
  const args = [
    'nbd',
    '--host',
    host,
    '--nbd-port',
    '0',
    '--server',
    `${server.host}:${server.port ?? GLUSTERD_PORT}`,
  ];
  if (opts.trimmed) args.push('--trimmed');
  for (const v of opts.volumes ?? []) args.push('--volume', v);
  const s = await startService(
    process.execPath,
    [...DATA_PATH_NODE_FLAGS, GLUSTERTS_CLI, ...args],
    /NBD export listening on \S+:(\d+)/,
    {
      what: 'glusterts nbd',
      timeoutMs: opts.timeoutMs ?? 30_000,
    },
  );
  const port = Number(s.match![1]);
  return { url: `nbd://${host}:${port}`, port, pid: s.pid, stop: () => s.stop(10_000) };
}

export interface RunningDaemon {
  host: string;
  port: number;
  data: string;
  child: ChildProcess;
  /** `glusterts volume ARGS…` against this daemon; resolves stdout. */
  volume(...args: string[]): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts `glusterts daemon` on host:port (default 24007) with a fresh data directory (or
 * `data`); volumes are then made with `volume(...)`, as a user does with the CLI.
 */
export async function startGlustertsDaemon(
  opts: { host?: string; port?: number; data?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunningDaemon> {
  const host = opts.host ?? '127.0.0.3';
  const data = opts.data ?? mkdtempSync(join('/var/tmp', 'glusterts-daemon-'));
  const port = opts.port ?? GLUSTERD_PORT;
  const s = await startService(
    process.execPath,
    [GLUSTERTS_CLI, 'daemon', '--host', host, '--port', String(port), '--data', data],
    /listening on/,
    { what: 'glusterts daemon', timeoutMs: opts.timeoutMs ?? 30_000, ...(opts.env ? { env: opts.env } : {}) },
  );
  return {
    host,
    port,
    data,
    child: s.child,
    volume: (...args) => glustertsVolume(data, ...args),
    output: s.output,
    async stop() {
      await s.stop();
      if (!opts.data) rmSync(data, { recursive: true, force: true });
    },
  };
}
