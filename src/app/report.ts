// Reports for both front ends (`discretion report`, the demo, the dashboard's export): prepares the report
// model for a stored metric run or for metrics computed now, and writes report.html, report.md
// (+ charts/*.svg), metrics.json and pairs.csv.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../core/errors';
import { majorityPrinciples } from '../core/metrics';
import {
  buildReportModel,
  overridePairIndices,
  renderHtml,
  renderMarkdown,
  renderMetricsJson,
  renderPairsCsv,
  type PairData,
  type PairText,
  type ReportModel,
  type ReportProvenance,
} from '../core/report';
import type { DiscretionResult } from '../core/metrics/analyze';
import { ensureFolder, fsReason } from './outputFiles';
import type { Store } from '../store';
import { computeMetrics, loadDiscretionInput, type AnalysisOptions, type LoadedAnalysis } from './analysis';
import { latestConsistencyReport } from './consistency';

export const REPORT_FORMATS = ['html', 'md', 'json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions extends Partial<AnalysisOptions> {
  run?: number;
  psAnnotator?: string;
  overrideLimit?: number;
  /** Report creation time (ISO); default now. */
  created?: string;
  /** Metrics already computed by the caller (skips computing and reloading the preferences). */
  computed?: { result: DiscretionResult; loaded: LoadedAnalysis; runId?: number };
}

export interface PreparedReport {
  model: ReportModel;
  pairs: PairData;
}

/** The CSP hash source of a text ("'sha256-<base64>'"), with node:crypto. */
export const nodeCspHash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

function pairDataFrom(loaded: LoadedAnalysis, metrics: DiscretionResult): PairData {
  const pd = pairDataFromInput(loaded, metrics);
  pd.pairIdxs = loaded.pairIdxs;
  return pd;
}

function pairDataFromInput(loaded: LoadedAnalysis, metrics: DiscretionResult): PairData {
  const { input } = loaded;
  const m = input.principles.length;
  const byName = new Map(input.annotators.map((a) => [a.name, a]));
  const annotators = metrics.annotators.map((a) => {
    const src = byName.get(a.name);
    if (!src)
      throw new UsageError(`annotator "${a.name}" of the metric run has no preferences on this dataset any more`);
    return src;
  });
  const ps = input.principleSource;
  if (ps.kind === 'oracle') {
    return {
      nPairs: input.nPairs,
      annotators: annotators.map((a) => ({ name: a.name, overall: a.overall })),
      sources: [{ label: ps.name, matrix: ps.matrix }],
      annotatorSource: annotators.map(() => 0),
    };
  }
  if (ps.kind === 'majority') {
    const mats = ps.annotators.map((n) => byName.get(n)?.principles).filter((x): x is Int8Array => !!x);
    const label = `majority(${ps.annotators.join(',')})`;
    return {
      nPairs: input.nPairs,
      annotators: annotators.map((a) => ({ name: a.name, overall: a.overall })),
      sources: [{ label, matrix: majorityPrinciples(mats, input.nPairs, m) }],
      annotatorSource: annotators.map(() => 0),
    };
  }
  const sources: PairData['sources'] = [];
  const annotatorSource = annotators.map((a) => {
    if (!a.principles) return -1;
    sources.push({ label: a.name, matrix: a.principles });
    return sources.length - 1;
  });
  return {
    nPairs: input.nPairs,
    annotators: annotators.map((a) => ({ name: a.name, overall: a.overall })),
    sources,
    annotatorSource,
  };
}

