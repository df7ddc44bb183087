/**
 * Captures golden wire fixtures from real GlusterFS 10.3 traffic (run through
 * scripts/capture-fixtures.sh / `npm run fixtures`). Starts a private stock glusterd + brick
 * on 127.0.0.2 (src/peers/stock-gluster.ts), captures lo with dumpcap per scenario while
 * stock clients (qemu-img/qemu-io, fio gfapi engines, the FUSE client) work on the volume,
 * then converts each capture with scripts/pcap-to-fixtures.ts.
 *
 *   node dist/scripts/capture-fixtures.js [--out test/fixtures/wire] [--keep-pcaps DIR] [--only a,b]
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, statSync, copyFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  mountFuse,
  runCommand,
  sleep,
  startService,
  startStockGluster,
  type Service,
  type StockGluster,
} from '../src/peers/index.js';
import { convertPcap, writeFixture } from './pcap-to-fixtures.js';

const HOST = '127.0.0.2';
const VOL = 'tv';

function sh(file: string, args: string[], opts: { timeoutMs?: number; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20, cwd: opts.cwd },
      (err, stdout, stderr) => {
        const log = `$ ${file} ${args.map((a) => (/[\s'"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n${stdout}${stderr}`;
        process.stdout.write(log.endsWith('\n') ? log : log + '\n');
        if (err) reject(new Error(`${file} failed: ${err.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** The first line a program prints for its version ('' if it cannot run). */
async function version(cmd: string, args: string[]): Promise<string> {
  return (await runCommand(cmd, args)).stdout.split('\n')[0]?.trim() ?? '';
}

async function dpkgVersion(pkg: string): Promise<string> {
  return (await runCommand('dpkg-query', ['-W', '-f', '${Version}', pkg])).stdout.trim();
}

/** dumpcap on lo for the stock host's traffic, into `file`. */
class Capture {
  private dumpcap?: Service;
  constructor(readonly file: string) {}

  async start(): Promise<void> {
    const args = ['-q', '-i', 'lo', '-B', '64', '-s', '0', '-f', `host ${HOST}`, '-w', this.file];
    this.dumpcap = await startService('dumpcap', args, /Capturing on/, {
      what: 'dumpcap',
      timeoutMs: 10_000,
    });
    await sleep(300);
  }

  async stop(): Promise<void> {
    const dumpcap = this.dumpcap;
    if (!dumpcap) return;
    this.dumpcap = undefined;
    await sleep(500); // let the last segments in
    await dumpcap.stop(5000);
  }
}

interface Scenario {
  name: string;
  description: string;
  client: () => Promise<string>;
  run: (g: StockGluster, work: string) => Promise<void>;
}

const URL = (p: string) => `gluster://${HOST}/${VOL}/${p}`;

const qemuClient = async () =>
  `${await version('qemu-img', ['--version'])}, block-gluster from qemu-block-extra ${await dpkgVersion('qemu-block-extra')}, libgfapi ${await dpkgVersion('libgfapi0')}`;
const fioClient = async () =>
  `fio ${await dpkgVersion('fio')} (Debian), libgfapi ${await dpkgVersion('libgfapi0')}`;
const fuseClient = async () =>
  `glusterfs FUSE client ${await dpkgVersion('glusterfs-client')} (Debian), Linux ${await version('uname', ['-r'])}`;

function fioJob(engine: string): string {
  return [
    '[global]',
    `ioengine=${engine}`,
    `volume=${VOL}`,
    `brick=${HOST}`,
    'direct=1',
    'size=1M',
    engine === 'gfapi_async' ? 'iodepth=4' : 'iodepth=1',
    '',
    '[seq-write-verify]',
    'rw=write',
    'bs=64k',
    'verify=crc32c',
    'do_verify=1',
    `filename=fio-${engine}-seq.dat`,
    '',
    '[randrw]',
    'rw=randrw',
    'bs=4k',
    'randseed=1234',
    `filename=fio-${engine}-rand.dat`,
    '',
  ].join('\n');
}

