// Sanity checks of the golden captures in test/fixtures/wire (format: docs/fixtures.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readHeader, MsgType } from '../../src/rpc/message.js';
import { XdrReader } from '../../src/xdr/index.js';

const DIR = join(process.cwd(), 'test/fixtures/wire');

interface Rec {
  stream: number;
  dir: 'c2s' | 's2c';
  kind: 'call' | 'reply';
  prog: number;
  vers: number;
  proc: number;
  xid: number;
  body: string;
}

for (const f of readdirSync(DIR).filter((n) => n.endsWith('.json'))) {
  test(`wire fixture ${f}: every record decodes and replies match calls`, () => {
    const fx = JSON.parse(readFileSync(join(DIR, f), 'utf8')) as { scenario: string; records: Rec[] };
    assert.equal(`${fx.scenario}.json`, f);
    const calls = new Map<string, Rec>();
    for (const r of fx.records) {
      const h = readHeader(new XdrReader(Buffer.from(r.body, 'base64')));
      assert.equal(h.xid, r.xid);
      assert.equal(h.type, r.kind === 'call' ? MsgType.CALL : MsgType.REPLY);
      if (h.type === MsgType.CALL) {
        assert.deepEqual([h.prog, h.vers, h.proc], [r.prog, r.vers, r.proc]);
        calls.set(`${r.stream}|${r.xid}`, r);
      } else {
        const c = calls.get(`${r.stream}|${r.xid}`);
        if (c) assert.deepEqual([c.prog, c.vers, c.proc], [r.prog, r.vers, r.proc]);
      }
    }
  });
}

test('payload placement samples: a >= 64 KiB WRITE call and READ reply are present', () => {
  const fx = JSON.parse(readFileSync(join(DIR, 'qemu-io-raw.json'), 'utf8')) as { records: Rec[] };
  const big = (r: Rec) => Buffer.from(r.body, 'base64').length > 65536;
  assert.ok(fx.records.some((r) => r.kind === 'call' && r.prog === 1298437 && r.proc === 13 && big(r)));
  assert.ok(fx.records.some((r) => r.kind === 'reply' && r.prog === 1298437 && r.proc === 12 && big(r)));
});
