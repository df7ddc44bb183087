/**
 * A hand-written SVG chart of the tables: one panel per workload, one horizontal bar per
 * table line (median, with a whisker from the slowest to the fastest repeat), coloured by
 * system, the ratio to Base printed at the bar's end. No browser or library needed.
 */
import type { SystemId } from './model.js';
import type { Line, Table } from './report.js';

const COLORS: Readonly<Record<SystemId, string>> = {
  local: '#6b7280',
  glusterts: '#2563eb',
  stock: '#d97706',
};

const WIDTH = 1240;
const LABEL_W = 580;
const BAR_H = 18;
const GAP = 6;
const PANEL_HEAD = 34;
const PANEL_GAP = 18;

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

function value(l: Line): { median: number; min: number; max: number } | undefined {
  const s = l.aggregate ?? l.open;
  return s && { median: s.median, min: s.min, max: s.max };
}

function fmt(x: number, latency: boolean): string {
  if (latency) return `${Math.round(x)} ms`;
  return x >= 1024 ? `${(x / 1024).toFixed(x >= 10240 ? 0 : 1)} MiB/s` : `${Math.round(x)} KiB/s`;
}

export function renderSvg(tables: readonly Table[], subtitle: string): string {
  const body: string[] = [];
  // The subtitle (machine, run) wrapped at '; ' to the chart's width.
  const sub: string[] = [];
  for (const part of subtitle.split('; ')) {
    const last = sub.length - 1;
    if (last >= 0 && sub[last]!.length + part.length < 190) sub[last] += `; ${part}`;
    else sub.push(part);
  }
  sub.forEach((line, i) =>
    body.push(`<text x="12" y="${40 + i * 16}" class="unit">${escapeXml(line)}</text>`),
  );
  let y = 40 + sub.length * 16;
  const plotW = WIDTH - LABEL_W - 110;
  // Latency percentile tables stay text: their lines are not one figure each.
  for (const t of tables.filter((x) => x.workload.kind !== 'clat')) {
    const latency = t.workload.kind === 'latency';
    const unit = latency
      ? 'open + 4 KiB read, ms (qemu-io), lower is better'
      : 'aggregate bandwidth, higher is better';
    body.push(`<text x="12" y="${y + 18}" class="panel">${escapeXml(t.title)}</text>`);
    body.push(
      `<text x="${WIDTH - 12}" y="${y + 18}" class="unit" text-anchor="end">${escapeXml(unit)}</text>`,
    );
    y += PANEL_HEAD;
    const max = Math.max(1, ...t.lines.map((l) => value(l)?.max ?? 0));
    for (const l of t.lines) {
      const v = value(l);
      if (!v) continue;
      const w = (x: number) => Math.max(1, (x / max) * plotW);
      const cy = y + BAR_H / 2;
      const ratio = latency ? l.openToBase : l.toBase;
      body.push(
        `<text x="${LABEL_W - 8}" y="${cy + 4}" text-anchor="end" class="label">${escapeXml(l.label)}</text>`,
        `<rect class="bar" data-row="${escapeXml(l.row)}" data-system="${l.system}" x="${LABEL_W}" y="${y}" width="${w(v.median).toFixed(1)}" height="${BAR_H}" fill="${COLORS[l.system]}"><title>${escapeXml(`${l.label}: ${fmt(v.median, latency)}`)}</title></rect>`,
      );
      if (v.max > v.min)
        body.push(
          `<line class="whisker" x1="${(LABEL_W + w(v.min)).toFixed(1)}" x2="${(LABEL_W + w(v.max)).toFixed(1)}" y1="${cy}" y2="${cy}"/>`,
        );
      body.push(
        `<text x="${(LABEL_W + w(Math.max(v.median, v.max)) + 6).toFixed(1)}" y="${cy + 4}" class="val">${escapeXml(fmt(v.median, latency))}${ratio !== undefined && l.row !== 'base' ? ` · ${ratio.toFixed(2)}×` : ''}</text>`,
      );
      y += BAR_H + GAP;
    }
    y += PANEL_GAP;
  }
  const legend = (['local', 'glusterts', 'stock'] as SystemId[])
    .map(
      (s, i) =>
        `<rect x="${12 + i * 170}" y="${y}" width="12" height="12" fill="${COLORS[s]}"/><text x="${30 + i * 170}" y="${y + 11}">${s === 'local' ? 'Base (local filesystem)' : s === 'stock' ? 'stock GlusterFS 10.3' : 'glusterts'}</text>`,
    )
    .join('');
  const height = y + 30;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<style>.panel{font-weight:bold;font-size:13px}.unit{fill:#555}.val{fill:#111}.whisker{stroke:#111;stroke-width:1.5}.label{font-size:11px}</style>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="16" font-weight="bold">glusterts bench: the 2012 talk's FIO tables on this machine</text>`,
    ...body,
    legend,
    `</svg>`,
    '',
  ].join('\n');
}
