/**
 * What features/heal-ranges costs a brick: the same in-process brick graph (posix → locks →
 * [heal-ranges] → index over a directory under /var/tmp) with and without the translator,
 * alternating rounds, median of each. Workloads:
 *
 *   write/idle     random 4 KiB writes, 16 in flight, counters zero (no record: the steady state)
 *   write/record   the same inside an AFR transaction (dirty set: every write is recorded)
 *   fsync/record   4 KiB write + FSYNC(datasync) in a loop inside a transaction
 *   fsync/outage   the same while brick 2 is charged (in xattrop/: the record is written to
 *                  disk at every FSYNC that follows a change)
 *   xattrop        AFR pre-op + post-op pairs (record made and dropped each time)
 *
 *   node dist/bench/heal-ranges.js [--rounds 3] [--seconds 1.5]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DictType, ptrValue, type DictValue } from '../src/protocol/dict.js';
import { ROOT_GFID, randomGfid } from '../src/protocol/gfid.js';
import { FdTable, Graph, OpenFd, parseVolfile, type FopContext } from '../src/xlator/index.js';
import { BRICK_TRANSLATORS } from '../src/xlators/brick-registry.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '1.5' },
    only: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const FILE_SIZE = 64 << 20;
const BLOCK = 4096;

const ctx: FopContext = {
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.alloc(8) },
  session: { id: 'bench', fds: new FdTable() },
};
const i32 = (...v: number[]) => {
  const out = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => out.writeInt32BE(x | 0, i * 4));
  return out;
};

async function brick(withRanges: boolean) {
  const dir = await mkdtemp(join('/var/tmp', 'glusterts-bench-ranges-'));
  const watch =
    ` option xattrop-pending-watchlist trusted.afr.v-\n option xattrop-dirty-watchlist trusted.afr.dirty\n` +
    ` option index-base ${dir}/.glusterfs/indices\n`;
  const text =
    `volume b-posix\n type storage/posix\n option directory ${dir}\nend-volume\n` +
    `volume b-locks\n type features/locks\n subvolumes b-posix\nend-volume\n` +
    (withRanges
      ? `volume b-ranges\n type features/heal-ranges\n${watch} subvolumes b-locks\nend-volume\n`
      : '') +
    `volume b-index\n type features/index\n${watch} subvolumes ${withRanges ? 'b-ranges' : 'b-locks'}\nend-volume\n`;
  const graph = await Graph.build(parseVolfile(text), BRICK_TRANSLATORS);
  const call = (fop: string, req: unknown): Promise<any> => graph.top.call(fop as never, req as never, ctx);
  const gfid = randomGfid();
  const fd = new OpenFd(gfid, 2, false);
  await call('CREATE', {
    pargfid: ROOT_GFID,
    flags: 0o102,
    mode: 0o644,
    umask: 0,
    bname: 'img',
    xdata: new Map([['gfid-req', { type: DictType.GFUUID, value: gfid }]]),
    fd,
  });
  await call('FTRUNCATE', { gfid, fd, offset: FILE_SIZE, xdata: null });
  const xattrop = (dirty: number, charged = 0) =>
    call('FXATTROP', {
      gfid,
      fd,
      flags: 0,
      dict: new Map<string, DictValue>([
        ['trusted.afr.dirty', ptrValue(i32(dirty, 0, 0))],
        ...[0, 1, 2].map(
          (i) =>
            [`trusted.afr.v-client-${i}`, ptrValue(i32(i === 2 ? charged : 0, 0, 0))] as [string, DictValue],
        ),
      ]),
      xdata: null,
    });
  const payload = Buffer.alloc(BLOCK, 0x5a);
  let seed = 1;
  const write = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const offset = (seed % (FILE_SIZE / BLOCK)) * BLOCK;
    return call('WRITE', { gfid, fd, offset, size: BLOCK, flag: 0, xdata: null, payload });
  };
  return {
    preOp: () => xattrop(1),
    postOp: () => xattrop(-1),
    /** A post-op charging brick 2 (down), and the heal's reset. */
    charge: () => xattrop(-1, 1),
    healed: () => xattrop(0, -1),
    write,
    fsync: () => call('FSYNC', { gfid, fd, data: 1, xdata: null }),
    async close() {
      await graph.fini();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

type Brick = Awaited<ReturnType<typeof brick>>;

interface Rate {
  perSecond: number;
  /** Process CPU time (all threads) per operation, µs: less disturbed by a busy machine. */
  cpuUs: number;
}

/** Operations per second of `op`, `depth` at a time, for SECONDS. */
async function rate(op: () => Promise<unknown>, depth: number): Promise<Rate> {
  const end = performance.now() + SECONDS * 1000;
  const cpu = process.cpuUsage();
  let n = 0;
  await Promise.all(
    Array.from({ length: depth }, async () => {
      while (performance.now() < end) {
        await op();
        n++;
      }
    }),
  );
  const used = process.cpuUsage(cpu);
  return { perSecond: n / SECONDS, cpuUs: (used.user + used.system) / n };
}

const WORKLOADS: Record<string, (b: Brick) => Promise<Rate>> = {
  'write/idle': (b) => rate(b.write, 16),
  'write/record': async (b) => {
    await b.preOp();
    const r = await rate(b.write, 16);
    await b.postOp();
    return r;
  },
  'fsync/record': async (b) => {
    await b.preOp();
    const r = await rate(async () => {
      await b.write();
      await b.fsync();
    }, 1);
    await b.postOp();
    return r;
  },
  'fsync/outage': async (b) => {
    await b.preOp();
    await b.charge();
    const r = await rate(async () => {
      await b.write();
      await b.fsync();
    }, 1);
    await b.healed();
    return r;
  },
  xattrop: (b) =>
    rate(async () => {
      await b.preOp();
      await b.postOp();
    }, 1),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, { without: Rate[]; with: Rate[] }> = {};
for (const name of Object.keys(WORKLOADS))
  if (!values.only || name === values.only) results[name] = { without: [], with: [] };

for (let round = 0; round < ROUNDS; round++) {
  for (const withRanges of round % 2 ? [true, false] : [false, true]) {
    const b = await brick(withRanges);
    try {
      for (const [name, run] of Object.entries(WORKLOADS))
        if (results[name]) results[name][withRanges ? 'with' : 'without'].push(await run(b));
    } finally {
      await b.close();
    }
  }
}
console.log(`median of ${ROUNDS} alternating rounds, ${SECONDS} s each; ops/s and CPU µs/op, without → with`);
for (const [name, r] of Object.entries(results)) {
  const ops = (rs: Rate[]) => median(rs.map((x) => x.perSecond));
  const cpu = (rs: Rate[]) => median(rs.map((x) => x.cpuUs));
  console.log(
    `${name.padEnd(13)} ${ops(r.without).toFixed(0).padStart(7)} → ${ops(r.with).toFixed(0).padStart(7)} ops/s` +
      ` (×${(ops(r.with) / ops(r.without)).toFixed(2)})   ${cpu(r.without).toFixed(1).padStart(6)} → ` +
      `${cpu(r.with).toFixed(1).padStart(6)} µs CPU/op`,
  );
}
