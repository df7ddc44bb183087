/**
 * `glusterts bench` end to end, kept short: Base, fio gfapi and TypeScript client rows, sequential workloads,
 * 1 s runs, 8 MiB files, on loopback addresses of its own (127.0.0.22 stock,
 * 127.0.0.23 glusterts) so it does not meet other suites' servers. About 40 s, most of it
 * stock libgfapi's glfs_fini. The full matrix is left to the documented command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult } from '../../src/bench/run.js';
import { GLUSTERTS_CLI as CLI, requirePeer } from '../../src/peers/index.js';

test(
  'glusterts bench --quick --rows base,native-gfapi,client: tables, JSON and SVG',
  { timeout: 120_000 },
  async (t) => {
    if (!requirePeer(['stock-gluster', 'fio'], t)) return;
    const out = mkdtempSync(join(tmpdir(), 'glusterts-bench-test-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const json = join(out, 'r.json');
    const svg = join(out, 'r.svg');
    const args = [
      CLI,
      'bench',
      '--quick',
      '--rows',
      'base,native-gfapi,client',
      '--workloads',
      'seq-read,seq-write',
    ];
    args.push(
      '--runtime',
      '1',
      '--size',
      '8M',
      '--stock-host',
      '127.0.0.22',
      '--glusterts-host',
      '127.0.0.23',
    );
    args.push('--json', json, '--svg', svg);
    const stdout = await new Promise<string>((ok, fail) =>
      execFile(process.execPath, args, { timeout: 110_000 }, (err, so, se) =>
        err ? fail(new Error(`${err.message}\n${se}`)) : ok(so),
      ),
    );
    assert.match(stdout, /^Seq read, 4 files with direct io, 128k blocks$/m);
    assert.match(stdout, /^\| Base \| \d+ \| \d+ \| \d+ \| \d+ \| 1\.00× \|$/m);
    assert.match(stdout, /^\| QEMU-GlusterFS native integration: fio gfapi \(glusterts\) \| \d+/m);
    assert.match(
      stdout,
      /^\| QEMU-GlusterFS native integration: fio gfapi \(stock GlusterFS 10\.3\) \| \d+/m,
    );
    assert.match(stdout, /^\| glusterts TypeScript client library \(glusterts\) \| \d+/m);
    assert.match(stdout, /^\| glusterts TypeScript client library \(stock GlusterFS 10\.3\) \| \d+/m);
    const r = JSON.parse(readFileSync(json, 'utf8')) as BenchResult;
    assert.equal(r.samples.length, 2 * 5); // 2 workloads × (Base + 2 rows × 2 systems)
    for (const s of r.samples) {
      assert.ok(s.aggregateKiBps! > 0, JSON.stringify(s));
      assert.equal(s.perFileKiBps!.length, 4);
    }
    // CPU per IO: the client row's window is its whole IO phase, so it always has one, and the
    // server processes (bricks, management) were found and counted.
    assert.match(stdout, /^CPU per IO: user\+sys µs of client and server processes/m);
    for (const s of r.samples.filter((x) => x.row === 'client')) {
      assert.ok(s.cpu && s.cpu.ios > 0 && s.cpu.clientUs > 0 && s.cpu.serverUs > 0, JSON.stringify(s));
    }
    assert.equal(r.options.bs, '128k');
    assert.match(r.machine.fio, /fio-/);
    assert.ok(r.machine.cores >= 1);
    assert.equal((readFileSync(svg, 'utf8').match(/class="bar"/g) ?? []).length, 10);
  },
);
