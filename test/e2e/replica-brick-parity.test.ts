// Bricks written by glusterts and by stock glusterfsd are interchangeable for AFR: one
// script of the brick-side replication fops (XATTROP in every form AFR, shard and DHT use,
// the index and its virtual folders, pathinfo/gfid2path, list-xattr, bulk REMOVEXATTR,
// WRITE's xdata) runs against a stock 10.3 brick and a glusterts brick with the same
// translators, and the two transcripts — replies and what lands on disk — must be equal.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { intValue, ptrValue, strValue, uintValue, type GfxDict } from '../../src/protocol/dict.js';
import { ROOT_GFID, gfidToString } from '../../src/protocol/gfid.js';
import { OpenFd, type Layer } from '../../src/xlator/index.js';
import { llistxattr, lgetxattr } from '../../src/sys/index.js';
import { killPid, requirePeer, startStockGluster, type StockGluster } from '../../src/peers/index.js';
import { buildClient, create, ctx, lookupRoot } from '../xlators/client/helpers.js';

const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-parity-'));
let stock: StockGluster | undefined;
let brick: ChildProcess | undefined;
after(async () => {
  if (brick?.pid) await killPid(brick.pid);
  await stock?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const i32 = (...v: number[]) => {
  const o = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => o.writeInt32BE(x | 0, i * 4));
  return o;
};

/** A reply or error as plain comparable data; stats and brick-specific strings left out. */
function norm(x: unknown, brickDir: string): unknown {
  if (x instanceof Map) {
    return Object.fromEntries(
      [...x].map(([k, v]: [string, { type: number; value: unknown }]) => [
        k,
        [
          v.type,
          Buffer.isBuffer(v.value)
            ? v.value.toString('latin1').replaceAll(brickDir, '<brick>')
            : String(v.value),
        ],
      ]),
    );
  }
  return x;
}

async function script(top: Layer, brickDir: string): Promise<unknown[]> {
  const out: unknown[] = [];
  const call = async (
    label: string,
    fop: string,
    req: Record<string, unknown>,
    pick: string[] = ['dict', 'xdata'],
  ) => {
    try {
      const r = (await top.call(fop as never, req as never, ctx())) as Record<string, unknown>;
      out.push([label, 'ok', ...pick.map((k) => norm(r[k], brickDir))]);
      return r;
    } catch (e) {
      out.push([label, (e as { code?: string }).code ?? String(e)]);
      return null;
    }
  };
  const onDisk = async (label: string, rel: string) => {
    const p = join(brickDir, rel);
    const keys = (await llistxattr(p))
      .filter((k) => k !== 'trusted.gfid' && !k.startsWith('trusted.glusterfs.mdata'))
      .sort();
    out.push([
      label,
      Object.fromEntries(
        await Promise.all(keys.map(async (k) => [k, (await lgetxattr(p, k)).toString('hex')])),
      ),
    ]);
  };
  const indexNames = (kind: string) =>
    fs
      .readdirSync(join(brickDir, '.glusterfs/indices', kind))
      .filter((n) => !n.startsWith(`${kind}-`))
      .sort();

  await lookupRoot(top);
  const { gfid, fd } = await create(top, 'f');
  const xop = (label: string, flags: number, entries: [string, Buffer][], xdata: GfxDict = null, g = gfid) =>
    call(label, 'XATTROP', {
      gfid: g,
      flags,
      dict: new Map(entries.map(([k, v]) => [k, ptrValue(v)])),
      xdata,
    });

  // AFR pre-op/post-op, all up and with brick 2 blamed.
  await xop('pre-op', 0, [
    ['trusted.afr.dirty', i32(1, 0, 0)],
    ['trusted.afr.pv-client-0', i32(0, 0, 0)],
    ['trusted.afr.pv-client-1', i32(0, 0, 0)],
  ]);
  out.push(['dirty index after pre-op', indexNames('dirty').length]);
  await xop('post-op', 0, [
    ['trusted.afr.dirty', i32(-1, 0, 0)],
    ['trusted.afr.pv-client-0', i32(0, 0, 0)],
    ['trusted.afr.pv-client-1', i32(1, 0, 0)],
  ]);
  out.push(['indices after post-op', indexNames('dirty').length, indexNames('xattrop').length]);
  await onDisk('f after post-op', 'f');
  // Other ops.
  await xop('GET_AND_SET absent', 4, [['trusted.g', i32(5)]]);
  await xop('GET_AND_SET again', 4, [['trusted.g', i32(7)]]);
  await xop('GET_AND_SET zeros', 4, [['trusted.g', i32(0)]]);
  await xop('ADD_ARRAY zero-extends', 0, [['trusted.g', Buffer.from('0000000000000001', 'hex')]]);
  await xop('longer stored value', 0, [['trusted.g', i32(1)]]);
  await xop('OR', 2, [['trusted.o', i32(1)]]);
  await xop('ADD_ARRAY64', 1, [['trusted.w', Buffer.from('00000000000000ff', 'hex')]]);
  await xop('WITH_DEFAULT', 5, [['trusted.d', Buffer.concat([i32(1, 1), i32(100, 0)])]]);
  await xop('wrap', 0, [['trusted.wrap', i32(0x7fffffff)]]);
  await xop('wrap 2', 0, [['trusted.wrap', i32(1)]]);
  await onDisk('f after ops', 'f');
  // Virtual xattrs and lookup keys.
  await call(
    'pathinfo root',
    'GETXATTR',
    { gfid: ROOT_GFID, namelen: 1, name: 'trusted.glusterfs.pathinfo', xdata: null },
    ['dict'],
  );
  await call(
    'pathinfo f',
    'GETXATTR',
    { gfid, namelen: 1, name: 'trusted.glusterfs.pathinfo', xdata: null },
    ['dict'],
  );
  await call('gfid2path', 'GETXATTR', { gfid, namelen: 1, name: 'glusterfs.gfid2path', xdata: null }, [
    'dict',
    'opRet',
  ]);
  await call('index count', 'GETXATTR', {
    gfid: ROOT_GFID,
    namelen: 1,
    name: 'glusterfs.xattrop_index_count',
    xdata: null,
  });
  const lookupXdata = new Map([
    ['link-count', strValue('glusterfs.xattrop_index_count')],
    ['list-xattr', intValue(1)],
    ['glusterfs.inodelk-count', uintValue(0)],
    ['glusterfs.entrylk-count', uintValue(0)],
    ['glusterfs.parent-entrylk', uintValue(0)],
  ]);
  await call(
    'lookup xdata',
    'LOOKUP',
    { gfid: Buffer.alloc(16), pargfid: ROOT_GFID, flags: 0, bname: 'f', xdata: lookupXdata },
    ['xdata'],
  );
  // The xattrop folder through its virtual gfid.
  const vg = await top.call(
    'GETXATTR',
    { gfid: ROOT_GFID, namelen: 1, name: 'glusterfs.xattrop_index_gfid', xdata: null },
    ctx(),
  );
  const v = vg.dict!.get('glusterfs.xattrop_index_gfid')!.value as Buffer;
  out.push(['vgfid length', v.length]);
  const lk = await top.call(
    'LOOKUP',
    { gfid: v, pargfid: Buffer.alloc(16), flags: 0, bname: '', xdata: null },
    ctx(),
  );
  out.push(['vgfid is a directory', (lk.prestat.mode & 0o170000) === 0o040000]);
  const dfd = new OpenFd(v, 0, true);
  await top.call('OPENDIR', { gfid: v, xdata: null, fd: dfd }, ctx());
  const rd = await top.call(
    'READDIR',
    { gfid: v, fd: dfd, offset: 0n, size: 65536, xdata: new Map([['get-gfid-type', intValue(1)]]) },
    ctx(),
  );
  // Directory order is the filesystem's hash order on both: compare as a set.
  const listing = rd.entries.map((e) => [e.name === gfidToString(gfid) ? '<f>' : e.name, e.type] as const);
  out.push(['index listing', listing.sort(([a], [b]) => a.localeCompare(b))]);
  // WRITE xdata, then the bulk removal AFR's metadata heal sends.
  await call(
    'write xdata',
    'WRITE',
    {
      gfid,
      fd,
      offset: 0,
      size: 3,
      flag: 0,
      xdata: new Map([
        ['glusterfs.write-is-append', uintValue(4)],
        ['glusterfs.open-active-fd-count', uintValue(4)],
        ['glusterfs.open-fd-count', uintValue(4)],
        ['glusterfs.inodelk-dom-count', strValue('pv-replicate-0')],
      ]),
      payload: [Buffer.from('abc')],
    },
    ['xdata', 'opRet'],
  );
  await call(
    'bulk removexattr',
    'REMOVEXATTR',
    {
      gfid,
      name: '',
      xdata: new Map([
        ['trusted.g', ptrValue(Buffer.alloc(1))],
        ['trusted.none', ptrValue(Buffer.alloc(1))],
      ]),
    },
    [],
  );
  await call(
    'bulk removexattr, internal key',
    'REMOVEXATTR',
    {
      gfid,
      name: '',
      xdata: new Map([
        ['trusted.w', ptrValue(Buffer.alloc(1))],
        ['trusted.gfid', ptrValue(Buffer.alloc(1))],
      ]),
    },
    [],
  );
  await onDisk('f at the end', 'f');
  return out;
}

function brickVolfile(dir: string, port: number, volumeId: string): string {
  return [
    `volume pv-posix\n type storage/posix\n option directory ${dir}\n option volume-id ${volumeId}\nend-volume`,
    `volume pv-locks\n type features/locks\n subvolumes pv-posix\nend-volume`,
    `volume pv-index\n type features/index\n option xattrop-pending-watchlist trusted.afr.pv-\n option xattrop-dirty-watchlist trusted.afr.dirty\n option index-base ${dir}/.glusterfs/indices\n subvolumes pv-locks\nend-volume`,
    `volume ${dir}\n type debug/io-stats\n subvolumes pv-index\nend-volume`,
    `volume pv-server\n type protocol/server\n option transport.socket.bind-address 127.0.0.6\n option transport.socket.listen-port ${port}\n option auth.addr.${dir}.allow *\n subvolumes ${dir}\nend-volume\n`,
  ].join('\n');
}

test('the same replication fops on a stock 10.3 brick and a glusterts brick: equal replies and on-disk results', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  stock = await startStockGluster({ volume: 'pv', dir: join(work, 'stock') });
  const sc = await buildClient({
    'remote-host': stock.host,
    'remote-subvolume': stock.brickPaths[0]!,
    'transport-type': 'tcp',
    'remote-port': stock.brickPort(0),
  });
  await sc.graph.ready();
  const fromStock = await script(sc.top, stock.brickPaths[0]!);
  await sc.graph.fini();

  const dir = join(work, 'ts');
  fs.mkdirSync(dir);
  const volfile = join(work, 'ts.vol');
  fs.writeFileSync(volfile, brickVolfile(dir, 49650, '6f1b1c5e-2b7a-4b55-9a0c-0123456789ab'));
  brick = spawn(process.execPath, ['dist/src/brick/main.js', '--volfile', volfile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    brick!.stdout!.on('data', (d: Buffer) => /listening on/.test(d.toString()) && resolve());
    brick!.once('exit', (code) => reject(new Error(`brick exited ${code}`)));
  });
  const gc = await buildClient({
    'remote-host': '127.0.0.6',
    'remote-subvolume': dir,
    'transport-type': 'tcp',
    'remote-port': 49650,
  });
  await gc.graph.ready();
  const fromGlusterts = await script(gc.top, dir);
  await gc.graph.fini();

  assert.deepEqual(fromGlusterts, fromStock);
});
