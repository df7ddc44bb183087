// A 3-brick distribute volume on glusterts, used by stock clients: `glusterts daemon` +
// `volume create dv HOST:b0 HOST:b1 HOST:b2` + `volume start`, the stock FUSE client
// writes 200 files in 10 directories × 2 levels and renames one across directories, and
// then:
// - every file reads back through FUSE, before and after a remount (a new client with an
//   empty cache), and through libgfapi (one qemu-img process, see below);
// - the files are spread over the three bricks; every directory exists on every brick
//   with a `trusted.glusterfs.dht` layout, and the three ranges cover the hash space;
// - each file sits on the brick its name hashes to (stock's gf_dm_hashfn, test/support/
//   dht-hash.ts), and nowhere else;
// - the renamed file stays readable; its data stays where it was and stock DHT leaves a
//   linkto file on the new name's brick: mode 01000, size 0, same gfid,
//   `trusted.glusterfs.dht.linkto` = "dv-client-<cached brick>\0";
// - STATFS through the mount sums the three bricks;
// - a stale linkto file planted on a brick is found and removed by stock DHT's lookup.
//
// gfapi check: `qemu-img convert` of all 200 files (as raw images) into one output file,
// one process. Unlike fio's gfapi engine, which only reports how many bytes it read, this
// compares every byte; QEMU shares one glfs_t per volume within a process, so it costs a
// single libgfapi start and ~10 s glfs_fini. QEMU's gluster driver reads whole 512-byte
// sectors and fails a short read with EIO, so every file is a multiple of 512 bytes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lgetxattr, lsetxattr } from '../../src/sys/index.js';
import { GLUSTERTS_CLI as CLI, killPid, mountFuse, requirePeer, sleep } from '../../src/peers/index.js';
import {
  dhtNameHash,
  layoutOwner,
  layoutProblem,
  parseLayout,
  type DiskLayout,
} from '../support/dht-hash.js';

const run = promisify(execFile);
const HOST = '127.0.0.6';
const VOLUME = 'dv';
const BRICKS = 3;
const DIRS = 10;
const PER_LEVEL = 10;
const S_ISVTX = 0o1000;

// A directory on the root filesystem: tmpfs lacks O_DIRECT and trusted xattrs behave alike.
const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-dht-'));
const data = join(work, 'data');
const bricks = Array.from({ length: BRICKS }, (_, i) => join(work, `b${i}`));
const mnt = join(work, 'mnt');
let daemon: ChildProcess | undefined;
let unmount: (() => Promise<void>) | undefined;
const brickPids: number[] = [];

after(async () => {
  await unmount?.();
  if (daemon?.pid && daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise((ok) => daemon!.once('exit', ok));
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon!.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  // The daemon stops its bricks; make sure by PID.
  for (const pid of brickPids) await killPid(pid, 2000);
  fs.rmSync(work, { recursive: true, force: true });
});

/** `glusterts volume …` against our daemon; resolves stdout. */
async function volume(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [CLI, 'volume', ...args, '--data', data], {
    timeout: 30_000,
  });
  return stdout;
}

async function startDaemon(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'daemon', '--data', data, '--host', HOST, '--port', '24007'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 15_000;
  while (!/listening on/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`glusterts daemon did not start:\n${out}`);
    }
    await sleep(25);
  }
  return child;
}

/** The 200 files: dN/fM and dN/sub/fM, distinct contents, each a multiple of 512 bytes. */
interface TestFile {
  dir: string;
  name: string;
  content: Buffer;
}

function makeFiles(): TestFile[] {
  const files: TestFile[] = [];
  for (let d = 0; d < DIRS; d++) {
    for (const dir of [`d${d}`, `d${d}/sub`]) {
      for (let f = 0; f < PER_LEVEL; f++) {
        const name = `f${f}`;
        const size = 512 * (1 + ((d * 7 + f) % 8));
        // Deterministic, distinct bytes: a SHA-256 stream keyed by the path.
        const content = Buffer.alloc(size);
        for (let off = 0; off < size; off += 32) {
          createHash('sha256').update(`${dir}/${name}#${off}`).digest().copy(content, off);
        }
        files.push({ dir, name, content });
      }
    }
  }
  return files;
}

const rel = (f: TestFile) => `${f.dir}/${f.name}`;

/** An xattr of a brick path, or null when it is not there. */
const xattr = (path: string, name: string) => lgetxattr(path, name).catch(() => null);

