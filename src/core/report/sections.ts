// The report's sections, format-neutral: headings, short explanations, charts (each with its table) and
// plain tables. html.ts, markdown.ts and the dashboard render this same list.

import { barChart, fmt, heatmap, intervalChart, stackedBars, wstarDotPlot, type Chart, type Section, type TableSpec } from './charts';
import { consistencySections } from './consistency';
import type { AgreementJson, AnnotatorResult, BootJson, WStarValue } from '../metrics/analyze';
import type { ReportModel } from './model';

const pct = (v: number | null | undefined) => fmt(v, 1);
const wFmt = (v: WStarValue | undefined) => (v === '+inf' ? '+inf' : v === '-inf' ? '-inf' : typeof v === 'number' ? fmt(v, 3) : '—');
const interval = (b: BootJson | null | undefined) => (b && b.lo !== null && b.hi !== null ? `[${fmt(b.lo)}, ${fmt(b.hi)}]` : '—');
const label = (p: { id: string; short: string }) => p.short || p.id;

function annotatorLabel(a: AnnotatorResult, model: ReportModel): string {
  return a.name === model.reference ? `${a.name} (reference)` : a.name;
}

export function categorySection(model: ReportModel): Section {
  const c = model.metrics.categories;
  const share = (k: 'consensus' | 'conflict' | 'indifference') => c.pct[k];
  const se = (k: 'consensus' | 'conflict' | 'indifference') => c.se_pct[k];
  const kinds = ['consensus', 'conflict', 'indifference'] as const;
  const colors = { consensus: '#2ca02c', conflict: '#d62728', indifference: '#7f7f7f' };
  const table: TableSpec = {
    caption: 'Pair categories: counts, shares and standard errors',
    head: ['Category', 'Pairs', 'Share (%)', 'SE (%)'],
    rows: kinds.map((k) => [k, String(c[k]), pct(share(k)), pct(se(k))]).concat([['all', String(c.n), '100.0', '—']]),
    numeric: [1, 2, 3],
  };
  const chart = barChart({
    id: 'categories', unit: '%',
    title: 'Pair categories (consensus / conflict / indifference)',
    desc: `Share of the ${c.n} pairs in each category with ±1 standard error: ${kinds.map((k) => `${k} ${pct(share(k))}% (SE ${pct(se(k))})`).join(', ')}.`,
    items: kinds.map((k) => ({ label: k, value: share(k), err: se(k), color: colors[k] })),
    table,
  });
  const pooled = c.pooled_over?.length ? ` Pooled over the principle labels of: ${c.pooled_over.join(', ')}.` : '';
  return {
    id: 'categories', heading: 'Pair categories',
    text: [`Consensus: every principle that takes a side favours the same response. Conflict: principles disagree. Indifference: no principle takes a side.${pooled}`],
    charts: [chart], tables: [],
  };
}

export function labelShareSection(model: ReportModel): Section | null {
  const shares = model.labelShares;
  if (!shares) return null;
  const rowsT = shares.map((s) => {
    const n = s.y1 + s.y0 + s.none;
    const p = (v: number) => (n > 0 ? fmt((100 * v) / n, 1) : '—');
    return [s.short || s.id, String(s.y1), p(s.y1), String(s.y0), p(s.y0), String(s.none), p(s.none)];
  });
  const table: TableSpec = {
    caption: 'Principle-specific preferences per principle',
    head: ['Principle', 'Favours y1', '%', 'Favours y0', '%', 'Indifferent', '%'],
    rows: rowsT, numeric: [1, 2, 3, 4, 5, 6],
  };
  return {
    id: 'label-shares', heading: 'Principle labels',
    text: ['How often each principle favours y1, favours y0, or takes no side, under the principle source of this report.'],
    charts: [stackedBars({
      id: 'label-shares', title: 'Principle-specific preferences per principle',
      desc: `Stacked shares for ${shares.length} principles: favours y1, favours y0, indifferent. The table below lists the counts.`,
      series: [{ name: 'favours y1', color: '#1f77b4', cls: 's-y1' }, { name: 'favours y0', color: '#ff7f0e', cls: 's-y0' }, { name: 'indifferent', color: '#c7c7c7', cls: 's-none' }],
      rows: shares.map((s) => ({ label: s.short || s.id, values: [s.y1, s.y0, s.none] })),
      table,
    })],
    tables: [],
  };
}

