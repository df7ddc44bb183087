import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Sample } from '../../src/bench/model.js';
import { buildTables } from '../../src/bench/report.js';
import { escapeXml, renderSvg } from '../../src/bench/svg.js';

/**
 * A small well-formedness check (no XML parser in Node): one root, every tag closed in
 * order, attributes quoted, only the five predefined entities, no stray '<' or '&'.
 */
function assertWellFormed(xml: string): void {
  let s = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  while (s.length) {
    const lt = s.indexOf('<');
    const text = lt < 0 ? s : s.slice(0, lt);
    assert.ok(!/&(?!(lt|gt|amp|quot|apos);)/.test(text), `bad entity in ${text.slice(0, 60)}`);
    if (stack.length === 0) assert.equal(text.trim(), '', 'text outside the root');
    if (lt < 0) break;
    s = s.slice(lt);
    const m = /^<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/.exec(s);
    assert.ok(m, `malformed tag at ${s.slice(0, 80)}`);
    const [all, close, name, , selfClose] = m;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
    s = s.slice(all.length);
  }
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
}

const ROWS = [
  { id: 'base', label: 'Base' },
  { id: 'native-gfapi', label: 'native <gfapi> & "friends"' },
];
const s = (
  row: string,
  system: Sample['system'],
  workload: Sample['workload'],
  repeat: number,
  kib: number,
): Sample => ({
  row,
  system,
  workload,
  repeat,
  tool: 'fio',
  aggregateKiBps: kib,
  perFileKiBps: [kib / 4, kib / 4, kib / 4, kib / 4],
  iops: 1,
  at: '',
});
const SAMPLES: Sample[] = [
  s('base', 'local', 'seq-read', 0, 1000),
  s('base', 'local', 'seq-read', 1, 1200),
  s('native-gfapi', 'glusterts', 'seq-read', 0, 900),
  s('native-gfapi', 'stock', 'seq-read', 0, 800),
  s('base', 'local', 'seq-write', 0, 2000),
  s('native-gfapi', 'stock', 'seq-write', 0, 1500),
  {
    row: 'base',
    system: 'local',
    workload: 'open-close',
    repeat: 0,
    tool: 'qemu-io',
    openMs: 10,
    wallMs: 12,
    at: '',
  },
];

test('SVG chart: well-formed XML, one bar per table line, labels escaped', () => {
  const tables = buildTables(SAMPLES, ROWS, '128k');
  const svg = renderSvg(tables, 'test machine <2 cores>');
  assertWellFormed(svg);
  const bars = [...svg.matchAll(/<rect class="bar" data-row="([^"]*)" data-system="([^"]*)"/g)].map(
    (m) => `${m[1]}/${m[2]}`,
  );
  const lines = tables.flatMap((t) => t.lines.map((l) => `${l.row}/${l.system}`));
  assert.equal(bars.length, lines.length);
  assert.deepEqual(bars, lines);
  assert.ok(svg.includes('native &lt;gfapi&gt; &amp; &quot;friends&quot;'));
  assert.ok(svg.includes('test machine &lt;2 cores&gt;'));
  // The repeated Base row has a min–max whisker.
  assert.equal((svg.match(/class="whisker"/g) ?? []).length, 1);
});

test('escapeXml and the checker itself', () => {
  assert.equal(escapeXml(`<a b="c">&'`), '&lt;a b=&quot;c&quot;&gt;&amp;&apos;');
  assert.throws(() => assertWellFormed('<svg><g></svg>'));
  assert.throws(() => assertWellFormed('<svg>a & b</svg>'));
  assert.throws(() => assertWellFormed('<svg/><svg/>'));
  assertWellFormed('<?xml version="1.0"?>\n<svg a="1"><g/><text>x &amp; y</text></svg>\n');
});
