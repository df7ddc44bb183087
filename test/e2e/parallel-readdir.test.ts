// parallel-readdir on a daemon-made 3-brick distribute volume (`group samba` turns it on with
// readdir-ahead): the client volfile puts one readdir-ahead under distribute per brick, as
// stock glusterd does, and directory listings stay whole through stock FUSE (which runs those
// translators) and the TS client (which passes them through). Listings are compared with the
// names written, across many READDIRP batches and all three bricks.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import { parseVolfile } from '../../src/xlator/volfile.js';
import { mountFuse, requirePeer, startGlustertsDaemon, type RunningDaemon } from '../../src/peers/index.js';

const HOST = '127.0.0.3';
const work = fs.mkdtempSync(join('/var/tmp', 'glusterts-parallel-readdir-'));
let daemon: RunningDaemon | undefined;
let unmount: (() => Promise<void>) | undefined;

after(async () => {
  await unmount?.();
  await daemon?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test('parallel-readdir: readdir-ahead per subvolume, whole listings through stock FUSE and the TS client', async (t) => {
  if (!requirePeer('stock-gluster', t)) return;
  daemon = await startGlustertsDaemon({ host: HOST });
  const bricks = [0, 1, 2].map((i) => join(daemon!.data, 'bricks', `pr-${i}`));
  await daemon.volume('create', 'pr', ...bricks.map((b) => `${HOST}:${b}`), 'force');
  await daemon.volume('set', 'pr', 'group', 'samba');
  await daemon.volume('start', 'pr');

  const volfile = parseVolfile(fs.readFileSync(join(daemon.data, 'vols', 'pr', 'pr.tcp-fuse.vol'), 'utf8'));
  const dht = volfile.volumes.find((v) => v.type === 'cluster/distribute')!;
  assert.deepEqual(dht.subvolumes, ['pr-readdir-ahead-0', 'pr-readdir-ahead-1', 'pr-readdir-ahead-2']);
  // 10MB split three ways, in bytes, as glusterd writes it.
  assert.equal(
    volfile.volumes.find((v) => v.name === 'pr-readdir-ahead-1')!.options.get('rda-cache-limit'),
    '3495253B',
  );

  // Names written through stock FUSE: enough for several READDIRP batches per brick.
  const mnt = join(work, 'mnt');
  unmount = await mountFuse(HOST, 'pr', mnt);
  const names = Array.from(
    { length: 600 },
    (_, i) => `file-${String(i).padStart(4, '0')}-${'x'.repeat(i % 40)}`,
  );
  fs.mkdirSync(join(mnt, 'd'));
  for (const n of names) fs.writeFileSync(join(mnt, 'd', n), n);
  const spread = bricks.map((b) => fs.readdirSync(join(b, 'd')).length);
  assert.ok(
    spread.every((n) => n > 0),
    `every brick holds some names: ${spread.join(' ')}`,
  );
  assert.deepEqual(fs.readdirSync(join(mnt, 'd')).sort(), names);

  const v = await Volume.connect({ volume: 'pr', servers: [{ host: HOST }] });
  try {
    const seen: string[] = [];
    for await (const e of v.readdir('/d')) seen.push(e.name);
    assert.deepEqual(seen.sort(), names);
  } finally {
    await v.close();
  }
});
