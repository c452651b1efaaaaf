// report.html: one self-contained, offline, script-free file. Inline SVG charts, one <style> block allowed by
// the file's own CSP (its sha256 hash, no 'unsafe-inline'), the metrics as an inert JSON data block.

import type { TableSpec } from './charts';
import { escapeHtml as h, jsonForScript } from './escape';
import { REPORT_SCHEMA_ID, toMetricsJson } from './json';
import type { OverridePair, ReportModel } from './model';
import type { Section } from './charts';
import { overrideTable, provenanceTable, reportSections, summaryLines } from './sections';

export const REPORT_CSS = `
:root { color-scheme: light; --ink: #222; --muted: #555; --line: #ddd; --bg: #fff; --panel: #f6f6f6; --accent: #1f5fa8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; font: 14px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 1.6em; margin: 0 0 .3em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .4em; padding-bottom: .2em; border-bottom: 1px solid var(--line); }
.summary { background: var(--panel); padding: 10px 14px; border-radius: 6px; }
.summary p { margin: .2em 0; }
figure { margin: 12px 0; overflow-x: auto; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg.chart { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12.5px; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 3px 7px; vertical-align: top; text-align: left; }
th { background: var(--panel); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details.table { margin: 0 0 12px; }
details.table > summary { cursor: pointer; color: var(--accent); }
.table-wrap { overflow-x: auto; }
.pair { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 10px 0; break-inside: avoid; }
.pair h3 { font-size: 1em; margin: 0 0 4px; }
.pair .who { color: var(--muted); }
.pair pre { white-space: pre-wrap; word-break: break-word; margin: 2px 0 6px; font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--panel); padding: 6px; border-radius: 4px; }
.muted { color: var(--muted); }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (prefers-color-scheme: dark) {
  :root { color-scheme: dark; --ink: #e6e6e6; --muted: #aaa; --line: #444; --bg: #1e1e1e; --panel: #2a2a2a; --accent: #6ab0ff; }
  svg.chart .bg { fill: #fff; }
}
@media print {
  :root { --ink: #000; --bg: #fff; --panel: #f2f2f2; }
  body { max-width: none; padding: 0; font-size: 11px; }
  details.table > summary { display: none; }
  details.table > *:not(summary) { display: block; }
  figure, table, .pair { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  nav { display: none; }
}
`;

export type RenderMode = 'file' | 'dashboard';

export function renderTable(t: TableSpec, attrs = ''): string {
  const num = new Set(t.numeric ?? []);
  let s = `<div class="table-wrap"><table${attrs ? ' ' + attrs : ''}><caption>${h(t.caption)}</caption><thead><tr>`;
  s += t.head.map((c) => `<th scope="col">${h(c)}</th>`).join('') + '</tr></thead><tbody>';
  for (const r of t.rows) {
    s +=
      '<tr>' +
      r
        .map((c, i) =>
          i === 0 ? `<th scope="row">${h(c)}</th>` : `<td${num.has(i) ? ' class="num"' : ''}>${h(c)}</td>`,
        )
        .join('') +
      '</tr>';
  }
  return s + '</tbody></table></div>';
}

function renderSection(s: Section): string {
  let out = `<section id="sec-${h(s.id)}" aria-labelledby="h-${h(s.id)}"><h2 id="h-${h(s.id)}">${h(s.heading)}</h2>`;
  for (const p of s.text) out += `<p>${h(p)}</p>`;
  for (const c of s.charts) {
    out += `<figure id="fig-${h(c.id)}"><figcaption>${h(c.title)}</figcaption>${c.svg}`;
    out += `<details class="table" open=""><summary>Table: ${h(c.table.caption)}</summary>${renderTable(c.table, `data-chart-table="${h(c.id)}"`)}</details></figure>`;
  }
  for (const t of s.tables) out += renderTable(t);
  return out + '</section>';
}