export function daSection(model: ReportModel): Section {
  const as = model.metrics.annotators;
  const table: TableSpec = {
    caption: 'Discretion arbitrariness (DA) per annotator',
    head: ['Annotator', 'Kind', 'DA', 'Decisive consensus pairs', 'Bootstrap mean', 'Bootstrap SD', '95% interval', 'Note'],
    rows: as.map((a) => [annotatorLabel(a, model), a.kind, fmt(a.da), String(a.da_n), fmt(a.da_boot?.mean), fmt(a.da_boot?.sd), interval(a.da_boot), a.da_reason ?? '']),
    numeric: [2, 3, 4, 5],
  };
  return {
    id: 'da', heading: 'Discretion arbitrariness (DA)',
    text: ['The share of decisive consensus pairs on which the annotator overrides every principle that took a side. Whiskers: bootstrap 95% percentile interval over the consensus pairs.'],
    charts: [intervalChart({
      id: 'da', title: 'Discretion arbitrariness per annotator', domain: [0, 1],
      desc: `DA point estimates with bootstrap intervals: ${as.map((a) => `${a.name} ${fmt(a.da)}`).join(', ')}.`,
      rows: as.map((a) => ({ label: annotatorLabel(a, model), value: a.da, lo: a.da_boot?.lo ?? null, hi: a.da_boot?.hi ?? null, note: a.da_reason ?? undefined, highlight: a.name === model.reference })),
      table,
    })],
    tables: [],
  };
}

export function psSection(model: ReportModel, annotator = model.psAnnotator): Section {
  const a = model.metrics.annotators.find((q) => q.name === annotator);
  const labels = model.principles.map(label);
  const text = ['PS(row > column): the share of the conflicts between two principles that the annotator resolved in favour of the row principle; n = the number of such conflicts (n_ij). Grey: no conflict.'];
  if (!a || !a.ps || !a.n_conflicts) {
    return { id: 'ps', heading: `Principle supremacy: ${annotator}`, text: [...text, `Not available for ${annotator}${a?.da_reason ? `: ${a.da_reason}` : ''}.`], charts: [], tables: [] };
  }
  const table: TableSpec = {
    caption: `Principle supremacy PS(row > column) for ${annotator}, with the conflict count n_ij`,
    head: ['Row principle', ...labels],
    rows: labels.map((l, i) => [l, ...labels.map((_, j) => (i === j ? '' : a.ps![i]![j] === null ? `— (n=${a.n_conflicts![i]![j] ?? 0})` : `${fmt(a.ps![i]![j], 2)} (n=${a.n_conflicts![i]![j] ?? 0})`))]),
  };
  let conflicts = 0;
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) conflicts += a.n_conflicts[i]![j] ?? 0;
  return {
    id: 'ps', heading: `Principle supremacy: ${annotator}`, text,
    charts: [heatmap({
      id: 'ps', title: `Principle supremacy heat map for ${annotator}`,
      desc: `${labels.length} x ${labels.length} matrix of PS(row > column) with conflict counts; ${conflicts} principle conflicts in total.`,
      labels, values: a.ps, counts: a.n_conflicts, table,
    })],
    tables: [],
  };
}

export function wstarSection(model: ReportModel): Section {
  const as = model.metrics.annotators;
  const labels = model.principles.map(label);
  const table: TableSpec = {
    caption: 'Principle priority w* per annotator (centred; +inf: never loses a conflict, -inf: never wins one)',
    head: ['Principle', ...as.map((a) => a.name)],
    rows: labels.map((l, i) => [l, ...as.map((a) => (a.w_star ? `${wFmt(a.w_star[i])}${a.rank?.[i] != null ? ` (rank ${fmt(a.rank[i], 1)})` : ''}` : '—'))]),
  };
  const notes = as.filter((a) => a.w_status && a.w_status !== 'ok').map((a) => `${a.name}: w* ${a.w_status}${a.diagnostics?.length ? ` (${a.diagnostics.join('; ')})` : ''}`);
  return {
    id: 'wstar', heading: 'Principle priorities (w*)',
    text: ['Bradley-Terry priorities fitted to each annotator\'s conflict resolutions (higher wins more conflicts). Infinite values are drawn in the −∞ / +∞ gutters.', ...notes],
    charts: [wstarDotPlot({
      id: 'wstar', title: 'Principle priorities w* per annotator',
      desc: `Dot plot of w* for ${labels.length} principles and ${as.length} annotators; infinite priorities are placed at the left (−∞) and right (+∞) edges.`,
      rowLabels: labels, series: as.map((a) => ({ name: a.name, values: a.w_star })), table,
    })],
    tables: [],
  };
}

