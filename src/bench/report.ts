/**
 * From samples to what a person reads: per (workload, row, system) summaries over the
 * repeats, ratios to Base, the seed-format tables, the latency percentile tables, the CPU
 * per IO table, and the goals of issues 6 and 11.
 */
import {
  PERCENTILES,
  SYSTEM_LABELS,
  WORKLOADS,
  workloadTitle,
  type Sample,
  type SystemId,
  type Workload,
  type WorkloadId,
} from './model.js';
import { ratio, summarize, type Summary } from '../peers/stats.js';

export interface RowMeta {
  id: string;
  label: string;
}

/** One table line: a row on one system, summarised over the repeats. */
export interface Line {
  row: string;
  system: SystemId;
  label: string;
  /** Aggregate KiB/s (bw workloads). */
  aggregate?: Summary;
  /** Per run, the slowest and fastest file's KiB/s; summarised over the runs. */
  minFile?: Summary;
  maxFile?: Summary;
  iops?: Summary;
  /** open-close, ms. */
  open?: Summary;
  wall?: Summary;
  /** Median over median of Base (aggregate for bw, open+close wall for latency). */
  toBase?: number;
  /** open-close: open (until printed) relative to Base. */
  openToBase?: number;
  /** clat: requests in flight in all. */
  depth?: number;
  /** clat: completion latency percentiles, µs, keyed "50", "99", "99.9". */
  clat?: Record<string, Summary>;
  /**
   * CPU (user+sys) of client and server processes while the tool did IO, µs per `unit`:
   * per IO for random (4 KiB) workloads, per MiB moved for sequential ones.
   */
  cpu?: { unit: 'IO' | 'MiB'; total: Summary; client: Summary; server: Summary };
}

export interface Table {
  workload: Workload;
  title: string;
  lines: Line[];
}

export function lineLabel(meta: RowMeta, system: SystemId): string {
  return system === 'local' ? meta.label : `${meta.label} (${SYSTEM_LABELS[system]})`;
}

