// The project's own small chart functions: each returns an accessible inline SVG string (role="img",
// <title>/<desc>, aria-labelledby) and the table that carries the same numbers. Colours are presentation
// attributes (so a standalone .svg file renders the same) plus classes a page stylesheet may override.
// No inline style attributes (they would need 'unsafe-inline' under the report's CSP).

import type { WStarValue } from '../metrics/analyze';
import { escapeXml as x, truncate } from './escape';

export interface TableSpec {
  caption: string;
  head: string[];
  rows: string[][];
  /** Column indices holding numbers (right-aligned). */
  numeric?: number[];
}

export interface Chart {
  id: string;
  title: string;
  desc: string;
  svg: string;
  table: TableSpec;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
export const SHAPES = ['circle', 'square', 'diamond', 'triangle'] as const;
const INK = '#222';
const GRID = '#ccc';
const FONT = 'system-ui, -apple-system, Segoe UI, sans-serif';

export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v.toFixed(digits);
}

const r2 = (v: number) => Math.round(v * 100) / 100;
const textWidth = (s: string, size = 12) => Array.from(s).length * size * 0.58;

function open(id: string, title: string, desc: string, w: number, h: number): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${x(id)}" role="img" aria-labelledby="${x(id)}-title ${x(id)}-desc" viewBox="0 0 ${r2(w)} ${r2(h)}" width="${r2(w)}" height="${r2(h)}" font-family="${FONT}" font-size="12">`
    + `<title id="${x(id)}-title">${x(title)}</title><desc id="${x(id)}-desc">${x(desc)}</desc>`
    + `<rect class="bg" x="0" y="0" width="${r2(w)}" height="${r2(h)}" fill="#fff"/>`;
}

function textEl(tx: number, ty: number, s: string, attrs = ''): string {
  return `<text x="${r2(tx)}" y="${r2(ty)}" fill="${INK}" class="ink"${attrs ? ' ' + attrs : ''}>${x(s)}</text>`;
}

