/** The machine and tool versions a run is recorded with. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  fio: string;
  qemu: string;
  glusterfs: string;
  /** Filesystem type and device holding the bricks and Base files. */
  filesystem: string;
  loadavg: number[];
}

function firstLine(file: string, args: string[]): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return 'not installed';
  }
}

export function machineInfo(dir: string): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    /* keep os.cpus() */
  }
  return {
    cpuModel,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node: process.version,
    fio: firstLine('fio', ['--version']),
    qemu: firstLine('qemu-img', ['--version']),
    glusterfs: firstLine('glusterfs', ['--version']),
    filesystem: firstLine('findmnt', ['-no', 'FSTYPE,SOURCE', '--target', dir]).replace(/\s+/g, ' '),
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}
