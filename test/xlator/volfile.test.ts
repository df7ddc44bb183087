import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HandshakeProcs, decodeReply } from '../../src/protocol/index.js';
import { VolfileError, parseVolfile, printVolfile, topVolume } from '../../src/xlator/index.js';

/** The client volfile stock glusterd 10.3 served in the qemu-img capture. */
function stockClientVolfile(): string {
  const url = new URL('../../../test/fixtures/wire/qemu-img-qcow2.json', import.meta.url);
  const fixture = JSON.parse(readFileSync(url, 'utf8')) as {
    records: { kind: string; prog: number; proc: number; body: string }[];
  };
  const rec = fixture.records.find((r) => r.kind === 'reply' && r.prog === 14398633 && r.proc === 2)!;
  const reply = decodeReply(Buffer.from(rec.body, 'base64'), { name: 'GETSPEC', ...HandshakeProcs.GETSPEC });
  return reply.results.spec as string;
}

test('a volfile written by stock glusterd parses and prints back byte for byte', () => {
  const text = stockClientVolfile();
  const v = parseVolfile(text);
  assert.deepEqual(
    v.volumes.map((d) => d.type),
    [
      'protocol/client',
      'cluster/distribute',
      'features/utime',
      'performance/write-behind',
      'performance/open-behind',
      'performance/quick-read',
      'performance/md-cache',
      'performance/io-threads',
      'debug/io-stats',
    ],
  );
  assert.equal(topVolume(v).name, 'tv');
  assert.equal(v.volumes[0]!.options.get('remote-host'), '127.0.0.2');
  assert.equal(printVolfile(v), text);
});

test('option values keep inner spaces; comments and blank lines are ignored', () => {
  const v = parseVolfile(
    '# c\nvolume a\n  type storage/posix # trailing\n  option directory /x y\n\nend-volume\n',
  );
  assert.equal(v.volumes[0]!.options.get('directory'), '/x y');
});

test('malformed volfiles are refused with the line number', () => {
  const cases: [string, RegExp][] = [
    ['volume a\ntype x/y\nsubvolumes b\nend-volume', /line 3: subvolume b is not declared/],
    ['volume a\nend-volume', /line 2: volume a has no type/],
    ['volume a\ntype x/y\n', /volume a is not closed/],
    ['type x/y', /line 1: "type" outside a volume/],
    ['volume a\ntype x/y\nend-volume\nvolume a\n', /line 4: volume a declared twice/],
    ['volume a\ntype nonsense\nend-volume', /line 2: expected "type CATEGORY\/NAME"/],
    ['frob', /line 1: unknown keyword "frob"/],
    ['', /no volumes/],
  ];
  for (const [text, re] of cases)
    assert.throws(
      () => parseVolfile(text),
      (e: unknown) => e instanceof VolfileError && re.test(e.message),
      text,
    );
});
