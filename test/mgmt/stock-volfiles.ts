// Comparing glusterts's generated volfiles and `volume info` with what stock glusterd 10.3
// writes for the same volume definition. Used with the saved fixtures
// (test/fixtures/volfiles) and with a live stock glusterd.
import assert from 'node:assert/strict';
import { parseVolfile, type VolumeDecl } from '../../src/xlator/index.js';
import { VOLUME_OPTIONS, volumeGetRows } from '../../src/mgmt/options.js';
import type { VolumeRecord } from '../../src/mgmt/volume.js';

/** A volume as `gluster volume create` was given it. */
export interface VolumeDefinition {
  name: string;
  replica?: number;
  arbiter?: number;
}

/** The fixture cases and the definitions stock was given (test/fixtures/volfiles/README.md). */
export const CASES: Record<string, VolumeDefinition> = {
  distribute: { name: 'tv' },
  replica3: { name: 'rep3', replica: 3 },
  arbiter: { name: 'arb', replica: 3, arbiter: 1 },
  replica2: { name: 'rep2', replica: 2 },
  'dist-replica': { name: 'dr', replica: 3 },
  'dist-arbiter': { name: 'da', replica: 3, arbiter: 1 },
  'replica3-options': { name: 'r3', replica: 3 },
  'replica3-heal-options': { name: 'rh', replica: 3, arbiter: 1 },
  // Option groups (`volume set NAME group GROUP`) and sharding.
  'replica3-virt': { name: 'vr', replica: 3 },
  'replica3-gluster-block': { name: 'rglusterblock', replica: 3 },
  'distribute-virt': { name: 'gdistributedvirt' },
  'distribute-shard': { name: 'vbs' },
  'distribute-metadata-cache': { name: 'gmetadatacache' },
  'distribute-nl-cache': { name: 'gnlcache' },
  'distribute-db-workload': { name: 'gdbworkload' },
};

/** glusterd's `info` record: key=value lines. */
export function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

/**
 * The glusterts record of the volume stock described: its bricks (from the client volfile's
 * remote-host/remote-subvolume, in order), its id, and the options of its `info` that
 * glusterts knows (the others, such as nfs.disable, have no glusterts counterpart).
 */
export function recordFromStock(def: VolumeDefinition, clientVol: string, info: string): VolumeRecord {
  const fields = parseInfo(info);
  const bricks = parseVolfile(clientVol)
    .volumes.filter((v) => v.type === 'protocol/client')
    .map((v) => ({ host: v.options.get('remote-host')!, path: v.options.get('remote-subvolume')! }));
  const options: Record<string, string> = {};
  for (const [k, v] of fields) if (Object.hasOwn(VOLUME_OPTIONS, k)) options[k] = v;
  return {
    name: def.name,
    id: fields.get('volume-id')!,
    status: 'created',
    bricks,
    options,
    ...(def.replica ? { replicaCount: def.replica } : {}),
    ...(def.arbiter ? { arbiterCount: def.arbiter } : {}),
  };
}

const shape = (v: VolumeDecl) => ({
  name: v.name,
  type: v.type,
  subvolumes: v.subvolumes,
  options: [...v.options],
});

/**
 * Same graph: translator names, types, subvolume order, and every option with its value in
 * stock's order. `username`/`password` (glusterd's trusted volfile only) are ignored.
 */
export function assertSameClientGraph(
  ours: string,
  stock: string,
  label: string,
  what = 'client volfile',
): void {
  const drop = (v: VolumeDecl) => ({
    ...shape(v),
    options: shape(v).options.filter(([k]) => k !== 'username' && k !== 'password'),
  });
  assert.deepEqual(
    parseVolfile(ours).volumes.map(drop),
    parseVolfile(stock).volumes.map(drop),
    `${label}: ${what} differs from stock's`,
  );
}

/**
 * What a brick of a replicated volume must carry, as stock's brick volfile has it: every
 * translator glusterts writes appears in stock's volfile with the same name and type, in
 * the same bottom-to-top order; features/index with stock's options; features/arbiter
 * (right above posix) exactly where stock has it; posix's options are stock's. glusterts's
 * own brick translators (GLUSTERTS_ONLY) are left out of the comparison.
 */
/** Brick translators stock does not have. */
const GLUSTERTS_ONLY = new Set(['features/failed-writes', 'features/rejoin-guard', 'features/heal-ranges']);

export function assertBrickLikeStock(ours: string, stock: string, label: string, replicated: boolean): void {
  const o = parseVolfile(ours).volumes;
  const s = parseVolfile(stock).volumes;
  const stockTypes = s.map((v) => v.type);
  let at = -1;
  for (const v of o) {
    if (GLUSTERTS_ONLY.has(v.type)) continue;
    const i = stockTypes.indexOf(v.type, at + 1);
    assert.ok(i > at, `${label}: ${v.type} missing from stock's brick volfile, or out of order`);
    assert.equal(v.name, s[i]!.name, `${label}: name of ${v.type}`);
    at = i;
  }
  const find = (vs: VolumeDecl[], type: string) => vs.find((v) => v.type === type);
  const stockIndex = find(s, 'features/index')!;
  if (replicated) assert.deepEqual([...find(o, 'features/index')!.options], [...stockIndex.options], label);
  else assert.equal(find(o, 'features/index'), undefined, `${label}: no index on a distribute brick`);
  const arbiter = (vs: VolumeDecl[]) => {
    const a = find(vs, 'features/arbiter');
    return a && { name: a.name, subvolumes: a.subvolumes, options: [...a.options] };
  };
  assert.deepEqual(arbiter(o), arbiter(s), `${label}: features/arbiter`);
  const posix = find(o, 'storage/posix')!;
  for (const [k, v] of posix.options)
    assert.equal(find(s, 'storage/posix')!.options.get(k), v, `${label}: posix ${k}`);
}

/**
 * `volume info` for one volume: every line up to "Options Reconfigured:" as stock prints
 * it (Status aside: stock's volumes were started), and glusterts's option lines among
 * stock's.
 */
export function assertInfoLikeStock(ours: string, stock: string, label: string): void {
  const split = (t: string) => {
    const lines = t
      .split('\n')
      .map((l) => l.trimEnd())
      .filter((l) => l !== '' && !l.startsWith('Status: '));
    const i = lines.indexOf('Options Reconfigured:');
    return i < 0 ? { head: lines, opts: [] } : { head: lines.slice(0, i), opts: lines.slice(i + 1) };
  };
  const o = split(ours);
  const s = split(stock);
  assert.deepEqual(o.head, s.head, `${label}: volume info`);
  for (const line of o.opts) assert.ok(s.opts.includes(line), `${label}: option line ${line} not in stock's`);
}

/**
 * `volume get NAME all`: every key glusterts knows shows stock's value (its first row for
 * the key), the `(no-op)` mark aside. user.cifs is not among stock's rows.
 */
export function assertGetLikeStock(vol: VolumeRecord, stockGet: string, label: string): void {
  const stock = new Map<string, string>();
  for (const line of stockGet.split('\n').slice(2)) {
    const m = /^(\S+)\s+(.*?)\s*$/.exec(line);
    if (m && !stock.has(m[1]!)) stock.set(m[1]!, m[2]!);
  }
  const ours = volumeGetRows(vol, 'all')
    .filter(([k]) => stock.has(k))
    .map(([k, shown]) => `${k} ${shown.replace(/ \(no-op\)$/, '')}`);
  assert.deepEqual(
    ours,
    ours.map((line) => `${line.split(' ')[0]!} ${stock.get(line.split(' ')[0]!)!}`),
    `${label}: volume get`,
  );
}
