/**
 * Per-layer fop statistics rendered as `gluster volume profile` does: for each layer,
 * each fop's share of the layer's time, average and total latency, calls and errors.
 * The numbers are the ones every Layer already counts (src/xlator/layer.ts), so reading
 * them costs nothing until someone asks.
 */
import type { FopName } from '../../protocol/fops.js';
import type { Layer } from '../../xlator/layer.js';

export interface FopProfile {
  fop: FopName;
  calls: number;
  errors: number;
  /** Time in the layer and below, summed over calls, nanoseconds. */
  totalNs: bigint;
  avgNs: number;
}

export interface LayerProfile {
  name: string;
  type: string;
  /** Fops with at least one call, by name. */
  fops: FopProfile[];
  totalNs: bigint;
}

/** The layers from `tops` down, each once (depth first, as the volfile graph hangs). */
export function layersBelow(tops: readonly Layer[]): Layer[] {
  const seen = new Set<Layer>();
  const visit = (l: Layer) => {
    if (seen.has(l)) return;
    seen.add(l);
    l.children.forEach(visit);
  };
  tops.forEach(visit);
  return [...seen];
}

export function profileOf(layer: Layer): LayerProfile {
  const fops: FopProfile[] = [];
  let totalNs = 0n;
  for (const [fop, s] of layer.stats) {
    if (s.calls === 0) continue;
    fops.push({
      fop,
      calls: s.calls,
      errors: s.errors,
      totalNs: s.totalNs,
      avgNs: Number(s.totalNs) / s.calls,
    });
    totalNs += s.totalNs;
  }
  fops.sort((a, b) => (a.fop < b.fop ? -1 : a.fop > b.fop ? 1 : 0));
  return { name: layer.name, type: layer.type, fops, totalNs };
}

const us = (ns: number | bigint) => `${(Number(ns) / 1000).toFixed(2)} us`;

/** One table per layer; fops in increasing share of latency, as the gluster CLI lists them. */
export function renderProfile(title: string, layers: readonly LayerProfile[]): string {
  const out = [title, '-'.repeat(title.length)];
  for (const l of layers) {
    out.push('', `Layer: ${l.name} (${l.type})`);
    if (l.fops.length === 0) {
      out.push('  (no calls)');
      continue;
    }
    const rows = l.fops
      .map((f) => ({
        f,
        pct: l.totalNs > 0n ? (Number(f.totalNs) * 100) / Number(l.totalNs) : 0,
      }))
      .sort((a, b) => a.pct - b.pct || (a.f.fop < b.f.fop ? -1 : 1))
      .map(({ f, pct }) => [
        pct.toFixed(2),
        us(f.avgNs),
        us(f.totalNs),
        String(f.calls),
        String(f.errors),
        f.fop,
      ]);
    const head = ['%-latency', 'Avg-latency', 'Total-latency', 'No. of calls', 'Errors', 'Fop'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]!))).join('   ');
    out.push(line(head), line(head.map((h) => '-'.repeat(h.length))), ...rows.map(line));
  }
  return out.join('\n') + '\n';
}