/** Source ids of all pairs (by array position) and the texts of the wanted positions only. */
async function loadTexts(
  store: Store,
  dataset: string,
  pairIdxs: readonly number[],
  wanted: Set<number>,
): Promise<{ sourceIds: string[]; texts: Map<number, PairText> }> {
  const ds = await store.requireDataset(dataset);
  const pos = new Map(pairIdxs.map((pairIdx, i) => [pairIdx, i]));
  const sourceIds: string[] = new Array(pairIdxs.length).fill('');
  for (const r of await store.pairSourceIds(ds.id)) {
    const p = pos.get(r.pairIdx);
    if (p !== undefined) sourceIds[p] = r.sourceId;
  }
  const texts = new Map<number, PairText>();
  const want = [...wanted].map((p) => pairIdxs[p]!).filter((x) => x !== undefined);
  for (const r of await store.pairsByIndex(ds.id, want))
    texts.set(pos.get(r.idx)!, { sourceId: r.sourceId, prompt: r.prompt, y0: r.y0, y1: r.y1 });
  return { sourceIds, texts };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const numOr = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
/** What a report needs named, in words (a stored metric run records all four). */
const REQUIRED_WORDS = {
  dataset: 'dataset',
  principles: 'principle list',
  principleSource: 'principle source',
  reference: 'reference annotator',
} as const;

/** Everything the renderers need, from a stored run or from metrics computed now. */
export async function prepareReport(store: Store, o: ReportOptions): Promise<PreparedReport> {
  let metrics: DiscretionResult;
  let loaded: LoadedAnalysis;
  let runId: number | null;
  let runCreated: string | null = null;
  let analysis: AnalysisOptions;
  if (o.computed) {
    metrics = o.computed.result;
    loaded = o.computed.loaded;
    runId = o.computed.runId ?? null;
    const req = loaded.provenance;
    analysis = {
      dataset: req.dataset.name,
      principles: req.principle_list.name,
      principleSource: '',
      reference: req.reference,
    };
  } else if (o.run !== undefined) {
    const run = await store.getMetricRun(o.run);
    const p = (run.params ?? {}) as Record<string, unknown>;
    const res = run.results as DiscretionResult;
    if (!res || !Array.isArray(res.annotators) || !res.categories)
      throw new UsageError(`metric run ${o.run} holds no metrics document`);
    const src = res.principle_source;
    const storedSource =
      src?.kind === 'oracle'
        ? src.name
        : src?.kind === 'majority'
          ? `majority:${(src.annotators ?? []).join(',')}`
          : src?.kind;
    analysis = {
      dataset: o.dataset ?? str(p.dataset) ?? run.datasetName ?? '',
      principles: o.principles ?? str(p.principles) ?? str(p.principleList) ?? '',
      principleSource: storedSource ?? o.principleSource ?? str(p.principleSource) ?? '',
      reference: res.reference ?? o.reference ?? str(p.reference) ?? '',
      bootstrap: numOr((res.options as Record<string, unknown> | undefined)?.bootstrap, 0),
      daBootstrap: numOr((res.options as Record<string, unknown> | undefined)?.da_bootstrap, 0),
      seed: numOr((res.options as Record<string, unknown> | undefined)?.seed, 0),
      annotators: res.annotators.map((a) => a.name),
    };
    for (const k of ['dataset', 'principles', 'principleSource', 'reference'] as const) {
      if (!analysis[k])
        throw new UsageError(`metric run ${o.run} does not record its ${REQUIRED_WORDS[k]}; give it`, k);
    }
    loaded = await loadDiscretionInput(store, analysis);
    metrics = res;
    runId = run.id;
    runCreated = run.createdAt;
  } else {
    for (const k of ['dataset', 'principles', 'principleSource', 'reference'] as const) {
      if (!o[k]) throw new UsageError(`the ${REQUIRED_WORDS[k]} is required (or a stored metric run)`, k);
    }
    analysis = {
      dataset: o.dataset!,
      principles: o.principles!,
      principleSource: o.principleSource!,
      reference: o.reference!,
      bootstrap: o.bootstrap,
      daBootstrap: o.daBootstrap,
      seed: o.seed,
    };
    const r = await computeMetrics(store, analysis);
    metrics = r.result;
    loaded = r.loaded;
    runId = r.runId ?? null;
  }
  const pairs = pairDataFrom(loaded, metrics);
  const limit = o.overrideLimit ?? 25;
  const m = loaded.principles.length;
  const { sourceIds, texts } = await loadTexts(
    store,
    analysis.dataset,
    loaded.pairIdxs,
    new Set(overridePairIndices(pairs, m, limit)),
  );
  pairs.sourceIds = sourceIds;
  const opt = (metrics.options ?? {}) as Record<string, unknown>;
  const provenance: ReportProvenance = {
    ...loaded.provenance,
    created: o.created ?? new Date().toISOString(),
    bootstrap: {
      seed: numOr(opt.seed, loaded.provenance.bootstrap.seed),
      dd_resamples: numOr(opt.bootstrap, loaded.provenance.bootstrap.dd_resamples),
      da_resamples: numOr(opt.da_bootstrap, loaded.provenance.bootstrap.da_resamples),
      agreement_resamples:
        typeof opt.agreement_bootstrap === 'number'
          ? opt.agreement_bootstrap
          : loaded.provenance.bootstrap.agreement_resamples,
    },
    metric_run: runId,
    metrics_created: runCreated,
  };
  if (o.psAnnotator && !metrics.annotators.some((a) => a.name === o.psAnnotator)) {
    throw new UsageError(
      `the annotator "${o.psAnnotator}" chosen for the principle-supremacy heat map is not in the analysis (annotators: ${metrics.annotators.map((a) => a.name).join(', ')})`,
      'psAnnotator',
    );
  }
  const model = buildReportModel({
    metrics,
    provenance,
    principles: loaded.principles,
    pairs,
    texts,
    psAnnotator: o.psAnnotator,
    overrideLimit: limit,
  });
  model.consistency = await latestConsistencyReport(store, analysis.dataset);
  return { model, pairs };
}

/** Writes the chosen formats into dir; returns the written paths. */
export function writeReport(dir: string, prepared: PreparedReport, formats: readonly ReportFormat[]): string[] {
  ensureFolder(dir, 'the report folder');
  const written: string[] = [];
  const put = (name: string, content: string) => {
    const path = join(dir, name);
    ensureFolder(dirname(path), 'the report folder');
    try {
      writeFileSync(path, content, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot write the report file ${path}: ${fsReason(e)}`);
    }
    written.push(path);
  };
  const { model, pairs } = prepared;
  if (formats.includes('html')) put('report.html', renderHtml(model, { hash: nodeCspHash }));
  if (formats.includes('md')) {
    const md = renderMarkdown(model);
    for (const f of md.files) put(f.path, f.content);
    put('report.md', md.markdown);
  }
  if (formats.includes('json')) put('metrics.json', renderMetricsJson(model));
  if (formats.includes('csv')) put('pairs.csv', renderPairsCsv(pairs, model.principles));
  return written;
}
