// The dependency check bites: dependency-cruiser, with the repository's own rules, runs over a
// small tree that breaks each rule once (and keeps the allowed cases), and reports exactly the
// breaks. `npm run lint:deps` runs the same rules over the real tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CRUISER = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

// Each module of the fixture tree and what it imports.
const TREE: Record<string, string> = {
  'src/errors/base.ts': 'export class ProjectError extends Error {}',
  'src/xdr/reader.ts': "import { ProjectError } from '../errors/base.js';\nexport const r = ProjectError;",
  // wrong: the bottom layer reaches up
  'src/xdr/bad.ts': "import { c } from '../rpc/client.js';\nexport const b = c;",
  'src/rpc/client.ts': "import { r } from '../xdr/reader.js';\nexport const c = r;",
  // wrong: a cycle that exists at run time
  'src/protocol/a.ts': "import { b } from './b.js';\nexport const a = () => b;",
  'src/protocol/b.ts': "import { a } from './a.js';\nexport const b = () => a;",
  // allowed: a cycle of types only is erased by tsc
  'src/protocol/c.ts': "import type { D } from './d.js';\nexport interface C { d?: D }",
  'src/protocol/d.ts': "import type { C } from './c.js';\nexport interface D { c?: C }",
  'src/sys/index.ts': "import { ProjectError } from '../errors/base.js';\nexport const s = ProjectError;",
  // wrong: src/sys is a leaf
  'src/sys/bad.ts': "import { c } from '../rpc/client.js';\nexport const x = c;",
  // allowed: storage/posix uses src/sys
  'src/xlators/posix/index.ts': "import { s } from '../../sys/index.js';\nexport const posix = s;",
  // wrong: one translator imports another
  'src/xlators/locks/index.ts': "import { posix } from '../posix/index.js';\nexport const locks = posix;",
  // allowed: a registry names every translator
  'src/xlators/brick-registry.ts':
    "import { posix } from './posix/index.js';\nimport { locks } from './locks/index.js';\nexport const all = [posix, locks];",
  'src/xlators/posix/on-disk.ts': 'export const handle = (g: string) => g;',
  // allowed: features/index shares posix's on-disk layout; wrong: it uses posix's fops
  'src/xlators/index/store.ts': "import { handle } from '../posix/on-disk.js';\nexport const at = handle;",
  'src/xlators/index/bad.ts': "import { posix } from '../posix/index.js';\nexport const i = posix;",
  // wrong: the client library uses src/sys; and mgmt imports its sibling client
  'src/client/volume.ts': "import { s } from '../sys/index.js';\nexport const v = s;",
  'src/mgmt/daemon.ts': "import { v } from '../client/volume.js';\nexport const d = v;",
  // wrong: a folder the layer order does not place
  'src/newcomer/x.ts': "import { r } from '../xdr/reader.js';\nexport const n = r;",
  // wrong: shipped code imports a test helper
  'src/cli/main.ts': "import { h } from '../../test/support/helper.js';\nexport const m = h;",
  'test/support/helper.ts': "import { v } from '../../src/client/volume.js';\nexport const h = v;",
};

const EXPECTED = [
  'layer-mgmt: src/mgmt/daemon.ts → src/client/volume.ts',
  'layer-unplaced: src/newcomer/x.ts → src/xdr/reader.ts',
  'layer-xdr: src/xdr/bad.ts → src/rpc/client.ts',
  'no-circular: src/protocol/a.ts → src/protocol/b.ts',
  'src-not-tests: src/cli/main.ts → test/support/helper.ts',
  'sys-is-a-leaf: src/sys/bad.ts → src/rpc/client.ts',
  'sys-users: src/client/volume.ts → src/sys/index.ts',
  'xlators-apart-index: src/xlators/index/bad.ts → src/xlators/posix/index.ts',
  'xlators-apart: src/xlators/locks/index.ts → src/xlators/posix/index.ts',
];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

test('the dependency rules report every wrong import in a fixture tree, and only those', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'layers-'));
  try {
    for (const [file, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text + '\n');
    }
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    );
    const out = await promisify(execFile)(
      process.execPath,
      [CRUISER, 'src', 'test', '--config', join(ROOT, '.dependency-cruiser.cjs'), '--output-type', 'json'],
      { cwd: dir, maxBuffer: 16 << 20 },
    ).then(
      (ok) => ok.stdout,
      // depcruise exits with the number of errors: the report is on stdout either way.
      (err: { stdout?: string }) => err.stdout ?? '',
    );
    const violations = (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
    const got = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    assert.deepEqual(got, EXPECTED);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
