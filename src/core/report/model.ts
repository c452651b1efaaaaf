// The report model: everything a discretion report shows, built from the metrics document (issue 3, item 8),
// its provenance, and the per-pair preferences (for label shares, the override list and the per-pair CSV).
// Pure: no I/O. The renderers (html.ts, markdown.ts, json.ts, csv.ts) and the dashboard all read this model.
// The metrics document is the engine's own result type (DiscretionResult), as analyzeDiscretion returns it
// and as `discretion metrics --json` and a stored metric run hold it.

import { categorizePairs } from '../metrics/categories';
import type { DiscretionResult } from '../metrics/analyze';
import { truncate } from './escape';
import type { ConsistencyReport } from './consistency';

export interface ReportProvenance {
  tool: { name: string; version: string };
  /** ISO 8601 creation time of the report. */
  created: string;
  dataset: { name: string; content_hash: string | null; n_pairs: number };
  principle_list: { name: string; version: number | null; content_hash: string | null };
  principle_source: { kind: string; name?: string; annotators?: string[] };
  reference: string;
  /** Every annotator in the analysis, with the file its judgments came from and that file's SHA-256. */
  /** `group`: the annotator's group when the run was made (absent in runs stored before groups). */
  annotators: {
    name: string;
    kind: string;
    group?: string | null;
    source_file: string | null;
    file_sha256: string | null;
  }[];
  bootstrap: { seed: number; dd_resamples: number; da_resamples: number; agreement_resamples: number | null };
  /** Stored metric run the report was made from (null when computed for this report only). */
  metric_run: number | null;
  metrics_created?: string | null;
}

/** Principle-specific preferences of one principle source: nPairs x m, row-major, +1 / -1 / 0. */
export interface PrincipleMatrix {
  label: string;
  matrix: Int8Array;
}

/** The per-pair data behind the CSV, the label shares and the override list (annotators in metrics order). */
export interface PairData {
  nPairs: number;
  annotators: { name: string; overall: Int8Array }[];
  /** One matrix (oracle, majority) or one per labelling annotator (source 'self'). */
  sources: PrincipleMatrix[];
  /** For each annotator, the index into `sources` of its principle source, or -1 when it has none. */
  annotatorSource: number[];
  /** Source id of every pair (the dataset's own id or line), by array position. */
  sourceIds?: readonly string[];
  /** The pair index of each array position; default: the position itself. */
  pairIdxs?: readonly number[];
}

export interface PairText {
  sourceId: string;
  prompt: string;
  y0: string;
  y1: string;
}

export interface OverridePair {
  /** The pair's index in its dataset. */
  pairIdx: number;
  sourceId: string;
  /** Annotators that overrode the consensus on this pair, with the consensus sign they overrode. */
  overriders: { name: string; consensus: 1 | -1 }[];
  /** Short labels of the principles that took a side (under the first overrider's source). */
  principles: string[];
  /** Truncated texts (prompt: its end; responses: their start); null when texts were not supplied. */
  prompt: string | null;
  y0: string | null;
  y1: string | null;
}

export interface LabelShare {
  id: string;
  short: string;
  y1: number;
  y0: number;
  none: number;
}

export interface ReportModel {
  version: 1;
  title: string;
  provenance: ReportProvenance;
  metrics: DiscretionResult;
  principles: { id: string; short: string; text?: string }[];
  reference: string;
  /** Annotator whose principle-supremacy heat map is shown. */
  psAnnotator: string;
  labelShares: LabelShare[] | null;
  /** The dataset's latest stored consistency run (`discretion consistency`), when there is one. */
  consistency?: ConsistencyReport | null;
  overrides: {
    /** Pairs where at least one annotator overrode the consensus. */
    totalPairs: number;
    perAnnotator: { name: string; pairs: number }[];
    listed: OverridePair[];
    limit: number;
  } | null;
}

/** For every pair, which annotators overrode the consensus of their principle source (a != 0 and a != s_k). */
export function findOverrides(
  data: PairData,
  m: number,
): { byPair: Map<number, { name: string; consensus: 1 | -1 }[]>; perAnnotator: number[] } {
  const byPair = new Map<number, { name: string; consensus: 1 | -1 }[]>();
  const perAnnotator = data.annotators.map(() => 0);
  const cache = new Map<number, Int8Array>(); // per source: consensus sign per pair (0 = not consensus)
  const signs = (s: number): Int8Array => {
    let out = cache.get(s);
    if (!out) {
      out = categorizePairs(data.sources[s]!.matrix, data.nPairs, m).sign;
      cache.set(s, out);
    }
    return out;
  };
  data.annotators.forEach((a, q) => {
    const s = data.annotatorSource[q] ?? -1;
    if (s < 0) return;
    const sg = signs(s);
    for (let k = 0; k < data.nPairs; k++) {
      const c = sg[k]!;
      const v = a.overall[k]!;
      if (c !== 0 && v !== 0 && v !== c) {
        perAnnotator[q]!++;
        let list = byPair.get(k);
        if (!list) byPair.set(k, (list = []));
        list.push({ name: a.name, consensus: c as 1 | -1 });
      }
    }
  });
  return { byPair, perAnnotator };
}

