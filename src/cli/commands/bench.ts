/** `glusterts bench`: the 2012 talk's FIO tables on this machine (see docs/benchmarks.md). */
import { parseArgs } from 'node:util';
import { FULL, QUICK, renderReport, runBench, writeOutputs, type BenchOptions } from '../../bench/run.js';
import { shardVolumeOptions } from '../../bench/env.js';
import { ROW_IDS } from '../../bench/rows.js';
import { DEFAULT_WORKLOADS, WORKLOADS, parseSize, type WorkloadId } from '../../bench/model.js';

export const BENCH_USAGE = `  bench   the talk's FIO tables on this machine: Base, FUSE, native (fio gfapi, qemu-img bench),
          trimmed native; glusterts and a private stock GlusterFS 10.3 side by side (needs root)
            --quick           1 repeat, 4 × ${QUICK.size} files, ${QUICK.runtime} s runs (under 5 minutes)
            --bs SIZE         sequential block size           (default 128k)
            --repeat N        repeats; median, min, max       (default ${FULL.repeat})
            --size SIZE       size of each of the 4 files     (default ${FULL.size})
            --runtime S       seconds per fio run             (default ${FULL.runtime})
            --rows a,b        ${ROW_IDS.join(',')}
            --workloads a,b   ${WORKLOADS.map((w) => w.id).join(',')}
                              (default: all but lat-rand-read,lat-rand-write)
            --latency         add lat-rand-read,lat-rand-write: fio clat p50/p99/p99.9 at
                              queue depth 1 and 16 (rows base,fuse,native-gfapi,trimmed-gfapi,
                              nbd-fio,client)
            --systems a,b     glusterts,stock
            --shard SIZE      shard volume bench of both systems (features.shard on, SIZE pieces,
                              4MB to 4TB; group virt's is 64MB): e.g. --shard 64MB --size 256M
                              --rows native-gfapi,fuse,nbd-fio,client
            --json FILE       every sample, the machine, the tables
            --svg FILE        a bar chart
            --dir DIR         scratch parent, not tmpfs      (default /var/tmp)
            --stock-host A / --glusterts-host A   (default 127.0.0.2 / 127.0.0.3, port 24007)
            --keep            keep the scratch directory
            --guest           the guest variant: fio inside a Debian-kernel guest (qemu-system-x86_64)
                              with virtio disks (cache=none) on a local file, FUSE, gluster:// and nbd://
            --accel kvm|tcg   guest accelerator                (default tcg)
            --guest-cache DIR kernel, busybox and initramfs    (default /var/tmp/glusterts-guest)`;

function list(s: string, all: readonly string[], what: string): string[] {
  const xs = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const x of xs)
    if (!all.includes(x)) throw new Error(`--${what}: unknown ${x}; one of ${all.join(', ')}`);
  return xs;
}

/** What `glusterts bench ARGS` asks for: the run's options (without its log) and the outputs. */
export function parseBenchArgs(args: string[]): {
  options: Omit<BenchOptions, 'log'>;
  json?: string;
  svg?: string;
  verbose: boolean;
} {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: 'boolean', default: false },
      bs: { type: 'string', default: '128k' },
      repeat: { type: 'string' },
      size: { type: 'string' },
      runtime: { type: 'string' },
      rows: { type: 'string', default: ROW_IDS.join(',') },
      workloads: { type: 'string', default: DEFAULT_WORKLOADS.join(',') },
      latency: { type: 'boolean', default: false },
      systems: { type: 'string', default: 'glusterts,stock' },
      shard: { type: 'string' },
      json: { type: 'string' },
      svg: { type: 'string' },
      dir: { type: 'string', default: '/var/tmp' },
      'stock-host': { type: 'string', default: '127.0.0.2' },
      'glusterts-host': { type: 'string', default: '127.0.0.3' },
      keep: { type: 'boolean', default: false },
      guest: { type: 'boolean', default: false },
      accel: { type: 'string', default: 'tcg' },
      'guest-cache': { type: 'string', default: '/var/tmp/glusterts-guest' },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  });
  const preset = values.quick ? QUICK : FULL;
  const repeat = Number(values.repeat ?? preset.repeat);
  const runtime = Number(values.runtime ?? preset.runtime);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat: not a count: ${values.repeat}`);
  if (!(runtime > 0)) throw new Error(`--runtime: not a number of seconds: ${values.runtime}`);
  const size = values.size ?? preset.size;
  parseSize(size);
  parseSize(values.bs);
  if (values.shard !== undefined) {
    if (values.guest) throw new Error('--shard: not with --guest');
    shardVolumeOptions(values.shard);
  }
  return {
    options: {
      bs: values.bs,
      repeat,
      size,
      runtime,
      rows: list(values.rows, ROW_IDS, 'rows'),
      workloads: [
        ...new Set([
          ...list(
            values.workloads,
            WORKLOADS.map((w) => w.id),
            'workloads',
          ),
          ...(values.latency ? ['lat-rand-read', 'lat-rand-write'] : []),
        ]),
      ] as WorkloadId[],
      systems: list(values.systems, ['glusterts', 'stock'], 'systems') as ('glusterts' | 'stock')[],
      dir: values.dir,
      stockHost: values['stock-host'],
      glustertsHost: values['glusterts-host'],
      quick: values.quick,
      keep: values.keep,
      ...(values.shard === undefined ? {} : { shard: values.shard }),
      ...(values.guest
        ? { guest: { accel: values.accel === 'kvm' ? 'kvm' : 'tcg', cache: values['guest-cache'] } }
        : {}),
    },
    ...(values.json === undefined ? {} : { json: values.json }),
    ...(values.svg === undefined ? {} : { svg: values.svg }),
    verbose: values.verbose,
  };
}

export async function bench(args: string[]): Promise<number> {
  const { options, json, svg, verbose } = parseBenchArgs(args);
  const result = await runBench({
    ...options,
    log: (m) => {
      if (verbose) console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
    },
  });
  console.log(renderReport(result));
  writeOutputs(result, json, svg);
  return 0;
}
