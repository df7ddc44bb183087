// The fsx checker itself: deterministic per seed, and it catches a file that lies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Volume } from '../../src/client/index.js';
import type { OptionSchema, TranslatorType } from '../../src/xlator/index.js';
import { posix } from '../../src/xlators/posix/index.js';
import { FsxMismatch, runFsx, type FsxFile } from './fsx.js';

const registry = new Map<string, TranslatorType<OptionSchema>>([
  [posix.type, posix as TranslatorType<OptionSchema>],
]);

async function withLocalFile(body: (file: FsxFile) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join('/var/tmp', 'glusterts-fsx-'));
  const volfile = `volume fv\n    type storage/posix\n    option directory ${dir}\nend-volume\n`;
  const volume = await Volume.fromVolfile(volfile, { registry, name: 'fv' });
  try {
    const file = await volume.create('/fsx.img', 'w+', 0o644);
    try {
      await body(file);
    } finally {
      await file.close();
    }
  } finally {
    await volume.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('fsx over the client library on a local posix graph: every op checked, same seed same ops', async () => {
  await withLocalFile(async (file) => {
    const a = await runFsx(file, { seed: 7, ops: 600, maxSize: 512 * 1024, maxIo: 64 * 1024 });
    const b = await runFsx(file, { seed: 7, ops: 600, maxSize: 512 * 1024, maxIo: 64 * 1024 });
    assert.deepEqual(a, b);
    assert.equal(a.ops, 600);
    for (const n of ['read', 'write', 'truncate', 'discard', 'zerofill'] as const)
      assert.ok(a.counts[n] > 0, n);
  });
});

test('fsx reports the first wrong byte with the seed and the ops before it', async () => {
  await withLocalFile(async (file) => {
    // A file that drops every 50th write: fsx must notice.
    let writes = 0;
    const lossy: FsxFile = {
      ...file,
      pread: (l, p) => file.pread(l, p),
      pwrite: (b, p) => (++writes % 50 === 0 ? Promise.resolve(b.length) : file.pwrite(b, p)),
      ftruncate: (l) => file.ftruncate(l),
      discard: (o, l) => file.discard(o, l),
      zerofill: (o, l) => file.zerofill(o, l),
      fsync: () => file.fsync(),
      fstat: () => file.fstat(),
    };
    await assert.rejects(runFsx(lossy, { seed: 3, ops: 2000, maxSize: 256 * 1024 }), (err: unknown) => {
      assert.ok(err instanceof FsxMismatch);
      assert.equal(err.seed, 3);
      assert.match(err.message, /fsx seed 3: op #\d+/);
      return true;
    });
  });
});