/** Array positions of the override pairs the report lists: most overriders first, then by position. */
export function overridePairIndices(data: PairData, m: number, limit: number): number[] {
  const { byPair } = findOverrides(data, m);
  return rankOverrides(byPair).slice(0, limit);
}

function rankOverrides(byPair: Map<number, unknown[]>): number[] {
  return [...byPair.keys()].sort((x, y) => byPair.get(y)!.length - byPair.get(x)!.length || x - y);
}

export const PROMPT_CHARS = 360;
export const RESPONSE_CHARS = 280;

export interface BuildReportInput {
  metrics: DiscretionResult;
  provenance: ReportProvenance;
  /** The principle list in order (short labels and full text). */
  principles: { id: string; short: string; text?: string }[];
  pairs?: PairData | null;
  /** Texts of (at least) the listed override pairs, by array position (see PairData.pairIdxs). */
  texts?: ReadonlyMap<number, PairText>;
  /** Annotator of the PS heat map; default the reference. */
  psAnnotator?: string;
  /** How many override pairs to list (default 25). */
  overrideLimit?: number;
  title?: string;
}

/** Builds the report model. Throws Error with a readable message on inconsistent input. */
export function buildReportModel(input: BuildReportInput): ReportModel {
  const { metrics, provenance, principles } = input;
  const m = principles.length;
  if (!metrics || !Array.isArray(metrics.annotators)) throw new Error('the metrics document has no annotators');
  const names = metrics.annotators.map((a) => a.name);
  const reference = provenance.reference || metrics.reference || names[0] || '';
  const psAnnotator = input.psAnnotator ?? reference;
  if (!names.includes(psAnnotator))
    throw new Error(`annotator '${psAnnotator}' (heat map) is not in the metrics (annotators: ${names.join(', ')})`);

  let labelShares: LabelShare[] | null = null;
  let overrides: ReportModel['overrides'] = null;
  const data = input.pairs;
  if (data) {
    for (const s of data.sources) {
      if (s.matrix.length !== data.nPairs * m)
        throw new Error(`principle source '${s.label}' has ${s.matrix.length} values, expected ${data.nPairs} x ${m}`);
    }
    for (const a of data.annotators)
      if (a.overall.length !== data.nPairs)
        throw new Error(`preferences of '${a.name}' have ${a.overall.length} values, expected ${data.nPairs}`);
    labelShares = principles.map((p) => ({ id: p.id, short: p.short, y1: 0, y0: 0, none: 0 }));
    for (const s of data.sources) {
      const mat = s.matrix;
      for (let k = 0; k < data.nPairs; k++) {
        for (let i = 0; i < m; i++) {
          const v = mat[k * m + i]!;
          const share = labelShares[i]!;
          if (v > 0) share.y1++;
          else if (v < 0) share.y0++;
          else share.none++;
        }
      }
    }
    const limit = input.overrideLimit ?? 25;
    const { byPair, perAnnotator } = findOverrides(data, m);
    const order = rankOverrides(byPair).slice(0, limit);
    const listed: OverridePair[] = order.map((k) => {
      const who = byPair.get(k)!;
      const q = data.annotators.findIndex((a) => a.name === who[0]!.name);
      const mat = data.sources[data.annotatorSource[q]!]!.matrix;
      const sided: string[] = [];
      for (let i = 0; i < m; i++) if (mat[k * m + i] !== 0) sided.push(principles[i]!.short || principles[i]!.id);
      const t = input.texts?.get(k);
      return {
        pairIdx: data.pairIdxs?.[k] ?? k,
        sourceId: t?.sourceId ?? data.sourceIds?.[k] ?? String(k),
        overriders: who,
        principles: sided,
        prompt: t ? truncate(t.prompt, PROMPT_CHARS, 'start') : null,
        y0: t ? truncate(t.y0, RESPONSE_CHARS, 'end') : null,
        y1: t ? truncate(t.y1, RESPONSE_CHARS, 'end') : null,
      };
    });
    overrides = {
      totalPairs: byPair.size,
      perAnnotator: data.annotators.map((a, q) => ({ name: a.name, pairs: perAnnotator[q]! })),
      listed,
      limit,
    };
  }

  return {
    version: 1,
    title: input.title ?? `Discretion report: ${provenance.dataset.name}`,
    provenance,
    metrics,
    principles: principles.map((p) => ({ id: p.id, short: p.short, text: p.text })),
    reference,
    psAnnotator,
    labelShares,
    overrides,
  };
}
