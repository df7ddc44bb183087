// features/rejoin-guard in a brick graph (posix → locks → rejoin-guard) over a real brick
// directory, driven with the fops stock AFR sends after it reconnects to a returned brick
// (captured with fio gfapi on stock 10.3 bricks, docs/replication.md): re-open, FSTAT refresh
// with the changelog keys, READ — refused until the client's first AFR data lock here is released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DictType, type GfxDict } from '../../../src/protocol/dict.js';
import { ROOT_GFID, randomGfid } from '../../../src/protocol/gfid.js';
import { FdTable, Graph, OpenFd, parseVolfile, type FopContext } from '../../../src/xlator/index.js';
import { BRICK_TRANSLATORS } from '../../../src/xlators/brick-registry.js';
import { BAD_INODE, endsDataLock, reconnectCount } from '../../../src/xlators/rejoin-guard/index.js';
import { fails } from '../posix/helpers.js';

const uuid = (n: number) => `CTX_ID:c0ffee-GRAPH_ID:0-PID:7-HOST:vm-PC_NAME:fv-client-1-RECON_NO:-${n}`;
const session = (n: number, conn = 1): FopContext => ({
  caller: { uid: 0, gid: 0, groups: [], pid: 1, lkOwner: Buffer.from('0102030405060708', 'hex') },
  session: { id: `${uuid(n)}#${conn}`, fds: new FdTable() },
});
const flock = (start = 0n) => ({ type: 1, whence: 0, start, len: 0n, pid: 0, lkOwner: Buffer.alloc(0) });
const afrKeys: GfxDict = new Map(
  ['trusted.afr.dirty', 'trusted.afr.fv-client-0', 'trusted.afr.fv-client-1'].map((k) => [
    k,
    { type: DictType.UINT, value: 12n },
  ]),
);