const pick = (xs: (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);

/** The CPU figures of samples, per IO (random) or per MiB (sequential); undefined without any. */
export function cpuSummary(samples: readonly Sample[], w: Workload): Line['cpu'] {
  const unit = w.random ? 'IO' : 'MiB';
  const per = samples.flatMap((s) => {
    const c = s.cpu;
    const n = c && (unit === 'IO' ? c.ios : c.bytes / 2 ** 20);
    return c && n && n > 0 ? [{ client: c.clientUs / n, server: c.serverUs / n }] : [];
  });
  if (per.length === 0) return undefined;
  return {
    unit,
    total: summarize(per.map((p) => p.client + p.server)),
    client: summarize(per.map((p) => p.client)),
    server: summarize(per.map((p) => p.server)),
  };
}

function clatLine(ss: readonly Sample[], line: Line): Line {
  const clat: Record<string, Summary> = {};
  for (const p of PERCENTILES) {
    const xs = pick(ss.map((s) => s.clatUs?.[String(p)]));
    if (xs.length) clat[String(p)] = summarize(xs);
  }
  const iops = pick(ss.map((s) => s.iops));
  return { ...line, clat, ...(iops.length ? { iops: summarize(iops) } : {}) };
}

/** Groups samples into tables, one per workload, lines in row order then system order. */
export function buildTables(samples: readonly Sample[], rows: readonly RowMeta[], bs: string): Table[] {
  const tables: Table[] = [];
  for (const w of WORKLOADS) {
    const lines: Line[] = [];
    const depths = [...new Set(samples.filter((s) => s.workload === w.id).map((s) => s.depth ?? 0))];
    for (const meta of rows) {
      // clat lines: each depth on both systems in turn, so the compared pair sits together.
      for (const depth of w.kind === 'clat' ? depths.sort((a, b) => a - b) : [undefined])
        for (const system of ['local', 'glusterts', 'stock'] as SystemId[]) {
          const ss = samples.filter(
            (s) =>
              s.workload === w.id &&
              s.row === meta.id &&
              s.system === system &&
              (depth === undefined || (s.depth ?? 0) === depth),
          );
          if (ss.length === 0) continue;
          const line: Line = { row: meta.id, system, label: lineLabel(meta, system) };
          const cpu = cpuSummary(ss, w);
          if (cpu) line.cpu = cpu;
          if (w.kind === 'clat') {
            lines.push(clatLine(ss, { ...line, depth: depth! }));
            continue;
          }
          if (w.kind === 'bw') {
            line.aggregate = summarize(pick(ss.map((s) => s.aggregateKiBps)));
            line.minFile = summarize(ss.map((s) => Math.min(...(s.perFileKiBps ?? [NaN]))));
            line.maxFile = summarize(ss.map((s) => Math.max(...(s.perFileKiBps ?? [NaN]))));
            const iops = pick(ss.map((s) => s.iops));
            if (iops.length) line.iops = summarize(iops);
          } else {
            line.open = summarize(pick(ss.map((s) => s.openMs)));
            line.wall = summarize(pick(ss.map((s) => s.wallMs)));
          }
          lines.push(line);
        }
    }
    if (lines.length === 0) continue;
    const base = lines.find((l) => l.row === 'base');
    for (const l of lines) {
      if (w.kind === 'clat') continue;
      if (w.kind === 'bw') l.toBase = ratio(l.aggregate!.median, base?.aggregate?.median);
      else {
        l.toBase = ratio(l.wall!.median, base?.wall?.median);
        l.openToBase = ratio(l.open!.median, base?.open?.median);
      }
    }
    tables.push({ workload: w, title: workloadTitle(w, bs), lines });
  }
  return tables;
}

const int = (x: number) => Math.round(x).toLocaleString('en-US').replace(/,/g, '');
const times = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(2)}×`);
const range = (s: Summary, f: (x: number) => string) => (s.n > 1 ? ` (${f(s.min)}–${f(s.max)})` : '');

/** Markdown tables in the seed's format (Aggregate / Min / Max BW in kB/s), plus × Base. */
export function renderTables(tables: readonly Table[]): string {
  const out: string[] = [];
  for (const t of tables) {
    out.push(`${t.title}`, '');
    if (t.workload.kind === 'bw') {
      out.push('| | Aggregate BW (kB/s) | Min BW (kB/s) | Max BW (kB/s) | IOPS | × Base |');
      out.push('|---|---:|---:|---:|---:|---:|');
      for (const l of t.lines) {
        const a = l.aggregate!;
        out.push(
          `| ${l.label} | ${int(a.median)}${range(a, int)} | ${int(l.minFile!.median)} | ${int(l.maxFile!.median)} | ${l.iops ? int(l.iops.median) : '–'} | ${times(l.toBase)} |`,
        );
      }
    } else if (t.workload.kind === 'clat') {
      out.push(...renderClat(t));
    } else {
      out.push('| | open (ms) | open+close wall (ms) | open × Base | wall × Base |');
      out.push('|---|---:|---:|---:|---:|');
      for (const l of t.lines) {
        out.push(
          `| ${l.label} | ${int(l.open!.median)}${range(l.open!, int)} | ${int(l.wall!.median)}${range(l.wall!, int)} | ${times(l.openToBase)} | ${times(l.toBase)} |`,
        );
      }
    }
    out.push('');
  }
  return out.join('\n');
}

const us = (x: number) => (x >= 100 ? int(x) : x.toFixed(1));
const cpuCell = (c: Line['cpu']) => (c ? `${us(c.total.median)}${range(c.total, us)}` : '–');

/** The stock line a glusterts line is compared with: same row (and depth). */
function stockPeer(t: Table, l: Line): Line | undefined {
  if (l.system !== 'glusterts') return undefined;
  return t.lines.find((s) => s.system === 'stock' && s.row === l.row && s.depth === l.depth);
}

/**
 * A latency table: per row, system and depth the completion latency percentiles, IOPS, CPU
 * per IO and, on glusterts lines, each percentile as a ratio to stock's (lower is better).
 */
function renderClat(t: Table): string[] {
  const ps = PERCENTILES.map(String);
  const out = [
    `| | depth | ${ps.map((p) => `p${p} (µs)`).join(' | ')} | IOPS | CPU µs/IO | p${ps.join(' / p')} × stock |`,
    `|---|---:|${ps.map(() => '---:|').join('')}---:|---:|---:|`,
  ];
  for (const l of t.lines) {
    const peer = stockPeer(t, l);
    const vs = peer
      ? ps.map((p) => times(ratio(l.clat?.[p]?.median ?? NaN, peer.clat?.[p]?.median))).join(' / ')
      : '';
    const cells = ps.map((p) => {
      const c = l.clat?.[p];
      return c ? `${us(c.median)}${range(c, us)}` : '–';
    });
    out.push(
      `| ${l.label} | ${l.depth} | ${cells.join(' | ')} | ${l.iops ? int(l.iops.median) : '–'} | ${cpuCell(l.cpu)} | ${vs} |`,
    );
  }
  return out;
}

/**
 * The CPU per IO table: one line per row and system, one column per workload that has CPU
 * figures — µs of user+sys CPU (client and server processes together) per 4 KiB IO for the
 * random workloads, per MiB for the sequential ones — with the client and server shares, and
 * on glusterts lines the ratio to stock (lower is better).
 */
export function renderCpuTable(tables: readonly Table[]): string {
  const cols = tables.filter((t) => t.workload.kind === 'bw' && t.lines.some((l) => l.cpu));
  if (cols.length === 0) return '';
  const labels = [...new Set(cols.flatMap((t) => t.lines.filter((l) => l.cpu).map((l) => l.label)))];
  const out = [
    'CPU per IO: user+sys µs of client and server processes while the tool did IO (total = client + server; random 4 KiB: per IO, sequential: per MiB; glusterts lines: × stock, lower is better)',
    '',
    `| | ${cols.map((t) => `${t.workload.id} µs/${t.workload.random ? 'IO' : 'MiB'}`).join(' | ')} |`,
    `|---|${cols.map(() => '---:|').join('')}`,
  ];
  for (const label of labels) {
    const cells = cols.map((t) => {
      const l = t.lines.find((x) => x.label === label);
      const c = l?.cpu;
      if (!l || !c) return '–';
      const peer = stockPeer(t, l)?.cpu;
      const vs = peer ? `, ${times(ratio(c.total.median, peer.total.median))}` : '';
      // Base has no server: its figure is fio's (and the kernel's) alone.
      if (l.system === 'local') return us(c.total.median);
      return `${us(c.total.median)} = ${us(c.client.median)} + ${us(c.server.median)}${vs}`;
    });
    out.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  out.push('');
  return out.join('\n');
}

export interface Goal {
  goal: string;
  detail: string;
  value: number;
  target: number;
  met: boolean;
}

function find(tables: readonly Table[], w: WorkloadId, row: string, system: SystemId): Line | undefined {
  return tables.find((t) => t.workload.id === w)?.lines.find((l) => l.row === row && l.system === system);
}

/**
 * Issue 6's goals, for every figure present: native (gfapi and QEMU, plain and trimmed)
 * ≥ 0.95× Base for sequential read and write; native ≥ 2× FUSE on the same system;
 * glusterts ≥ stock on every row (for latency: glusterts' time ≤ stock's).
 */
export function evaluateGoals(tables: readonly Table[]): Goal[] {
  const goals: Goal[] = [];
  const native = ['native-gfapi', 'native-qemu', 'trimmed-gfapi', 'trimmed-qemu'];
  for (const w of ['seq-read', 'seq-write'] as const) {
    for (const row of native) {
      for (const system of ['glusterts', 'stock'] as const) {
        const l = find(tables, w, row, system);
        if (l?.toBase === undefined) continue;
        goals.push({
          goal: 'native ≥ 0.95× Base',
          detail: `${w} ${row} (${system})`,
          value: l.toBase,
          target: 0.95,
          met: l.toBase >= 0.95,
        });
        const fuse = find(tables, w, 'fuse', system);
        const r = fuse && ratio(l.aggregate!.median, fuse.aggregate?.median);
        if (r !== undefined)
          goals.push({
            goal: 'native ≥ 2× FUSE',
            detail: `${w} ${row} (${system})`,
            value: r,
            target: 2,
            met: r >= 2,
          });
      }
    }
  }
  for (const t of tables) {
    if (t.workload.kind === 'clat') continue;
    for (const l of t.lines) {
      if (l.system !== 'glusterts') continue;
      const s = find(tables, t.workload.id, l.row, 'stock');
      if (!s) continue;
      const r =
        t.workload.kind === 'bw'
          ? ratio(l.aggregate!.median, s.aggregate!.median)
          : ratio(s.wall!.median, l.wall!.median);
      if (r === undefined) continue;
      goals.push({
        goal: 'glusterts ≥ stock',
        detail: `${t.workload.id} ${l.row}`,
        value: r,
        target: 1,
        met: r >= 1,
      });
    }
  }
  // Issue 11: CPU per IO (per MiB for sequential) below stock's, as stock ÷ glusterts.
  for (const t of tables) {
    if (t.workload.kind !== 'bw') continue;
    for (const l of t.lines) {
      const s = stockPeer(t, l);
      const cpu = l.cpu && s?.cpu && ratio(s.cpu.total.median, l.cpu.total.median);
      if (cpu === undefined) continue;
      goals.push({
        goal: 'glusterts CPU per IO ≤ stock',
        detail: `${t.workload.id} ${l.row}`,
        value: cpu,
        target: 1,
        met: cpu >= 1,
      });
    }
  }
  return goals;
}

export function renderGoals(goals: readonly Goal[]): string {
  if (goals.length === 0) return '';
  const out = [
    'Goals (ratios of medians; for open-close glusterts/stock is stock time ÷ glusterts time, for CPU stock CPU ÷ glusterts CPU)',
    '',
  ];
  out.push('| goal | figure | measured | met |', '|---|---|---:|---|');
  for (const g of goals)
    out.push(`| ${g.goal} | ${g.detail} | ${g.value.toFixed(2)}× | ${g.met ? 'yes' : 'no'} |`);
  out.push('');
  return out.join('\n');
}