export function ddSection(model: ReportModel): Section {
  const as = model.metrics.annotators;
  const table: TableSpec = {
    caption: `Discretion discrepancy (DD) against ${model.reference}`,
    head: ['Annotator', 'Kind', 'DD (point)', 'Bootstrap mean', 'Bootstrap SD', '95% interval', 'Note'],
    rows: as.map((a) => [annotatorLabel(a, model), a.kind, fmt(a.dd_point), fmt(a.dd_boot?.mean), fmt(a.dd_boot?.sd), interval(a.dd_boot), a.dd_reason ?? '']),
    numeric: [2, 3, 4],
  };
  return {
    id: 'dd', heading: `Discretion discrepancy (DD) against ${model.reference}`,
    text: ['DD = (1 − Kendall τ_b) / 2 between the annotator\'s principle ranking and the reference\'s: 0 = the same priorities, 1 = reversed. Point: published convention (truncated ranks); whiskers: paired bootstrap 95% interval.'],
    charts: [intervalChart({
      id: 'dd', title: `Discretion discrepancy against ${model.reference}`, domain: [0, 1],
      desc: `DD point estimates with bootstrap intervals: ${as.map((a) => `${a.name} ${fmt(a.dd_point)}`).join(', ')}.`,
      rows: as.map((a) => ({ label: annotatorLabel(a, model), value: a.dd_point, lo: a.dd_boot?.lo ?? null, hi: a.dd_boot?.hi ?? null, note: a.dd_reason ?? undefined, highlight: a.name === model.reference })),
      table,
    })],
    tables: [],
  };
}

function statRows(b: AgreementJson): string[][] {
  return ([['Percent agreement', b.percent_agreement], ["Fleiss' kappa", b.fleiss_kappa], ["Krippendorff's alpha (nominal)", b.krippendorff_alpha]] as const)
    .map(([n, s]) => [n, fmt(s.value), interval(s.boot), String(s.n_items)]);
}

