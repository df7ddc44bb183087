/**
 * bench/replica.ts end to end, kept tiny: the NBD part only (glusterts NBD export vs qemu-nbd's
 * gluster driver on replica 3 volumes of glusterts and stock bricks), random writes, 1 s, 4 MiB
 * regions, on addresses of its own. It proves the script starts both systems, measures both
 * sides, prints the table and stops everything; the figures themselves mean nothing here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from '../../src/peers/index.js';

const SCRIPT = new URL('../../bench/replica.js', import.meta.url).pathname;

test(
  'bench/replica --parts nbd: both systems measured, table printed, nothing left behind',
  { timeout: 120_000 },
  async (t) => {
    if (!requirePeer(['stock-gluster', 'fio', 'qemu-gluster'], t)) return;
    const out = mkdtempSync(join(tmpdir(), 'glusterts-replica-bench-test-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const json = join(out, 'r.json');
    const args = [
      SCRIPT,
      '--quick',
      '--parts',
      'nbd',
      '--workloads',
      'rand-write',
      '--runtime',
      '1',
      '--size',
      '4M',
    ];
    args.push(
      '--glusterts-host',
      '127.0.0.73',
      '--stock-host',
      '127.0.0.74',
      '--json',
      json,
      '--timeout',
      '100',
    );
    const stdout = await new Promise<string>((ok, fail) =>
      execFile(process.execPath, args, { timeout: 110_000 }, (err, so, se) =>
        err ? fail(new Error(`${err.message}\n${se}`)) : ok(so),
      ),
    );
    assert.match(
      stdout,
      /^\| rand write 4k, 4 jobs × qd4 \(IOPS\) \| [\d.]+ \([\d.]+–[\d.]+\) \| [\d.]+ .* \| [\d.]+× \|$/m,
    );
    const r = JSON.parse(readFileSync(json, 'utf8')) as { samples: { system: string; value: number }[] };
    assert.deepEqual(r.samples.map((s) => s.system).sort(), ['glusterts', 'stock']);
    for (const s of r.samples) assert.ok(s.value > 0, `${s.system} measured`);
  },
);
