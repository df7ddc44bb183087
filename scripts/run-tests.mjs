#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) with Node's test runner, then prints one line
// with the counts and the wall time of the whole run.
//
//   node scripts/run-tests.mjs                      every test
//   node scripts/run-tests.mjs test/xdr test/rpc/record.test.ts --test-name-pattern=padding
//
// Arguments naming folders or files under test/ (source paths, or their dist/test twins) pick
// the tests to run; every other argument goes to `node --test`.
//
// Suites that drive real peers (stock glusterd on 127.0.0.2:24007, glusterts daemons on fixed
// loopback addresses, FUSE mounts, fio, QEMU, NBD tools) run one file at a time. The pure
// in-process suites listed in PARALLEL (no external programs, servers on port 0) run two files
// at a time, before them. A suite not listed is serial, so a new peer suite is safe by default.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const PARALLEL = [
  'test/xdr/',
  'test/rpc/',
  'test/protocol/',
  'test/xlator/',
  'test/xlators/posix/',
  'test/xlators/locks/',
  'test/xlators/distribute/',
  'test/xlators/io-stats/',
  'test/xlators/index/',
  'test/xlators/heal-ranges/',
  'test/xlators/arbiter/',
  'test/xlators/rejoin-guard/',
  'test/xlators/client/wire.test.ts',
  'test/xlators/client/hostile.test.ts',
  'test/sys/',
  'test/brick/',
  'test/bench/',
  'test/xlators/replicate/',
  'test/heal/',
  'test/support/dht-hash.test.ts',
  'test/support/fsx.test.ts',
  'test/support/wire-fixtures.test.ts',
  'test/client/local.test.ts',
  'test/client/units.test.ts',
  'test/mgmt/volfiles.test.ts',
  'test/mgmt/docs.test.ts',
  'test/cli/volume-status-format.test.ts',
  'test/nbd/server.test.ts',
  'test/nbd/hostile.test.ts',
  'test/nbd/tls.test.ts',
  'test/lint/',
];
// Peer suites inside the folders above.
const SERIAL = [
  'test/xlators/posix/stock-layout.test.ts',
  'test/xlators/distribute/stock-interop.test.ts',
  'test/xlators/io-stats/stock-graph.test.ts',
  'test/bench/smoke.test.ts',
];
const CONCURRENCY = 2;

const toSource = (file) => file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
const listed = (list, source) => list.some((p) => (p.endsWith('/') ? source.startsWith(p) : source === p));
const isParallel = (file) => listed(PARALLEL, toSource(file)) && !listed(SERIAL, toSource(file));

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? find(join(dir, e.name)) : e.name.endsWith('.test.js') ? [join(dir, e.name)] : [],
  );
}

/** test/xdr → dist/test/xdr; test/a.test.ts → dist/test/a.test.js; dist/test/... as given. */
function compiled(arg) {
  const path = arg.replace(/^\.\//, '').replace(/\/$/, '');
  return path.startsWith('dist/') ? path : `dist/${path.replace(/\.ts$/, '.js')}`;
}

const isPath = (arg) => /^(\.\/)?(dist\/)?test(\/|$)/.test(arg) || /\.(ts|js)$/.test(arg);
const args = process.argv.slice(2);
const picked = args.filter(isPath);
const passThrough = args.filter((a) => !isPath(a));

let files;
if (picked.length === 0) {
  files = find('dist/test');
} else {
  files = picked.flatMap((arg) => {
    const path = compiled(arg);
    if (!existsSync(path)) {
      console.error(
        `run-tests: ${arg}: no compiled tests at ${path} (a path under test/; did the build run?)`,
      );
      process.exit(2);
    }
    return statSync(path).isDirectory() ? find(path) : [path];
  });
}
files = [...new Set(files)].sort();

// Our own TAP copy of each run gives the totals; a caller's --test-reporter replaces it.
const ownReporter = !passThrough.some((a) => a.startsWith('--test-reporter'));
const tapDir = mkdtempSync(join(tmpdir(), 'run-tests-'));
const totals = { tests: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };

function run(name, group, concurrency) {
  if (group.length === 0) return { status: 0, ms: 0, files: 0 };
  const tap = join(tapDir, `${name}.tap`);
  const reporters = ownReporter
    ? [
        `--test-reporter=${process.stdout.isTTY ? 'spec' : 'tap'}`,
        '--test-reporter-destination=stdout',
        '--test-reporter=tap',
        `--test-reporter-destination=${tap}`,
      ]
    : [];
  const start = Date.now();
  const res = spawnSync(
    process.execPath,
    ['--test', `--test-concurrency=${concurrency}`, ...reporters, ...passThrough, ...group],
    { stdio: 'inherit' },
  );
  const ms = Date.now() - start;
  if (ownReporter && existsSync(tap)) {
    const text = readFileSync(tap, 'utf8');
    for (const key of Object.keys(totals)) {
      const all = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
      totals[key] += Number(all.at(-1)?.[1] ?? 0);
    }
  }
  return { status: res.status ?? 1, ms, files: group.length };
}

const start = Date.now();
const parallel = run('parallel', files.filter(isParallel), CONCURRENCY);
const serial = run(
  'serial',
  files.filter((f) => !isParallel(f)),
  1,
);
rmSync(tapDir, { recursive: true, force: true });

const time = (ms) => `${Math.floor(ms / 60000)}m${String(Math.round((ms % 60000) / 1000)).padStart(2, '0')}s`;
const counts = ownReporter
  ? `${totals.tests} tests: ${totals.pass} pass, ${totals.fail} fail, ${totals.skipped} skipped, ` +
    `${totals.cancelled} cancelled, ${totals.todo} todo; `
  : '';
console.log(
  `run-tests: ${files.length} files, ${counts}wall time ${time(Date.now() - start)} ` +
    `(in-process: ${parallel.files} files, ${CONCURRENCY} at a time, ${time(parallel.ms)}; ` +
    `peers: ${serial.files} files, one at a time, ${time(serial.ms)})`,
);
process.exit(parallel.status || serial.status);
