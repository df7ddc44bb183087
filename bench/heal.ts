/**
 * Heal cost: an image on a replica 3 volume, one brick down while 1% of it is rewritten in
 * random 4 KiB writes (distinct blocks, seeded), then the brick returns
 * (`volume start NAME force` on both sides: our daemon is told not to restart it on its own
 * meanwhile, as stock glusterd never does). Measured from that command until the bricks'
 * xattrop and dirty indices are empty, then `heal info` must show 0 entries and the three
 * copies must hash alike.
 *
 *   glusterts   glusterts daemon (in this process) + glusterts bricks + glusterts shd
 *   stock full  stock 10.3 glusterd + glusterfsd + glustershd, data-self-heal-algorithm full
 *   stock diff  the same with `diff`
 *
 * The image and the 4 KiB writes go through the TypeScript client on both sides. Bytes come
 * from /proc/<pid>/io of the shd and of the three brick processes (rchar/wchar: every
 * read(2)/write(2)-family byte, sockets and files alike), from just before the brick
 * returns to the end of the heal: the shd's wchar is what the heal sent over the network,
 * its rchar what it received; the bricks' Σ rchar minus the shd's wchar is what they read
 * from their files (checksums included), Σ wchar minus the shd's rchar what they wrote.
 *
 * `--timeline` breaks our heal time down (ms after the command): the CLI's Node start and
 * module loading, the brick's spawn, Node start, module loading and listen, the shd hearing
 * of its SIGNIN, the crawl, and the data heal's own phases (from the shd's log), with
 * dist/bench/timeline-preload.js loaded into the glusterts side's Node processes.
 *
 *   node dist/bench/heal.js [--size 1G] [--only glusterts,full,diff] [--repeat 1] [--timeline]
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Volume } from '../src/client/index.js';
import { Daemon } from '../src/mgmt/daemon.js';
import {
  glustertsVolume,
  parseVolumeStatusXml,
  run,
  sleep,
  startStockGluster,
  type StockGluster,
} from '../src/peers/index.js';
import { prng } from '../test/support/fsx.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '1G' },
    only: { type: 'string', default: 'glusterts,full,diff' },
    repeat: { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '900' },
    /** Keep the glusterts side's data directory (logs, bricks) for a look afterwards. */
    keep: { type: 'boolean', default: false },
    timeline: { type: 'boolean', default: false },
  },
});
const SIZE = parseSize(values.size!);
const BLOCK = 4096;
const WRITES = Math.round(SIZE / 100 / BLOCK);
const CHANGED = WRITES * BLOCK;
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
const OURS_HOST = '127.0.0.64';
/** How often the end of the heal (and our brick's listening line) is looked for: both sides alike. */
const POLL_MS = 20;
const STOCK_HOST = '127.0.0.2';
const IMAGE = 'vm.img';

function parseSize(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`--size ${s}: a number with K, M or G`);
  return Number(m[1]) * 1024 ** ' KMG'.indexOf((m[2] || ' ').toUpperCase());
}

interface ProcIo {
  rchar: number;
  wchar: number;
}
/** CPU seconds (user + system, every thread) a process used so far: /proc/<pid>/stat. */
function procCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

function procIo(pid: number): ProcIo {
  const text = readFileSync(`/proc/${pid}/io`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)![1]);
  return { rchar: get('rchar'), wchar: get('wchar') };
}