/** fio's gfapi engines log to a hard-coded /tmp/fio_gfapi.log; remove it unless it was there before. */
async function fio(jobFile: string, cwd: string): Promise<void> {
  const log = '/tmp/fio_gfapi.log';
  const existed = existsSync(log);
  try {
    await sh('fio', [jobFile], { cwd });
  } finally {
    if (!existed) await rm(log, { force: true });
  }
}

const FUSE_OPS = String.raw`
set -x
cd "$1"
mkdir d1
printf 'hello gluster\n' > d1/f1
cp d1/f1 d1/f2
ls -l d1
mv d1/f2 d1/f3
ln -s f1 d1/link
readlink d1/link
ln d1/f1 d1/hard
chmod 0640 d1/f1
touch -d '2020-01-02 03:04:05' d1/f3
setfattr -n user.test -v hello d1/f1
getfattr -n user.test d1/f1
getfattr -d d1/f1
setfattr -x user.test d1/f1
getfattr -n user.missing d1/f1
truncate -s 100000 d1/f1
fallocate -l 1M d1/falloc
fallocate -p -o 4096 -l 8192 d1/falloc
dd if=/dev/urandom of=d1/dd.bin bs=128k count=2 oflag=direct
dd if=d1/dd.bin of=/dev/null bs=128k iflag=direct
mkfifo d1/fifo
stat d1/f1 d1 .
stat nonexistent
ls -la d1
df .
rm d1/f1 d1/f3 d1/link d1/hard d1/falloc d1/dd.bin d1/fifo
rmdir d1
exit 0
`;

