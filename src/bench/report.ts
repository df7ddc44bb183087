/**
 * From samples to what a person reads: per (workload, row, system) summaries over the
 * repeats, ratios to Base, the seed-format tables, and the goals of issue 6.
 */
import {
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

/** Groups samples into tables, one per workload, lines in row order then system order. */
export function buildTables(samples: readonly Sample[], rows: readonly RowMeta[], bs: string): Table[] {
  const tables: Table[] = [];
  for (const w of WORKLOADS) {
    const lines: Line[] = [];
    for (const meta of rows) {
      for (const system of ['local', 'glusterts', 'stock'] as SystemId[]) {
        const ss = samples.filter((s) => s.workload === w.id && s.row === meta.id && s.system === system);
        if (ss.length === 0) continue;
        const line: Line = { row: meta.id, system, label: lineLabel(meta, system) };
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
  return goals;
}

export function renderGoals(goals: readonly Goal[]): string {
  if (goals.length === 0) return '';
  const out = [
    'Goals (ratios of medians; for open-close glusterts/stock is stock time ÷ glusterts time)',
    '',
  ];
  out.push('| goal | figure | measured | met |', '|---|---|---:|---|');
  for (const g of goals)
    out.push(`| ${g.goal} | ${g.detail} | ${g.value.toFixed(2)}× | ${g.met ? 'yes' : 'no'} |`);
  out.push('');
  return out.join('\n');
}