/** What one side of the benchmark must provide. */
interface Side {
  name: string;
  volume: string;
  server: { host: string; port: number };
  brickDirs: string[];
  /** The brick processes' PIDs, 0 for one not running. */
  brickPids(): Promise<number[]>;
  shdPid(): Promise<number>;
  /** Resolves once the shd is connected to every brick (so it sees the brick leave and return). */
  shdReady(): Promise<void>;
  /** Resolves once the returned brick serves (its start is not the heal's cost). */
  brickBack(): Promise<void>;
  /** Brings every brick back (`volume start NAME force`) and resolves when it was asked. */
  startForce(): Promise<void>;
  /** The data heal itself, from the shd's log: its start and end (ms) after `since`, if found. */
  healSpan(since: number): { from: number; to: number } | undefined;
  /** When the returned brick's process was started (ms), if the side logs it. */
  brickSpawnedAt(): number | undefined;
  /** `heal info` as each CLI prints it. */
  healInfo(): Promise<string>;
  /** With --timeline: the steps of the heal started at `since` (ms after it). */
  phases?(since: number): Phases;
  stop(): Promise<void>;
}

async function glustertsSide(): Promise<Side> {
  const data = mkdtempSync(join('/var/tmp', 'glusterts-bench-heal-'));
  const timeline = join(data, 'timeline.txt');
  const env = { options: process.env.NODE_OPTIONS, timeline: process.env.GLUSTERTS_TIMELINE };
  if (values.timeline) {
    // Inherited by the CLI runs and by the bricks and shd the daemon (in this process) spawns.
    const preload = fileURLToPath(new URL('./timeline-preload.js', import.meta.url));
    process.env.NODE_OPTIONS = `${env.options ?? ''} --import ${preload}`.trim();
    process.env.GLUSTERTS_TIMELINE = timeline;
  }
  // The daemon in this process, so that the killed brick stays down until `start force`.
  const daemon = await Daemon.start({ data, host: OURS_HOST, port: 24007, brickRestartMinMs: 3_600_000 });
  const volume = 'hv';
  const brickDirs = [0, 1, 2].map((i) => join(data, `b${i}`));
  const brickLog = () =>
    readFileSync(join(data, 'logs', 'bricks', `${brickDirs[2]!.slice(1).replaceAll('/', '-')}.log`), 'utf8');
  const shdLog = () => readFileSync(join(data, 'logs', 'bricks', `shd-${volume}.log`), 'utf8');
  const cli = (...args: string[]) => glustertsVolume(data, ...args);
  await cli('create', volume, 'replica', '3', ...brickDirs.map((b) => `${OURS_HOST}:${b}`), 'force');
  await cli('start', volume);
  const children = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .flatMap((p) => {
        try {
          const status = readFileSync(`/proc/${p}/status`, 'utf8');
          if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) return [];
          return [{ pid: Number(p), cmd: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0') }];
        } catch {
          return [];
        }
      });
  const brickPids = async () => {
    const kids = children();
    return brickDirs.map((b) => kids.find((k) => k.cmd.includes(b))?.pid ?? 0);
  };
  await waitAnswers(volume, { host: OURS_HOST, port: 24007 });
  return {
    name: 'glusterts',
    volume,
    server: { host: OURS_HOST, port: 24007 },
    brickDirs,
    brickPids,
    async shdPid() {
      const shd = children().find((k) => k.cmd.includes('shd') && k.cmd.includes(volume));
      if (!shd) throw new Error('no glusterts shd');
      return shd.pid;
    },
    shdReady: () =>
      waitLog(join(data, 'logs', 'bricks', `shd-${volume}.log`), (t) =>
        /index heal \(start\)\n.*healed/.test(t),
      ),
    brickBack: () =>
      waitLog(
        join(data, 'logs', 'bricks', `${brickDirs[2]!.slice(1).replaceAll('/', '-')}.log`),
        (t) => t.split('listening on').length > 2,
      ),
    startForce: async () => void (await cli('start', volume, 'force')),
    brickSpawnedAt: () => {
      // The supervisor's "--- <iso> starting …" line before each start of the brick.
      const log = readFileSync(
        join(data, 'logs', 'bricks', `${brickDirs[2]!.slice(1).replaceAll('/', '-')}.log`),
        'utf8',
      );
      const last = [...log.matchAll(/^--- (\S+) starting /gm)].pop();
      return last ? Date.parse(last[1]!) : undefined;
    },
    healInfo: () => cli('heal', volume, 'info', '--server', `${OURS_HOST}:24007`),
    healSpan: (since) => {
      // "<iso> hv-replicate-0: index heal (why)" … "<iso> hv-replicate-0: healed 1, …": the
      // last crawl that healed something (the image), from its start.
      const lines = readFileSync(join(data, 'logs', 'bricks', `shd-${volume}.log`), 'utf8').split('\n');
      let end = lines.length - 1;
      while (end >= 0 && !/: healed [1-9]/.test(lines[end]!)) end--;
      let start = end;
      while (start >= 0 && !/: index heal \(/.test(lines[start]!)) start--;
      if (end < 0 || start < 0) return undefined;
      const from = Date.parse(lines[start]!.split(' ')[0]!);
      return from >= since ? { from, to: Date.parse(lines[end]!.split(' ')[0]!) } : undefined;
    },
    phases: (since) => readPhases(since, readFileSync(timeline, 'utf8'), brickLog(), shdLog(), brickDirs[2]!),
    async stop() {
      await daemon.close();
      for (const [key, was] of [
        ['NODE_OPTIONS', env.options],
        ['GLUSTERTS_TIMELINE', env.timeline],
      ] as const)
        if (was === undefined) delete process.env[key];
        else process.env[key] = was;
      if (values.keep) console.error(`kept ${data}`);
      else rmSync(data, { recursive: true, force: true });
    },
  };
}

async function stockSide(algorithm: 'full' | 'diff'): Promise<Side> {
  const dir = mkdtempSync(join('/var/tmp', 'glusterts-bench-heal-stock-'));
  let g: StockGluster;
  try {
    g = await startStockGluster({
      host: STOCK_HOST,
      volume: 'sv',
      bricks: 3,
      replica: 3,
      dir,
      volumeOptions: { 'cluster.data-self-heal-algorithm': algorithm },
    });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const status = async () => parseVolumeStatusXml(await g.cli('volume', 'status', 'sv', '--xml'));
  return {
    name: `stock ${algorithm}`,
    volume: 'sv',
    server: { host: STOCK_HOST, port: 24007 },
    brickDirs: g.brickPaths,
    brickPids: async () => g.brickPaths.map((_, i) => g.brickPid(i)),
    async shdPid() {
      const shd = (await status()).find((n) => n.path === 'localhost' && n.pid > 0);
      if (!shd) throw new Error('no stock glustershd in volume status');
      return shd.pid;
    },
    shdReady: () =>
      waitLog(
        join(dir, 'log', 'glustershd.log'),
        (t) => new Set([...t.matchAll(/sv-client-(\d): Connected, attached/g)].map((m) => m[1])).size === 3,
      ),
    brickBack: async () => undefined, // startForce waited for it
    brickSpawnedAt: () => undefined,
    startForce: () => g.startForce(),
    healInfo: () => g.cli('volume', 'heal', 'sv', 'info'),
    healSpan: (since) => {
      // "[2026-12-03 14:31:29.918601 +0000] I … performing data selfheal on <gfid>" … "Completed data selfheal"
      const text = readFileSync(join(dir, 'log', 'glustershd.log'), 'utf8');
      const at = (re: RegExp) => {
        const all = [...text.matchAll(new RegExp(`^\\[(\\S+ \\S+) \\+0000\\].*${re.source}`, 'gm'))];
        const last = all[all.length - 1];
        return last ? Date.parse(`${last[1]!.replace(' ', 'T')}Z`) : undefined;
      };
      const from = at(/performing data selfheal on/);
      const to = at(/Completed data selfheal on/);
      return from !== undefined && to !== undefined && from >= since ? { from, to } : undefined;
    },
    async stop() {
      await g.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Steps of our heal, ms after `volume start force` (NaN: not seen). */
interface Phases {
  /** The CLI process started, its modules loaded (main runs), it exited. */
  cliProcess: number;
  cliMain: number;
  cliExit: number;
  /** The daemon spawned the brick; its Node process started; its modules loaded; it listens. */
  brickSpawn: number;
  brickProcess: number;
  brickMain: number;
  brickListening: number;
  /** The shd heard of the brick's SIGNIN; its crawl started; the data heal's own steps (ms each). */
  shdNotified: number;
  crawl: number;
  data: { decideMs: number; setupMs: number; copyMs: number; fsyncMs: number; resetMs: number } | undefined;
}

/** Phases from the preload's timeline, the brick's supervisor log and the shd's log. */
function readPhases(
  since: number,
  timeline: string,
  brickLog: string,
  shdLog: string,
  brick: string,
): Phases {
  const stamps = timeline
    .split('\n')
    .map((l) => /^(\S+) (\d+) (\S+) (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) >= since - 1000)
    .map((m) => ({ at: Number(m[1]) - since, pid: m[2]!, event: m[3]!, argv: m[4]! }));
  const of = (pid: string | undefined, event: string) =>
    stamps.find((x) => x.pid === pid && x.event === event)?.at ?? NaN;
  const cli = stamps.find((x) => x.event === 'process' && / start \S+ force/.test(x.argv))?.pid;
  const brickPid = stamps.find(
    (x) => x.event === 'process' && x.argv.includes(`--brick-name ${brick} `),
  )?.pid;
  const shdAt = (re: RegExp) => {
    const m = shdLog.split('\n').find((l) => re.test(l) && Date.parse(l.split(' ')[0]!) >= since);
    return m ? Date.parse(m.split(' ')[0]!) - since : NaN;
  };
  const spawn = [...brickLog.matchAll(/^--- (\S+) starting /gm)].pop();
  const data = [
    ...shdLog.matchAll(
      /data healed.*locks and decision (\d+), open and record (\d+), copy (\d+), fsync (\d+), reset (\d+)/g,
    ),
  ].pop();
  return {
    cliProcess: of(cli, 'process'),
    cliMain: of(cli, 'main'),
    cliExit: of(cli, 'exit'),
    brickSpawn: spawn ? Date.parse(spawn[1]!) - since : NaN,
    brickProcess: of(brickPid, 'process'),
    brickMain: of(brickPid, 'main'),
    brickListening: of(brickPid, 'listening'),
    shdNotified: shdAt(/signed in: connecting/),
    crawl: shdAt(/index heal \(brick up\)/),
    data: data
      ? {
          decideMs: Number(data[1]),
          setupMs: Number(data[2]),
          copyMs: Number(data[3]),
          fsyncMs: Number(data[4]),
          resetMs: Number(data[5]),
        }
      : undefined,
  };
}

/** Waits until a client of `volume` can create and remove a file (every brick serving). */
async function waitAnswers(volume: string, server: { host: string; port: number }): Promise<void> {
  for (const deadline = Date.now() + 30_000; ; await sleep(300)) {
    try {
      const v = await Volume.connect({ volume, servers: [server] });
      await v.close();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

async function waitLog(path: string, done: (text: string) => boolean): Promise<void> {
  for (const deadline = Date.now() + 60_000; ; await sleep(POLL_MS)) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      /* not yet */
    }
    if (done(text)) return;
    if (Date.now() > deadline) throw new Error(`${path}: the shd did not connect:\n${text.slice(-2000)}`);
  }
}

/** Gfids still in a brick's xattrop or dirty index (what `heal info` lists). */
function indexed(brick: string): number {
  let n = 0;
  for (const kind of ['xattrop', 'dirty'])
    try {
      n += readdirSync(join(brick, '.glusterfs', 'indices', kind)).filter((e) => !e.startsWith(kind)).length;
    } catch {
      /* not made yet */
    }
  return n;
}

function sha256(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const h = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (c) => h.update(c))
      .on('end', () => done(h.digest('hex')))
      .on('error', fail);
  });
}

/**
 * Fills the image and closes it (its transaction ends with every brick up), then, with
 * brick 2 killed, rewrites WRITES distinct random blocks through a new client.
 */
async function writeImage(side: Side, seed: number): Promise<void> {
  const fill = await Volume.connect({ volume: side.volume, servers: [side.server] });
  try {
    const f = await fill.create(`/${IMAGE}`, 'w+', 0o644);
    const mib = randomBytes(1 << 20);
    const inFlight = new Set<Promise<void>>();
    for (let off = 0; off < SIZE; off += 1 << 20) {
      const buf = Buffer.from(mib);
      buf.writeUInt32BE(off / (1 << 20), 0);
      const p: Promise<void> = f.pwrite(buf, off).then(() => void inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await f.fsync();
    await f.close();
  } finally {
    await fill.close();
  }
  for (const deadline = Date.now() + 30_000; side.brickDirs.some((b) => indexed(b) > 0); await sleep(100))
    if (Date.now() > deadline) throw new Error(`${side.name}: the fill left index entries`);
  await side.shdReady();
  process.kill((await side.brickPids())[2]!, 'SIGKILL');
  await sleep(500);
  const v = await Volume.connect({ volume: side.volume, servers: [side.server] });
  try {
    const f = await v.open(`/${IMAGE}`, 'r+');
    const rand = prng(seed);
    const blocks = new Set<number>();
    while (blocks.size < WRITES) blocks.add(Math.floor(rand() * (SIZE / BLOCK)));
    const queue = [...blocks];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let b = queue.pop(); b !== undefined; b = queue.pop())
          await f.pwrite(randomBytes(BLOCK), b * BLOCK);
      }),
    );
    await f.fsync();
    await f.close();
  } finally {
    await v.close();
  }
}

interface Result {
  side: string;
  healSeconds: number;
  /** From the returned brick serving to the end of the heal. */
  afterBackSeconds: number;
  /** From `volume start force` to the brick's process being started (NaN: not logged). */
  spawnSeconds: number;
  /** From `volume start force` to the returned brick serving. */
  backSeconds: number;
  /** The shd's own data heal of the image, from its log (NaN when not found). */
  dataHealSeconds: number;
  shdReceived: number;
  shdSent: number;
  brickRead: number;
  brickWritten: number;
  healInfoEntries: string;
  load: number;
  /**
   * CPU seconds over the heal: the shd, then bricks 0, 1 and 2 (the returned brick 2: its
   * whole life, its start included), from /proc/<pid>/stat.
   */
  cpuSeconds: number[];
  /** 128 KiB chunks that differed between brick 0 and the returned brick before the heal. */
  chunksDiffering: number;
  phases?: Phases;
}

/** 128 KiB chunks and 4 KiB blocks of the image that differ between bricks a and b. */
async function differing(a: string, b: string): Promise<{ chunks: number; blocks: number }> {
  const { open } = await import('node:fs/promises');
  const [fa, fb] = await Promise.all([open(join(a, IMAGE)), open(join(b, IMAGE))]);
  const out = { chunks: 0, blocks: 0 };
  try {
    const ba = Buffer.alloc(128 << 10);
    const bb = Buffer.alloc(128 << 10);
    for (let off = 0; off < SIZE; off += ba.length) {
      await Promise.all([fa.read(ba, 0, ba.length, off), fb.read(bb, 0, bb.length, off)]);
      if (ba.equals(bb)) continue;
      out.chunks++;
      for (let k = 0; k < ba.length; k += BLOCK)
        if (!ba.subarray(k, k + BLOCK).equals(bb.subarray(k, k + BLOCK))) out.blocks++;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
  return out;
}

async function measure(side: Side, seed: number): Promise<Result> {
  await writeImage(side, seed);
  const diff = await differing(side.brickDirs[0]!, side.brickDirs[2]!);
  if (diff.blocks !== WRITES)
    console.error(`${side.name}: ${diff.blocks} blocks differ before the heal, not ${WRITES}`);
  const indexedBefore = side.brickDirs.map(indexed);
  if (indexedBefore[0] === 0) throw new Error(`${side.name}: nothing indexed on brick 0 after the writes`);
  const shd = await side.shdPid();
  const survivors = (await side.brickPids()).slice(0, 2);
  const before = [shd, ...survivors].map(procIo);
  const cpuBefore = [shd, ...survivors].map(procCpu);
  const t0 = performance.now();
  const startedAt = Date.now();
  await side.startForce();
  let pids = await side.brickPids();
  for (const deadline = Date.now() + 30_000; pids.includes(0); pids = await side.brickPids()) {
    if (Date.now() > deadline) throw new Error(`${side.name}: the brick did not come back`);
    await sleep(50);
  }
  await side.brickBack();
  const back = performance.now();
  before[3] = procIo(pids[2]!);
  let last: ProcIo[] = [];
  let cpuLast: number[] = [];
  for (;;) {
    last = [shd, ...pids].map(procIo);
    cpuLast = [shd, ...pids].map(procCpu);
    if (side.brickDirs.every((b) => indexed(b) === 0)) break;
    if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`${side.name}: heal not done in time`);
    await sleep(POLL_MS);
  }
  const healSeconds = (performance.now() - t0) / 1000;
  const afterBackSeconds = (performance.now() - back) / 1000;
  const load = loadavg()[0]!;
  const delta = (k: number, key: keyof ProcIo) => last[k]![key] - (before[k]?.[key] ?? 0);
  const shdSent = delta(0, 'wchar');
  const shdReceived = delta(0, 'rchar');
  const brickR = [1, 2, 3].reduce((n, k) => n + delta(k, 'rchar'), 0);
  const brickW = [1, 2, 3].reduce((n, k) => n + delta(k, 'wchar'), 0);
  // The shd logs the end of its heal just after the index entry goes.
  let span = side.healSpan(startedAt);
  for (let k = 0; !span && k < 50; k++) {
    await sleep(100);
    span = side.healSpan(startedAt);
  }
  const info = await side.healInfo().catch((e: Error) => `heal info failed: ${e.message}`);
  const entries = [...info.matchAll(/Number of entries: (\S+)/g)].map((m) => m[1]).join('/') || info.trim();
  const sums = await Promise.all(side.brickDirs.map((b) => sha256(join(b, IMAGE))));
  if (sums.some((s) => s !== sums[0])) throw new Error(`${side.name}: bricks differ after the heal`);
  return {
    side: side.name,
    healSeconds,
    afterBackSeconds,
    spawnSeconds: ((side.brickSpawnedAt() ?? NaN) - startedAt) / 1000,
    backSeconds: (back - t0) / 1000,
    dataHealSeconds: span ? (span.to - span.from) / 1000 : NaN,
    shdReceived,
    shdSent,
    brickRead: brickR - shdSent,
    brickWritten: brickW - shdReceived,
    healInfoEntries: entries,
    load,
    cpuSeconds: cpuLast.map((c, k) => c - (cpuBefore[k] ?? 0)),
    chunksDiffering: diff.chunks,
    ...(values.timeline && side.phases ? { phases: side.phases(startedAt) } : {}),
  };
}

const mib = (n: number) => (n / 1048576).toFixed(1);
const ratio = (n: number) => `${(n / CHANGED).toFixed(2)}×`;

async function main() {
  const only = values.only!.split(',');
  const makers: [string, () => Promise<Side>][] = [
    ['glusterts', glustertsSide],
    ['full', () => stockSide('full')],
    ['diff', () => stockSide('diff')],
  ];
  const results: Result[] = [];
  for (let r = 0; r < Number(values.repeat); r++)
    for (const [key, make] of makers) {
      if (!only.includes(key)) continue;
      const side = await make();
      try {
        const res = await measure(side, 1000 + r);
        results.push(res);
        console.error(JSON.stringify(res));
      } finally {
        await side.stop();
      }
    }
  const version = (await run('glusterfsd', ['--version']).catch(() => '')).split('\n')[0];
  console.log(
    `image ${mib(SIZE)} MiB, ${WRITES} random 4 KiB writes with brick 2 down (${mib(CHANGED)} MiB changed); ` +
      `${results[0]?.chunksDiffering ?? '?'} of ${SIZE / (128 << 10)} 128 KiB chunks differ; ${cpus().length} CPUs; ${version}`,
  );
  console.log(
    '| heal by | time (s) | after brick up (s) | data heal in shd log (s) | shd sent (MiB) | shd received (MiB) | bricks read (MiB) | bricks wrote (MiB) | sent / changed | received / changed | heal info | CPU s: shd, bricks 0, 1, 2 | load (1 min) |',
  );
  console.log(`|${' --- |'.repeat(13)}`);
  for (const x of results)
    console.log(
      `| ${x.side} | ${x.healSeconds.toFixed(2)} | ${x.afterBackSeconds.toFixed(2)} | ${x.dataHealSeconds.toFixed(2)} | ${mib(x.shdSent)} | ${mib(x.shdReceived)} | ${mib(x.brickRead)} | ${mib(x.brickWritten)} | ${ratio(x.shdSent)} | ${ratio(x.shdReceived)} | ${x.healInfoEntries} | ${x.cpuSeconds.map((c) => c.toFixed(2)).join(', ')} | ${x.load.toFixed(1)} |`,
    );
  const timed = results.filter((x) => x.phases);
  if (timed.length) {
    console.log(
      '\n| glusterts, ms after `start force` | CLI process | CLI main | brick spawned | brick process | brick main | brick listens | shd notified | crawl | data: locks+decide / open+record / copy / fsync / reset | done | load |',
    );
    console.log(`|${' --- |'.repeat(12)}`);
    const ms = (n: number) => (Number.isNaN(n) ? '?' : n.toFixed(0));
    for (const x of timed) {
      const p = x.phases!;
      const d = p.data;
      console.log(
        `| | ${ms(p.cliProcess)} | ${ms(p.cliMain)} | ${ms(p.brickSpawn)} | ${ms(p.brickProcess)} | ${ms(p.brickMain)} | ${ms(p.brickListening)} | ${ms(p.shdNotified)} | ${ms(p.crawl)} | ` +
          `${d ? `${d.decideMs} / ${d.setupMs} / ${d.copyMs} / ${d.fsyncMs} / ${d.resetMs}` : '?'} | ${ms(x.healSeconds * 1000)} | ${x.load.toFixed(1)} |`,
      );
    }
  }
  const ours = results.filter((x) => x.side === 'glusterts');
  for (const alg of ['full', 'diff']) {
    const stock = results.filter((x) => x.side === `stock ${alg}`);
    if (!ours.length || !stock.length) continue;
    const avg = (xs: Result[], k: keyof Result) => xs.reduce((n, x) => n + (x[k] as number), 0) / xs.length;
    console.log(
      `glusterts / stock ${alg}: time ${(avg(ours, 'healSeconds') / avg(stock, 'healSeconds')).toFixed(3)}×, ` +
        `data heal ${(avg(ours, 'dataHealSeconds') / avg(stock, 'dataHealSeconds')).toFixed(3)}×, ` +
        `shd sent ${(avg(ours, 'shdSent') / avg(stock, 'shdSent')).toFixed(3)}×, ` +
        `bricks read ${(avg(ours, 'brickRead') / Math.max(1, avg(stock, 'brickRead'))).toFixed(3)}×`,
    );
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
