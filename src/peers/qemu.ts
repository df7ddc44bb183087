/** QEMU's tools: `qemu-img bench` command lines and output, and qemu-nbd as a server. */
import { portOpen, startService, type Service } from './process.js';

export interface QemuBenchSpec {
  /** Image: a local path or a gluster:// URI. */
  image: string;
  write: boolean;
  /** Request size in bytes. */
  bytes: number;
  depth: number;
  count: number;
}

export function qemuBenchArgs(spec: QemuBenchSpec): string[] {
  return [
    'bench',
    '-f',
    'raw',
    '-t',
    'none',
    '-d',
    String(spec.depth),
    '-s',
    String(spec.bytes),
    '-c',
    String(spec.count),
    ...(spec.write ? ['-w'] : []),
    spec.image,
  ];
}

export interface QemuBenchResult {
  count: number;
  bytes: number;
  depth: number;
  seconds: number;
  kibps: number;
  iops: number;
}

/**
 * Parses `qemu-img bench` output:
 *   Sending 100 read requests, 131072 bytes each, 4 in parallel (starting at offset 0, step size 131072)
 *   Run completed in 0.074 seconds.
 */
export function parseQemuBench(text: string): QemuBenchResult {
  const head = /Sending (\d+) (?:read|write) requests, (\d+) bytes each, (\d+) in parallel/.exec(text);
  const done = /Run completed in ([\d.]+) seconds/.exec(text);
  if (!head || !done) throw new Error(`unexpected qemu-img bench output: ${text.trim().slice(0, 300)}`);
  const count = Number(head[1]);
  const bytes = Number(head[2]);
  const seconds = Number(done[1]);
  if (!(seconds > 0)) throw new Error(`qemu-img bench reported ${done[1]} seconds`);
  return {
    count,
    bytes,
    depth: Number(head[3]),
    seconds,
    kibps: (count * bytes) / 1024 / seconds,
    iops: count / seconds,
  };
}

/** True once qemu-img bench has printed its result (before closing the image). */
export function qemuBenchDone(text: string): boolean {
  return /Run completed in [\d.]+ seconds/.test(text);
}

/**
 * Serves `image` (a path or gluster:// URI, raw) with qemu-nbd on host:port as export
 * `name`, writeback off (`--cache=none`), up to 8 clients; resolves once the port answers.
 */
export function startQemuNbd(image: string, host: string, port: number, name: string): Promise<Service> {
  return startService(
    'qemu-nbd',
    ['-f', 'raw', '-t', '--shared=8', '--cache=none', '-b', host, '-p', String(port), '-x', name, image],
    () => portOpen(host, port),
    { what: 'qemu-nbd' },
  );
}