async function guardedBrick(guardSeconds?: number) {
  const dir = await mkdtemp(join('/var/tmp', 'glusterts-rejoin-'));
  const graph = await Graph.build(
    parseVolfile(
      `volume b-posix\n type storage/posix\n option directory ${dir}\nend-volume\n` +
        `volume b-locks\n type features/locks\n subvolumes b-posix\nend-volume\n` +
        `volume b-guard\n type features/rejoin-guard\n${guardSeconds === undefined ? '' : ` option guard-seconds ${guardSeconds}\n`} subvolumes b-locks\nend-volume\n`,
    ),
    BRICK_TRANSLATORS,
    { strictOptions: true },
  );
  const call = (fop: string, req: unknown, ctx: FopContext): Promise<any> =>
    graph.top.call(fop as never, req as never, ctx);
  const gfid = randomGfid();
  const first = session(0);
  await call(
    'CREATE',
    {
      pargfid: ROOT_GFID,
      flags: 0o102,
      mode: 0o644,
      umask: 0o022,
      bname: 'vm.img',
      xdata: new Map([['gfid-req', { type: DictType.GFUUID, value: gfid }]]),
      fd: new OpenFd(gfid, 2, false),
    },
    first,
  );
  const open = async (ctx: FopContext) => {
    const fd = new OpenFd(gfid, 2, false);
    await call('OPEN', { gfid, flags: 2, xdata: null, fd }, ctx);
    return fd;
  };
  const read = (fd: OpenFd, ctx: FopContext) =>
    call('READ', { gfid, fd, offset: 0, size: 4096, flag: 0, xdata: null }, ctx);
  const fstat = (fd: OpenFd, ctx: FopContext) => call('FSTAT', { gfid, fd, xdata: afrKeys }, ctx);
  const finodelk = (fd: OpenFd, ctx: FopContext, type: number, volume = 'fv-replicate-0', start = 0n) =>
    call('FINODELK', { gfid, fd, cmd: 1, type, flock: flock(start), volume, xdata: null }, ctx);
  return {
    call,
    open,
    read,
    fstat,
    finodelk,
    first,
    async close() {
      await graph.fini();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('stock process-uuids: the reconnection count; which unlocks end a data lock', () => {
  assert.equal(reconnectCount(uuid(0)), 0);
  assert.equal(reconnectCount(uuid(3)), 3);
  assert.equal(reconnectCount('glusterts-shd-1234'), 0);
  const req = (volume: string, type: number, start = 0n) => ({ volume, type, flock: { start } });
  assert.equal(endsDataLock(req('fv-replicate-0', 2)), true);
  assert.equal(endsDataLock(req('fv-replicate-0', 1)), false, 'taking a lock');
  assert.equal(endsDataLock(req('fv-replicate-0:self-heal', 2)), false, "the heal's own domain");
  assert.equal(endsDataLock(req('fv-replicate-0', 2, 0x7ffffffffffffffen)), false, 'a metadata lock');
});

test('a reconnected client reads nothing here until it released an AFR data lock on the inode', async () => {
  const b = await guardedBrick();
  try {
    // The first connection is served as usual.
    const fd0 = await b.open(b.first);
    assert.equal((await b.read(fd0, b.first)).opRet, 0);
    assert.equal((await b.fstat(fd0, b.first)).xdata?.has(BAD_INODE) ?? false, false);

    // The same client after a reconnection (RECON_NO:-1) re-opens its fd: stock AFR's
    // refresh FSTAT is told the copy is bad here, and a READ fails so AFR reads elsewhere.
    const again = session(1, 2);
    const fd = await b.open(again);
    const st = await b.fstat(fd, again);
    assert.equal(st.xdata?.get(BAD_INODE)?.value, 1n);
    await fails(b.read(fd, again), 'EIO');

    // Its old lock's post-op lands on the survivors; then it locks here: still guarded while
    // the lock is held (the client's read map comes from that lock's pre-op replies).
    await b.finodelk(fd, again, 1);
    await fails(b.read(fd, again), 'EIO');
    // The heal's domain and the metadata range do not count.
    await b.finodelk(fd, again, 1, 'fv-replicate-0:self-heal');
    await b.finodelk(fd, again, 2, 'fv-replicate-0:self-heal');
    await fails(b.read(fd, again), 'EIO');
    // Released: served again, FSTAT clean.
    await b.finodelk(fd, again, 2);
    assert.equal((await b.read(fd, again)).opRet, 0);
    assert.equal((await b.fstat(fd, again)).xdata?.has(BAD_INODE) ?? false, false);

    // Opened again after that lock cycle (as a heal opens after deciding): not guarded.
    const fdLater = await b.open(again);
    assert.equal((await b.read(fdLater, again)).opRet, 0);

    // A reconnected heal daemon: lock, decide, unlock, then open and read the source.
    const shd = session(1, 4);
    const fdAny = new OpenFd(fd.gfid, 2, false);
    await b.call(
      'INODELK',
      { gfid: fd.gfid, cmd: 1, type: 1, flock: flock(), volume: 'fv-replicate-0', xdata: null },
      shd,
    );
    await b.call(
      'INODELK',
      { gfid: fd.gfid, cmd: 1, type: 2, flock: flock(), volume: 'fv-replicate-0', xdata: null },
      shd,
    );
    await b.call('OPEN', { gfid: fd.gfid, flags: 2, xdata: null, fd: fdAny }, shd);
    assert.equal((await b.read(fdAny, shd)).opRet, 0);

    // Another reconnected session is guarded on its own.
    const other = session(2, 3);
    const fd2 = await b.open(other);
    await fails(b.read(fd2, other), 'EIO');
    assert.equal((await b.read(fd, again)).opRet, 0);
  } finally {
    await b.close();
  }
});

test('the guard ends guard-seconds after the session first came: a whole-volume restart never refuses reads for good', async () => {
  const b = await guardedBrick(1);
  try {
    // Reconnected to every brick, only reading, never locking (or keeping one eager lock):
    // refused for the guard period only.
    const again = session(1, 2);
    const fd = await b.open(again);
    assert.equal((await b.fstat(fd, again)).xdata?.get(BAD_INODE)?.value, 1n);
    await fails(b.read(fd, again), 'EIO');
    await b.finodelk(fd, again, 1);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await b.read(fd, again)).opRet, 0, 'served after the period');
    assert.equal((await b.fstat(fd, again)).xdata?.has(BAD_INODE) ?? false, false);
    // A file opened after the period is not guarded either.
    const fdLater = await b.open(again);
    assert.equal((await b.read(fdLater, again)).opRet, 0);
  } finally {
    await b.close();
  }
});

test('guard-seconds 0 turns the guard off', async () => {
  const b = await guardedBrick(0);
  try {
    const again = session(1, 2);
    const fd = await b.open(again);
    assert.equal((await b.read(fd, again)).opRet, 0);
  } finally {
    await b.close();
  }
});