/** Nice tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) out.push(Math.abs(v) < 1e-12 ? 0 : v);
  return out;
}

function axis(x0: number, x1: number, yTop: number, yBottom: number, lo: number, hi: number, tickFmt: (v: number) => string): string {
  const sx = (v: number) => x0 + ((v - lo) / (hi - lo)) * (x1 - x0);
  let s = '';
  for (const t of ticks(lo, hi)) {
    const px = sx(t);
    s += `<line x1="${r2(px)}" x2="${r2(px)}" y1="${r2(yTop)}" y2="${r2(yBottom)}" stroke="${GRID}" class="grid"/>`;
    s += textEl(px, yBottom + 14, tickFmt(t), 'text-anchor="middle"');
  }
  return s;
}

function marker(shape: (typeof SHAPES)[number], cx: number, cy: number, r: number, color: string, cls: string): string {
  const a = `fill="${color}" stroke="#fff" stroke-width="0.8" class="${cls}"`;
  switch (shape) {
    case 'square':
      return `<rect x="${r2(cx - r)}" y="${r2(cy - r)}" width="${r2(2 * r)}" height="${r2(2 * r)}" ${a}/>`;
    case 'diamond':
      return `<polygon points="${r2(cx)},${r2(cy - r * 1.3)} ${r2(cx + r * 1.3)},${r2(cy)} ${r2(cx)},${r2(cy + r * 1.3)} ${r2(cx - r * 1.3)},${r2(cy)}" ${a}/>`;
    case 'triangle':
      return `<polygon points="${r2(cx)},${r2(cy - r * 1.3)} ${r2(cx + r * 1.2)},${r2(cy + r)} ${r2(cx - r * 1.2)},${r2(cy + r)}" ${a}/>`;
    default:
      return `<circle cx="${r2(cx)}" cy="${r2(cy)}" r="${r2(r)}" ${a}/>`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bars with error bars (category split).

export function barChart(o: {
  id: string; title: string; desc: string; unit: string;
  items: { label: string; value: number | null; err: number | null; count?: number; color?: string }[];
  max?: number; table: TableSpec;
}): Chart {
  const labelW = Math.max(90, ...o.items.map((i) => textWidth(i.label))) + 12;
  const plotW = 420;
  const rowH = 30;
  const top = 10;
  const w = labelW + plotW + 80;
  const h = top + o.items.length * rowH + 30;
  const max = o.max ?? Math.max(1e-9, ...o.items.map((i) => (i.value ?? 0) + (i.err ?? 0)));
  const sx = (v: number) => labelW + (Math.max(0, Math.min(v, max)) / max) * plotW;
  let s = open(o.id, o.title, o.desc, w, h);
  s += axis(labelW, labelW + plotW, top, top + o.items.length * rowH, 0, max, (v) => `${+v.toFixed(2)}${o.unit}`);
  o.items.forEach((it, i) => {
    const y = top + i * rowH;
    const color = it.color ?? PALETTE[i % PALETTE.length]!;
    s += textEl(labelW - 8, y + rowH / 2 + 4, truncate(it.label, 40), 'text-anchor="end"');
    if (it.value === null) {
      s += textEl(labelW + 4, y + rowH / 2 + 4, 'undefined');
      return;
    }
    s += `<rect x="${r2(labelW)}" y="${r2(y + 6)}" width="${r2(sx(it.value) - labelW)}" height="${rowH - 12}" fill="${color}" class="bar"><title>${x(`${it.label}: ${fmt(it.value, 1)}${o.unit}${it.err !== null ? ` ± ${fmt(it.err, 1)}` : ''}`)}</title></rect>`;
    if (it.err !== null) {
      const a = sx(it.value - it.err);
      const b = sx(it.value + it.err);
      const cy = y + rowH / 2;
      s += `<path d="M${r2(a)},${r2(cy)}H${r2(b)}M${r2(a)},${r2(cy - 5)}V${r2(cy + 5)}M${r2(b)},${r2(cy - 5)}V${r2(cy + 5)}" stroke="${INK}" stroke-width="1.5" fill="none" class="errbar"/>`;
    }
    s += textEl(sx(it.value + (it.err ?? 0)) + 6, y + rowH / 2 + 4, `${fmt(it.value, 1)}${o.unit}`);
  });
  return { id: o.id, title: o.title, desc: o.desc, svg: s + '</svg>', table: o.table };
}

// ---------------------------------------------------------------------------------------------------------
// 100% stacked horizontal bars (label shares per principle).

export function stackedBars(o: {
  id: string; title: string; desc: string;
  series: { name: string; color: string; cls: string }[];
  rows: { label: string; values: number[] }[];
  table: TableSpec;
}): Chart {
  const labelW = Math.min(260, Math.max(80, ...o.rows.map((r) => textWidth(truncate(r.label, 40))))) + 12;
  const plotW = 460;
  const rowH = 20;
  const top = 30;
  const w = labelW + plotW + 20;
  const h = top + o.rows.length * rowH + 30;
  let s = open(o.id, o.title, o.desc, w, h);
  let lx = labelW;
  o.series.forEach((se) => {
    s += `<rect x="${r2(lx)}" y="8" width="12" height="12" fill="${se.color}" class="${se.cls}"/>` + textEl(lx + 16, 18, se.name);
    lx += 30 + textWidth(se.name);
  });
  s += axis(labelW, labelW + plotW, top, top + o.rows.length * rowH, 0, 100, (v) => `${v}%`);
  o.rows.forEach((row, i) => {
    const y = top + i * rowH;
    const total = row.values.reduce((a, b) => a + b, 0);
    s += textEl(labelW - 6, y + rowH / 2 + 4, truncate(row.label, 40), 'text-anchor="end"');
    let acc = 0;
    row.values.forEach((v, j) => {
      if (total <= 0 || v <= 0) return;
      const x0 = labelW + (acc / total) * plotW;
      const wd = (v / total) * plotW;
      acc += v;
      const se = o.series[j]!;
      s += `<rect x="${r2(x0)}" y="${r2(y + 3)}" width="${r2(wd)}" height="${rowH - 6}" fill="${se.color}" class="${se.cls}"><title>${x(`${row.label}: ${se.name} ${fmt((100 * v) / total, 1)}% (${v})`)}</title></rect>`;
    });
  });
  return { id: o.id, title: o.title, desc: o.desc, svg: s + '</svg>', table: o.table };
}

// ---------------------------------------------------------------------------------------------------------
// Point estimates with intervals, one row per item (DA, DD, agreement).

export function intervalChart(o: {
  id: string; title: string; desc: string;
  rows: { label: string; value: number | null; lo: number | null; hi: number | null; note?: string; highlight?: boolean }[];
  domain: [number, number];
  table: TableSpec;
}): Chart {
  const labelW = Math.min(260, Math.max(80, ...o.rows.map((r) => textWidth(truncate(r.label, 40))))) + 12;
  const plotW = 420;
  const rowH = 26;
  const top = 10;
  const w = labelW + plotW + 110;
  const h = top + Math.max(1, o.rows.length) * rowH + 30;
  let [lo, hi] = o.domain;
  for (const r of o.rows) for (const v of [r.value, r.lo, r.hi]) if (v !== null && Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!(hi > lo)) hi = lo + 1;
  const sx = (v: number) => labelW + ((v - lo) / (hi - lo)) * plotW;
  let s = open(o.id, o.title, o.desc, w, h);
  s += axis(labelW, labelW + plotW, top, top + o.rows.length * rowH, lo, hi, (v) => `${+v.toFixed(2)}`);
  o.rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    s += textEl(labelW - 8, cy + 4, truncate(r.label, 40), `text-anchor="end"${r.highlight ? ' font-weight="bold"' : ''}`);
    if (r.value === null && (r.lo === null || r.hi === null)) {
      s += textEl(labelW + 4, cy + 4, r.note ? truncate(`undefined: ${r.note}`, 60) : 'undefined', 'font-style="italic"');
      return;
    }
    if (r.lo !== null && r.hi !== null) {
      s += `<path d="M${r2(sx(r.lo))},${r2(cy)}H${r2(sx(r.hi))}M${r2(sx(r.lo))},${r2(cy - 5)}V${r2(cy + 5)}M${r2(sx(r.hi))},${r2(cy - 5)}V${r2(cy + 5)}" stroke="${PALETTE[0]}" stroke-width="2" fill="none" class="interval"/>`;
    }
    if (r.value !== null) {
      s += `<circle cx="${r2(sx(r.value))}" cy="${r2(cy)}" r="5" fill="${INK}" class="point"><title>${x(`${r.label}: ${fmt(r.value)}${r.lo !== null && r.hi !== null ? ` [${fmt(r.lo)}, ${fmt(r.hi)}]` : ''}`)}</title></circle>`;
      s += textEl(labelW + plotW + 8, cy + 4, fmt(r.value));
    }
  });
  return { id: o.id, title: o.title, desc: o.desc, svg: s + '</svg>', table: o.table };
}

// ---------------------------------------------------------------------------------------------------------
// Heat map with a value and a count in each cell (principle supremacy).

/** Diverging colour for a share in [0, 1]: 0 red, 0.5 light grey, 1 blue. */
export function divergingColor(v: number): string {
  const t = Math.max(0, Math.min(1, v));
  const lerp = (a: number, b: number, u: number) => Math.round(a + (b - a) * u);
  const [c0, mid, c1] = [[202, 0, 32], [247, 247, 247], [5, 113, 176]] as const;
  const [a, b, u] = t < 0.5 ? [c0, mid, t / 0.5] : [mid, c1, (t - 0.5) / 0.5];
  return `rgb(${lerp(a[0], b[0], u)},${lerp(a[1], b[1], u)},${lerp(a[2], b[2], u)})`;
}