function renderPair(p: OverridePair, mode: RenderMode): string {
  const who = p.overriders.map((o) => `${o.name} (consensus favoured ${o.consensus > 0 ? 'y1' : 'y0'})`).join(', ');
  let s = `<article class="pair" data-pair="${p.pairIdx}"><h3>Pair ${p.pairIdx} <span class="muted">source id ${h(p.sourceId)}</span></h3>`;
  s += `<p class="who">Overrode the consensus: ${h(who)}</p>`;
  s += `<p class="who">Principles that took a side: ${h(p.principles.join(', ') || '—')}</p>`;
  if (p.prompt !== null) s += `<div>Prompt (end)</div><pre>${h(p.prompt)}</pre>`;
  if (p.y0 !== null) s += `<div>Response y0</div><pre>${h(p.y0)}</pre>`;
  if (p.y1 !== null) s += `<div>Response y1</div><pre>${h(p.y1)}</pre>`;
  // Links back to the workbench exist only inside the extension; a file never carries command: links.
  if (mode === 'dashboard')
    s += `<button type="button" class="open-pair" data-pair="${p.pairIdx}">Open pair ${p.pairIdx} in the workbench</button>`;
  return s + '</article>';
}

export function renderOverrides(model: ReportModel, mode: RenderMode): string {
  const o = model.overrides;
  let s = `<section id="sec-overrides" aria-labelledby="h-overrides"><h2 id="h-overrides">Pairs where annotators overrode a consensus</h2>`;
  if (!o) return s + '<p>Per-pair data was not available for this report.</p></section>';
  s += `<p>${h(`${o.totalPairs} pairs where at least one annotator chose against a consensus of the principles. The ${Math.min(o.limit, o.listed.length)} with the most overriding annotators are listed; texts are truncated. The per-pair CSV lists every pair.`)}</p>`;
  const t = overrideTable(model);
  if (t) s += renderTable(t);
  for (const p of o.listed) s += renderPair(p, mode);
  return s + '</section>';
}

/** The report's content (everything inside <body> except the data block), shared by the file and the dashboard. */
export function renderReportBody(model: ReportModel, opts: { mode: RenderMode; psAnnotator?: string }): string {
  const sections = reportSections(model, { psAnnotator: opts.psAnnotator });
  let s = `<header><h1>${h(model.title)}</h1><div class="summary">${summaryLines(model)
    .map((l) => `<p>${h(l)}</p>`)
    .join('')}</div></header>`;
  s += `<nav aria-label="Sections"><p>${[
    ...sections.map((x) => [x.id, x.heading]),
    ['overrides', 'Consensus overrides'],
    ['provenance', 'Provenance'],
  ]
    .map(([id, t]) => `<a href="#sec-${h(id!)}">${h(t!)}</a>`)
    .join(' · ')}</p></nav>`;
  s += '<main>' + sections.map(renderSection).join('') + renderOverrides(model, opts.mode);
  s += `<section id="sec-provenance" aria-labelledby="h-provenance"><h2 id="h-provenance">Provenance</h2>${renderTable(provenanceTable(model))}</section></main>`;
  return s;
}

export interface HtmlOptions {
  /**
   * CSP hash source of a text ("'sha256-…'"). Core does no I/O or platform crypto: the caller passes one
   * (node:crypto in src/app/report.ts's nodeCspHash; WebCrypto's digest would serve a browser).
   */
  hash: (text: string) => string;
  psAnnotator?: string;
}

/** The complete report.html. */
export function renderHtml(model: ReportModel, opts: HtmlOptions): string {
  const { hash } = opts;
  const css = REPORT_CSS;
  const csp = `default-src 'none'; style-src ${hash(css)}; img-src data:; base-uri 'none'; form-action 'none'`;
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="${h(csp)}">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<meta name="generator" content="${h(`${model.provenance.tool.name} ${model.provenance.tool.version}`)}">` +
    `<title>${h(model.title)}</title><style>${css}</style></head><body>` +
    renderReportBody(model, { mode: 'file', psAnnotator: opts.psAnnotator }) +
    `<footer>${h(`Generated by ${model.provenance.tool.name} ${model.provenance.tool.version} on ${model.provenance.created}. Metrics follow Buyl et al., "AI Alignment at Your Discretion" (FAccT 2025). The metrics are embedded below as JSON (schema ${REPORT_SCHEMA_ID}).`)}</footer>` +
    `<script type="application/json" id="discretion-metrics">${jsonForScript(toMetricsJson(model))}</script>` +
    '</body></html>\n'
  );
}