/** One directory's layout on each brick, in brick order. */
async function readLayouts(dir: string): Promise<DiskLayout[]> {
  const out: DiskLayout[] = [];
  for (const b of bricks) {
    const value = await xattr(join(b, dir), 'trusted.glusterfs.dht');
    assert.ok(value, `/${dir} on ${b} has a trusted.glusterfs.dht layout`);
    out.push(parseLayout(value));
  }
  return out;
}

function assertFusePathsRead(files: readonly TestFile[], moved: TestFile, movedTo: string, when: string) {
  for (const f of files) {
    const path = f === moved ? movedTo : rel(f);
    assert.ok(fs.readFileSync(join(mnt, path)).equals(f.content), `${when}: ${path} reads back through FUSE`);
  }
}

test('3-brick distribute: stock FUSE + gfapi clients, files spread by the DHT hash, layouts, linkto on rename', async (t) => {
  if (!requirePeer(['stock-gluster', 'qemu-gluster'], t)) return;
  fs.mkdirSync(data, { recursive: true });
  for (const b of bricks) fs.mkdirSync(b);
  daemon = await startDaemon();
  assert.match(
    await volume('create', VOLUME, ...bricks.map((b) => `${HOST}:${b}`)),
    /volume create: dv: success/,
  );
  assert.match(await volume('start', VOLUME), /volume start: dv: success/);
  const status = await volume('status', VOLUME);
  for (const m of status.matchAll(/\s0\s+Y\s+(\d+)\s*$/gm)) brickPids.push(Number(m[1]));
  assert.equal(brickPids.length, BRICKS, `three bricks online:\n${status}`);

  // Write through the stock FUSE client.
  unmount = await mountFuse(HOST, VOLUME, mnt);
  const files = makeFiles();
  for (let d = 0; d < DIRS; d++) fs.mkdirSync(join(mnt, `d${d}/sub`), { recursive: true });
  for (const f of files) fs.writeFileSync(join(mnt, rel(f)), f.content);
  const moved = files[0]!; // d0/f0

  // Rename d0/f0 into d1 under a name that hashes to another brick than the one holding
  // the data, so DHT must leave a linkto file.
  const cachedOn = bricks.findIndex((b) => fs.existsSync(join(b, rel(moved))));
  assert.notEqual(cachedOn, -1, 'd0/f0 is on some brick');
  const d1 = await readLayouts('d1');
  let newName = '';
  for (let i = 0; !newName; i++) {
    if (layoutOwner(d1, dhtNameHash(`moved${i}`)) !== cachedOn) newName = `moved${i}`;
  }
  const movedTo = `d1/${newName}`;
  fs.renameSync(join(mnt, rel(moved)), join(mnt, movedTo));
  assertFusePathsRead(files, moved, movedTo, 'first mount');

  // readdirp over three bricks: each name once, directories deduplicated, no linkto.
  assert.deepEqual(
    fs.readdirSync(join(mnt, 'd1')).sort(),
    [...Array.from({ length: PER_LEVEL }, (_, i) => `f${i}`), newName, 'sub'].sort(),
  );
  assert.deepEqual(fs.readdirSync(mnt).sort(), Array.from({ length: DIRS }, (_, i) => `d${i}`).sort());

  // STATFS: the three bricks share one filesystem, so DHT reports three times its blocks.
  const fsStat = fs.statfsSync(bricks[0]!);
  const volStat = fs.statfsSync(mnt);
  assert.equal(volStat.bsize, fsStat.bsize);
  assert.equal(volStat.blocks, BRICKS * fsStat.blocks);

  // A new client: nothing from the first one's cache.
  await unmount();
  unmount = await mountFuse(HOST, VOLUME, mnt);
  assertFusePathsRead(files, moved, movedTo, 'after remount');

  // On the bricks: every directory everywhere, with layouts that cover the hash space.
  const dirs = ['', ...Array.from({ length: DIRS }, (_, d) => [`d${d}`, `d${d}/sub`]).flat()];
  const layouts = new Map<string, DiskLayout[]>();
  for (const dir of dirs) layouts.set(dir, await readLayouts(dir));
  for (const [dir, l] of layouts) {
    assert.equal(layoutProblem(l), '', `layout of /${dir} covers 0..ffffffff exactly`);
    for (const x of l) assert.equal(x.type, 0, `/${dir}: hash type DM`);
  }

  // Each file on the brick its name hashes to, and only there.
  const perBrick = new Array<number>(BRICKS).fill(0);
  for (const f of files) {
    if (f === moved) continue;
    const owner = layoutOwner(layouts.get(f.dir)!, dhtNameHash(f.name));
    for (let i = 0; i < BRICKS; i++) {
      const path = join(bricks[i]!, rel(f));
      if (i === owner) {
        const st = fs.lstatSync(path);
        assert.ok(st.isFile() && (st.mode & S_ISVTX) === 0, `${rel(f)}: a data file on b${i}`);
        assert.ok(fs.readFileSync(path).equals(f.content), `${rel(f)}: its bytes on b${i}`);
      } else {
        assert.ok(!fs.existsSync(path), `${rel(f)} hashes to b${owner}, not on b${i}`);
      }
    }
    perBrick[owner] = perBrick[owner]! + 1;
  }
  for (let i = 0; i < BRICKS; i++)
    assert.ok(perBrick[i]! > 0, `b${i} holds some files (${perBrick.join('/')})`);

  // The renamed file: data where it was, a linkto where its new name hashes.
  const hashedOn = layoutOwner(layouts.get('d1')!, dhtNameHash(newName));
  assert.notEqual(hashedOn, cachedOn);
  const dataPath = join(bricks[cachedOn]!, movedTo);
  const linkPath = join(bricks[hashedOn]!, movedTo);
  assert.ok(fs.readFileSync(dataPath).equals(moved.content), 'the data stayed on its brick');
  const link = fs.lstatSync(linkPath);
  assert.equal(link.mode, 0o101000, 'linkto: a regular file, mode exactly 01000 (---------T)');
  assert.equal(link.size, 0);
  assert.deepEqual(
    await xattr(linkPath, 'trusted.glusterfs.dht.linkto'),
    Buffer.from(`${VOLUME}-client-${cachedOn}\0`),
    'linkto names the cached subvolume, NUL included',
  );
  assert.deepEqual(await xattr(linkPath, 'trusted.gfid'), await xattr(dataPath, 'trusted.gfid'), 'same gfid');
  for (const b of bricks) assert.ok(!fs.existsSync(join(b, rel(moved))), `d0/f0 is gone from ${b}`);

  // Regular files carry no layout (DHT's CREATE precondition is consumed, not stored).
  for (const f of files.slice(1, 20)) {
    const owner = layoutOwner(layouts.get(f.dir)!, dhtNameHash(f.name));
    assert.equal(await xattr(join(bricks[owner]!, rel(f)), 'trusted.glusterfs.dht'), null, rel(f));
  }

  // A stale linkto (pointing at a brick without the file) on a brick the name does not
  // hash to: a lookup of the name in / (commit hash 1 ≠ the volume's 0, so DHT looks on
  // every brick) finds it and, seeing glusterfs.open-fd-count = 0, removes it.
  const ghost = ['ghost', 'ghost1', 'ghost2', 'ghost3'].find(
    (n) => layoutOwner(layouts.get('')!, dhtNameHash(n)) !== BRICKS - 1,
  )!;
  const ghostPath = join(bricks[BRICKS - 1]!, ghost);
  fs.writeFileSync(ghostPath, '');
  fs.chmodSync(ghostPath, 0o1000);
  await lsetxattr(ghostPath, 'trusted.gfid', randomBytes(16), 0);
  await lsetxattr(ghostPath, 'trusted.glusterfs.dht.linkto', Buffer.from(`${VOLUME}-client-0\0`), 0);
  assert.throws(() => fs.statSync(join(mnt, ghost)), /ENOENT/);
  assert.ok(!fs.existsSync(ghostPath), 'stock DHT removed the stale linkto file');

  // libgfapi: every file, byte for byte, through one qemu-img process.
  const out = join(work, 'all.raw');
  const sources = files.map((f) => `gluster://${HOST}/${VOLUME}/${f === moved ? movedTo : rel(f)}`);
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', ...sources, out], {
    timeout: 120_000,
    maxBuffer: 16 << 20,
  });
  const got = fs.readFileSync(out);
  assert.equal(
    got.length,
    files.reduce((n, f) => n + f.content.length, 0),
  );
  let off = 0;
  for (const f of files) {
    const path = f === moved ? movedTo : rel(f);
    assert.ok(got.subarray(off, off + f.content.length).equals(f.content), `gfapi: ${path} reads back`);
    off += f.content.length;
  }
});