export function heatmap(o: {
  id: string; title: string; desc: string;
  labels: string[];
  values: (number | null)[][];
  counts: (number | null)[][];
  table: TableSpec;
}): Chart {
  const n = o.labels.length;
  const cell = 38;
  const labelW = Math.min(200, Math.max(60, ...o.labels.map((l) => textWidth(truncate(l, 30), 11)))) + 10;
  const topLabelH = labelW;
  const w = labelW + n * cell + 20 + Math.round(topLabelH * 0.5);
  const h = topLabelH + n * cell + 50;
  let s = open(o.id, o.title, o.desc, w, h);
  o.labels.forEach((l, i) => {
    s += textEl(labelW - 6, topLabelH + i * cell + cell / 2 + 4, truncate(l, 30), 'text-anchor="end" font-size="11"');
    const cx = labelW + i * cell + cell / 2 + 4;
    s += textEl(cx, topLabelH - 6, truncate(l, 30), `text-anchor="start" font-size="11" transform="rotate(-60 ${r2(cx)} ${r2(topLabelH - 6)})"`);
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x0 = labelW + j * cell;
      const y0 = topLabelH + i * cell;
      const v = o.values[i]?.[j] ?? null;
      const c = o.counts[i]?.[j] ?? null;
      if (i === j) {
        s += `<rect x="${x0}" y="${y0}" width="${cell}" height="${cell}" fill="#fff" stroke="${GRID}" class="cell-diag"/>`;
        continue;
      }
      const fill = v === null ? '#e8e8e8' : divergingColor(v);
      const tip = `${o.labels[i]} over ${o.labels[j]}: ${v === null ? 'undefined' : fmt(v, 2)} (n = ${c ?? 0})`;
      s += `<rect x="${x0}" y="${y0}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff" class="cell"><title>${x(tip)}</title></rect>`;
      const dark = v !== null && (v < 0.2 || v > 0.8);
      const ink = dark ? '#fff' : INK;
      if (v !== null) s += `<text x="${x0 + cell / 2}" y="${y0 + 16}" text-anchor="middle" font-size="11" fill="${ink}">${fmt(v, 2)}</text>`;
      s += `<text x="${x0 + cell / 2}" y="${y0 + (v === null ? 23 : 30)}" text-anchor="middle" font-size="9" fill="${ink}">n=${c ?? 0}</text>`;
    }
  }
  // colour legend
  const ly = topLabelH + n * cell + 18;
  for (let t = 0; t <= 10; t++) s += `<rect x="${labelW + t * 16}" y="${ly}" width="16" height="10" fill="${divergingColor(t / 10)}"/>`;
  s += textEl(labelW, ly + 24, '0: row principle always loses', 'font-size="10"');
  s += textEl(labelW + 176 + 8, ly + 9, '1: row principle always wins; grey: no conflict', 'font-size="10"');
  return { id: o.id, title: o.title, desc: o.desc, svg: s + '</svg>', table: o.table };
}