const scenarios: Scenario[] = [
  {
    name: 'volume-start',
    description:
      'gluster volume start with a private glusterd on 127.0.0.2: the brick (glusterfsd) fetches its volfile from glusterd (GETSPEC with brick_name) and signs in to portmap; glusterd<->CLI/brick control traffic runs over unix sockets and is not included.',
    client: async () =>
      `glusterfsd ${await dpkgVersion('glusterfs-server')} (brick process as client of glusterd)`,
    run: async () => undefined,
  },
  {
    name: 'qemu-img-qcow2',
    description:
      'qemu-img create -f qcow2 gluster://127.0.0.2/tv/a.qcow2 16M; qemu-img info; qemu-img check (three processes, each with its own gfapi mgmt, portmap and brick connections).',
    client: qemuClient,
    run: async () => {
      await sh('qemu-img', ['create', '-f', 'qcow2', URL('a.qcow2'), '16M']);
      await sh('qemu-img', ['info', URL('a.qcow2')]);
      await sh('qemu-img', ['check', URL('a.qcow2')]);
    },
  },
  {
    name: 'qemu-io-raw',
    description:
      'qemu-img create -f raw b.raw 4M; qemu-io -f raw -t none (O_DIRECT) with write -P 0xab 0 128k, read -P 0xab 0 128k, flush, discard 64k 64k, write -z 256k 64k, read -P 0 256k 64k, write -P 0x5a 1M 4k, read -P 0x5a 1M 4k, flush; qemu-img map --output=json (SEEK data/hole).',
    client: qemuClient,
    run: async () => {
      await sh('qemu-img', ['create', '-f', 'raw', URL('b.raw'), '4M']);
      const cmds = [
        'write -P 0xab 0 128k',
        'read -P 0xab 0 128k',
        'flush',
        'discard 64k 64k',
        'write -z 256k 64k',
        'read -P 0 256k 64k',
        'write -P 0x5a 1M 4k',
        'read -P 0x5a 1M 4k',
        'flush',
      ];
      await sh('qemu-io', ['-f', 'raw', '-t', 'none', ...cmds.flatMap((c) => ['-c', c]), URL('b.raw')]);
      await sh('qemu-img', ['map', '--output=json', '-f', 'raw', URL('b.raw')]);
    },
  },
  {
    name: 'fio-gfapi',
    description:
      'fio --ioengine=gfapi (sync), volume=tv brick=127.0.0.2, direct=1, two concurrent jobs on 1 MiB files: sequential write bs=64k with verify=crc32c (write, then read back), and randrw bs=4k.',
    client: fioClient,
    run: async (_g, work) => {
      writeFileSync(join(work, 'gfapi.fio'), fioJob('gfapi'));
      await fio(join(work, 'gfapi.fio'), work);
    },
  },
  {
    name: 'fio-gfapi-async',
    description:
      'fio --ioengine=gfapi_async, iodepth=4, otherwise as fio-gfapi (seq write bs=64k verify=crc32c, randrw bs=4k, 1 MiB files, direct=1).',
    client: fioClient,
    run: async (_g, work) => {
      writeFileSync(join(work, 'gfapi_async.fio'), fioJob('gfapi_async'));
      await fio(join(work, 'gfapi_async.fio'), work);
    },
  },
  {
    name: 'fuse',
    description:
      'Stock FUSE client (glusterfs --volfile-server=127.0.0.2 --volfile-id=tv): mkdir, create, cp, ls -l, rename, symlink, readlink, hard link, chmod, touch -d (setattr), setfattr/getfattr/removexattr user.*, getfattr of a missing xattr, truncate, fallocate, fallocate -p (punch hole), dd oflag=direct / iflag=direct bs=128k, mkfifo, stat, stat of a missing name, df, rm, rmdir; then `gluster volume set tv performance.write-behind-window-size 2MB` (glusterd sends the FETCHSPEC callback, the client refetches its volfile), a final ls, unmount.',
    client: fuseClient,
    run: async (g, work) => {
      const mp = join(work, 'mnt');
      const unmount = await mountFuse(HOST, VOL, mp, { logFile: join(work, 'fuse.log') });
      try {
        await sh('bash', ['-c', FUSE_OPS, 'fuse-ops', mp]);
        await g.cli('volume', 'set', VOL, 'performance.write-behind-window-size', '2MB');
        await sleep(1500);
        await sh('ls', ['-la', mp]);
      } finally {
        await unmount();
      }
    },
  },
];

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (k: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const outDir = opt('--out') ?? 'test/fixtures/wire';
  const keepPcaps = opt('--keep-pcaps');
  const only = opt('--only')?.split(',');
  const work = mkdtempSync(join(tmpdir(), 'glusterts-capture-'));
  const peer = `glusterfs ${await dpkgVersion('glusterfs-server')} (Debian 12)`;
  let g: StockGluster | undefined;
  let cap: Capture | undefined;
  const cleanup = async () => {
    await cap?.stop().catch(() => undefined);
    await g?.stop().catch(() => undefined);
  };
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`${sig}: cleaning up\n`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const pcaps: { s: Scenario; file: string }[] = [];
  const want = (n: string) => !only || only.includes(n);
  try {
    const startScenario = scenarios[0]!;
    g = await startStockGluster({
      host: HOST,
      volume: VOL,
      dir: join(work, 'stock'),
      beforeVolumeStart: async () => {
        if (!want(startScenario.name)) return;
        cap = new Capture(join(work, `${startScenario.name}.pcapng`));
        await cap.start();
      },
    });
    if (cap) {
      await cap.stop();
      cap = undefined;
      pcaps.push({ s: startScenario, file: join(work, `${startScenario.name}.pcapng`) });
    }
    for (const s of scenarios.slice(1)) {
      if (!want(s.name)) continue;
      process.stdout.write(`=== ${s.name}\n`);
      const file = join(work, `${s.name}.pcapng`);
      cap = new Capture(file);
      await cap.start();
      try {
        await s.run(g, work);
      } finally {
        await cap.stop();
        cap = undefined;
      }
      pcaps.push({ s, file });
    }
  } finally {
    await cleanup();
  }
  mkdirSync(outDir, { recursive: true });
  for (const { s, file } of pcaps) {
    const fx = await convertPcap(file, {
      scenario: s.name,
      description: s.description,
      peer,
      client: await s.client(),
    });
    const out = join(outDir, `${s.name}.json`);
    writeFixture(out, fx);
    const total = Object.values(fx.seen).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${out}: ${fx.records.length} of ${total} records kept, ${statSync(out).size} bytes (pcap ${statSync(file).size} bytes)\n`,
    );
    if (keepPcaps) {
      mkdirSync(keepPcaps, { recursive: true });
      copyFileSync(file, join(keepPcaps, `${s.name}.pcapng`));
    }
  }
  if (existsSync(work)) await rm(work, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