export function agreementSection(model: ReportModel): Section {
  const ag = model.metrics.agreement;
  const charts: Chart[] = [];
  const tables: TableSpec[] = [];
  const text = ['Agreement among the annotators (standard statistics, not from the paper), with bootstrap 95% intervals over items.'];
  if (ag?.overall) {
    const o = ag.overall;
    const table: TableSpec = { caption: `Agreement of the overall preferences (${o.raters.length} annotators)`, head: ['Statistic', 'Value', '95% interval', 'Items'], rows: statRows(o), numeric: [1, 3] };
    charts.push(intervalChart({
      id: 'agreement-overall', title: 'Agreement of the overall preferences', domain: [0, 1],
      desc: `Percent agreement ${fmt(o.percent_agreement.value)}, Fleiss' kappa ${fmt(o.fleiss_kappa.value)}, Krippendorff's alpha ${fmt(o.krippendorff_alpha.value)}.`,
      rows: [['Percent agreement', o.percent_agreement], ["Fleiss' kappa", o.fleiss_kappa], ["Krippendorff's alpha", o.krippendorff_alpha]].map(([n, s]) => {
        const st = s as AgreementJson['fleiss_kappa'];
        return { label: n as string, value: st.value, lo: st.boot?.lo ?? null, hi: st.boot?.hi ?? null };
      }),
      table,
    }));
    if (o.cohen_kappa.length > 0) {
      tables.push({ caption: "Cohen's kappa for each pair of annotators", head: ['Annotator A', 'Annotator B', 'Kappa', '95% interval', 'Items'], rows: o.cohen_kappa.map((c) => [c.a, c.b, fmt(c.value), interval(c.boot), String(c.n_items)]), numeric: [2, 4] });
    }
  } else text.push('Overall agreement needs at least two annotators.');
  if (ag?.principles) {
    const p = ag.principles;
    tables.push({ caption: `Agreement of the principle labels, all principles pooled (${p.raters.join(', ')})`, head: ['Statistic', 'Value', '95% interval', 'Items'], rows: statRows(p), numeric: [1, 3] });
    const table: TableSpec = {
      caption: 'Agreement of the principle labels per principle',
      head: ['Principle', 'Percent agreement', "Fleiss' kappa", "Krippendorff's alpha", 'Alpha 95% interval', 'Items'],
      rows: p.per_principle.map((q) => [q.short || q.id, fmt(q.percent_agreement.value), fmt(q.fleiss_kappa.value), fmt(q.krippendorff_alpha.value), interval(q.krippendorff_alpha.boot), String(q.n_items)]),
      numeric: [1, 2, 3, 5],
    };
    charts.push(intervalChart({
      id: 'agreement-principles', title: "Krippendorff's alpha of the principle labels per principle", domain: [0, 1],
      desc: `Alpha per principle among ${p.raters.length} labellers with bootstrap intervals; pooled alpha ${fmt(p.krippendorff_alpha.value)}.`,
      rows: p.per_principle.map((q) => ({ label: q.short || q.id, value: q.krippendorff_alpha.value, lo: q.krippendorff_alpha.boot?.lo ?? null, hi: q.krippendorff_alpha.boot?.hi ?? null })),
      table,
    }));
  } else text.push('Agreement of principle labels needs at least two annotators with principle labels of their own.');
  return { id: 'agreement', heading: 'Agreement', text, charts, tables };
}

/** The per-group views (annotators set-group): pooled DA, pooled w* and DD between groups; null without groups. */
export function groupSection(model: ReportModel): Section | null {
  const g = model.metrics.groups;
  if (!g || g.views.length === 0) return null;
  const labels = model.principles.map(label);
  const v = g.views;
  const daTable: TableSpec = {
    caption: 'Discretion arbitrariness of each group\'s pooled labels',
    head: ['Group', 'Members', 'DA', 'Decisive consensus labels', 'Overrides', 'Note'],
    rows: v.map((x) => [x.group, x.members.join(', '), fmt(x.da), String(x.da_n), String(x.da_disagree), x.da_reason ?? '']),
    numeric: [2, 3, 4],
  };
  const tables: TableSpec[] = [{
    caption: 'Principle priority w* of each group\'s pooled labels (centred; rank in brackets)',
    head: ['Group', ...labels, 'Status'],
    rows: v.map((x) => [x.group, ...labels.map((_, i) => (x.w_star ? `${wFmt(x.w_star[i])} (${fmt(x.rank?.[i] ?? null, 1)})` : '—')), x.w_status]),
  }];
  if (v.length >= 2) {
    tables.push({
      caption: 'Discretion discrepancy between groups, DD(row, column) on the pooled w* (point estimate, truncated ranks)',
      head: ['Group', ...g.dd.groups],
      rows: g.dd.groups.map((name, i) => [name, ...g.dd.matrix[i]!.map((d) => fmt(d))]),
      numeric: g.dd.groups.map((_, i) => i + 1),
    });
  }
  return {
    id: 'groups', heading: 'Annotator groups',
    text: ['Each group\'s members\' labels pooled: DA counts every member\'s decisive consensus labels together, w* is fitted on the members\' conflict wins summed, and DD compares two groups\' pooled priorities. A pair two members labelled counts twice.',
      ...v.flatMap((x) => x.diagnostics.map((d) => `${x.group}: ${d}`))],
    charts: [intervalChart({
      id: 'groups-da', title: 'Discretion arbitrariness per annotator group (pooled labels)', domain: [0, 1],
      desc: `Pooled DA per group: ${v.map((x) => `${x.group} ${fmt(x.da)}`).join(', ')}.`,
      rows: v.map((x) => ({ label: x.group, value: x.da, lo: null, hi: null, note: x.da_reason ?? undefined })),
      table: daTable,
    })],
    tables,
  };
}

