/** Summaries over repeated samples: median, min, max, and ratios between summaries. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Number of samples summarised. */
  n: number;
}

/** The median of `xs` (mean of the two middle values for an even count). Throws on []. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(xs: readonly number[]): Summary {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/** `value / base`, or undefined when there is no base (or it is zero). */
export function ratio(value: number, base: number | undefined): number | undefined {
  if (base === undefined || !(base > 0) || !Number.isFinite(value)) return undefined;
  return value / base;
}

/** "median (min–max)" of `xs` with `digits` decimals, e.g. "412.3 (401.0–420.9)". */
export function formatSummary(xs: readonly number[], digits = 1): string {
  const s = summarize(xs);
  return `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
}

/**
 * A Markdown table of two systems measured side by side: per workload each side's
 * "median (min–max)" and the ratio of the medians, `b / a`.
 */
export function comparisonTable(
  columns: { a: string; b: string; ratio: string },
  rows: readonly { name: string; a: readonly number[]; b: readonly number[] }[],
): string {
  const lines = [`| workload | ${columns.a} | ${columns.b} | ${columns.ratio} |`, '|---|---:|---:|---:|'];
  for (const r of rows) {
    const ratio = (median(r.b) / median(r.a)).toFixed(2);
    lines.push(`| ${r.name} | ${formatSummary(r.a)} | ${formatSummary(r.b)} | ${ratio}× |`);
  }
  return lines.join('\n');
}
