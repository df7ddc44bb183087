/**
 * The top self-time functions of a V8 .cpuprofile (from brick-cpu.js --profile, or node
 * --cpu-prof), as a Markdown table: share of all samples, and where the function lives.
 * Idle and GC show up as V8's own entries ("(idle)", "(garbage collector)", "(program)").
 *
 *   node dist/bench/cpuprofile-top.js FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: cpuprofile-top.js FILE.cpuprofile [--top N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: ProfileNode[];
  samples?: number[];
  startTime: number;
  endTime: number;
};

// Self samples per node: from the sample list when present, else hitCount.
const hits = new Map<number, number>();
if (profile.samples?.length) for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
else for (const n of profile.nodes) hits.set(n.id, n.hitCount ?? 0);

const byFunction = new Map<string, number>();
let total = 0;
for (const n of profile.nodes) {
  const h = hits.get(n.id) ?? 0;
  if (!h) continue;
  total += h;
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.replace(/^.*\/dist\//, '').replace(/^node:/, 'node:')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'}\t${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + h);
}
const idle = [...byFunction].filter(([k]) => k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
const seconds = (profile.endTime - profile.startTime) / 1e6;
console.log(
  `${file}: ${total} samples over ${seconds.toFixed(1)} s, ${((100 * idle) / total).toFixed(1)}% idle; ` +
    'shares below are of the busy samples',
);
console.log('\n| self % | function | where |\n|---:|---|---|');
const busy = total - idle;
const rows = [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]);
for (const [key, h] of rows.slice(0, Number(values.top))) {
  const [fn, where] = key.split('\t');
  console.log(`| ${((100 * h) / busy).toFixed(1)} | \`${fn}\` | ${where ? `\`${where}\`` : ''} |`);
}