export function provenanceTable(model: ReportModel): TableSpec {
  const p = model.provenance;
  const src = p.principle_source;
  const rows: string[][] = [
    ['Tool', `${p.tool.name} ${p.tool.version}`],
    ['Created', p.created],
    ['Dataset', `${p.dataset.name} (${p.dataset.n_pairs} pairs)`],
    ['Dataset content hash', p.dataset.content_hash ?? '—'],
    ['Principle list', `${p.principle_list.name}${p.principle_list.version != null ? `@${p.principle_list.version}` : ''} (${model.principles.length} principles)`],
    ['Principle list hash', p.principle_list.content_hash ?? '—'],
    ['Principle source', `${src.kind}${src.name ? `: ${src.name}` : ''}${src.annotators ? `: ${src.annotators.join(', ')}` : ''}`],
    ['Reference annotator', p.reference],
    ['Bootstrap', `seed ${p.bootstrap.seed}; DD ${p.bootstrap.dd_resamples} resamples; DA ${p.bootstrap.da_resamples} resamples${p.bootstrap.agreement_resamples != null ? `; agreement ${p.bootstrap.agreement_resamples} resamples` : ''}`],
    ['Metric run', p.metric_run != null ? `#${p.metric_run}${p.metrics_created ? ` (${p.metrics_created})` : ''}` : 'computed for this report'],
  ];
  for (const a of p.annotators) rows.push([`Annotator ${a.name}`, `${a.kind}${a.source_file ? `; ${a.source_file}` : ''}${a.file_sha256 ? `; sha256 ${a.file_sha256}` : ''}`]);
  return { caption: 'Provenance', head: ['Item', 'Value'], rows };
}

export function summaryLines(model: ReportModel): string[] {
  const c = model.metrics.categories;
  const as = model.metrics.annotators;
  const p = (k: 'consensus' | 'conflict' | 'indifference') => fmt(c.pct[k], 1);
  const da = as.filter((a) => a.da !== null).sort((a, b) => b.da! - a.da!);
  const dd = as.filter((a) => a.dd_point !== null && a.name !== model.reference).sort((a, b) => b.dd_point! - a.dd_point!);
  const lines = [`${c.n} pairs: ${p('consensus')}% consensus, ${p('conflict')}% conflict, ${p('indifference')}% indifference.`];
  if (da.length) lines.push(`Highest DA: ${da[0]!.name} (${fmt(da[0]!.da)}); lowest: ${da[da.length - 1]!.name} (${fmt(da[da.length - 1]!.da)}).`);
  if (dd.length) lines.push(`Largest DD against ${model.reference}: ${dd[0]!.name} (${fmt(dd[0]!.dd_point)}).`);
  if (model.overrides) lines.push(`${model.overrides.totalPairs} pairs where at least one annotator overrode a consensus.`);
  return lines;
}

/** Every section of the report, in order (the override list is rendered by each format itself). */
export function reportSections(model: ReportModel, opts: { psAnnotator?: string } = {}): Section[] {
  const out: Section[] = [categorySection(model)];
  const ls = labelShareSection(model);
  if (ls) out.push(ls);
  out.push(daSection(model), psSection(model, opts.psAnnotator), wstarSection(model), ddSection(model), agreementSection(model));
  const groups = groupSection(model);
  if (groups) out.push(groups);
  if (model.consistency) out.push(...consistencySections(model.consistency));
  const diag = [...(model.metrics.diagnostics ?? []), ...model.metrics.annotators.flatMap((a) => (a.diagnostics ?? []).map((d) => `${a.name}: ${d}`))];
  if (diag.length) out.push({ id: 'diagnostics', heading: 'Diagnostics', text: diag, charts: [], tables: [] });
  return out;
}

export function overrideTable(model: ReportModel): TableSpec | null {
  const o = model.overrides;
  if (!o) return null;
  return {
    caption: 'Consensus overrides per annotator',
    head: ['Annotator', 'Pairs where it overrode the consensus'],
    rows: o.perAnnotator.map((a) => [a.name, String(a.pairs)]),
    numeric: [1],
  };
}