// ---------------------------------------------------------------------------------------------------------
// Dot plot of w* per principle, one marker per annotator; infinite values drawn at the edges.

export function wstarDotPlot(o: {
  id: string; title: string; desc: string;
  rowLabels: string[];
  series: { name: string; values: WStarValue[] | null }[];
  table: TableSpec;
}): Chart {
  const labelW = Math.min(240, Math.max(80, ...o.rowLabels.map((l) => textWidth(truncate(l, 36))))) + 12;
  const plotW = 460;
  const edge = 36; // the -inf / +inf gutters
  const nS = o.series.length;
  const rowH = Math.max(18, 6 + nS * 4);
  const legendRows = Math.ceil(nS / 3);
  const top = 16 + legendRows * 16 + 18;
  const w = labelW + plotW + 2 * edge + 20;
  const h = top + o.rowLabels.length * rowH + 30;
  let lo = Infinity;
  let hi = -Infinity;
  for (const se of o.series) for (const v of se.values ?? []) if (typeof v === 'number') { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (!Number.isFinite(lo)) { lo = -1; hi = 1; }
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const px0 = labelW + edge;
  const sx = (v: number) => px0 + ((v - lo) / (hi - lo)) * plotW;
  let s = open(o.id, o.title, o.desc, w, h);
  o.series.forEach((se, q) => {
    const lx = labelW + (q % 3) * 200;
    const ly = 10 + Math.floor(q / 3) * 16;
    s += marker(SHAPES[q % SHAPES.length]!, lx + 5, ly + 4, 4.5, PALETTE[q % PALETTE.length]!, `series-${q}`) + textEl(lx + 14, ly + 8, truncate(se.name, 26), 'font-size="11"');
  });
  const yB = top + o.rowLabels.length * rowH;
  s += `<rect x="${labelW}" y="${top}" width="${edge}" height="${yB - top}" fill="#f3f3f3" class="gutter"/>`;
  s += `<rect x="${px0 + plotW}" y="${top}" width="${edge}" height="${yB - top}" fill="#f3f3f3" class="gutter"/>`;
  s += textEl(labelW + edge / 2, top - 4, '−∞', 'text-anchor="middle" font-weight="bold"');
  s += textEl(px0 + plotW + edge / 2, top - 4, '+∞', 'text-anchor="middle" font-weight="bold"');
  s += axis(px0, px0 + plotW, top, yB, lo, hi, (v) => `${+v.toFixed(1)}`);
  o.rowLabels.forEach((l, i) => {
    const y = top + i * rowH;
    s += textEl(labelW - 6, y + rowH / 2 + 4, truncate(l, 36), 'text-anchor="end"');
    s += `<line x1="${labelW}" x2="${px0 + plotW + edge}" y1="${y + rowH}" y2="${y + rowH}" stroke="#eee" class="rowline"/>`;
    o.series.forEach((se, q) => {
      const v = se.values?.[i];
      if (v === undefined || v === null) return;
      const cy = y + 4 + ((q + 0.5) * (rowH - 8)) / nS;
      const cx = v === '+inf' ? px0 + plotW + edge / 2 : v === '-inf' ? labelW + edge / 2 : sx(v);
      const shown = typeof v === 'number' ? fmt(v, 3) : v === '+inf' ? '+∞' : '−∞';
      s += `<g class="dot">${marker(SHAPES[q % SHAPES.length]!, cx, cy, 3.5, PALETTE[q % PALETTE.length]!, `series-${q}`)}<title>${x(`${se.name}, ${l}: w* = ${shown}`)}</title></g>`;
    });
  });
  return { id: o.id, title: o.title, desc: o.desc, svg: s + '</svg>', table: o.table };
}

/** One section of the report, format-neutral: a heading, short explanations, charts (each with its table) and plain tables. */
export interface Section {
  id: string;
  heading: string;
  /** Plain-text paragraphs (escaped by the renderer). */
  text: string[];
  charts: Chart[];
  tables: TableSpec[];
}
