// The consistency suite over the store (CLI `consistency`, `ensemble`, `annotators set-group`, and the
// extension): store rows become the core's typed columns here, and results become stored runs.
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors';
import {
  CONSISTENCY_SCHEMA,
  ENSEMBLE_METHODS,
  emptyTwoOrderColumns,
  ensembleScores,
  runConsistency,
  type ConsistencyAnnotator,
  type ConsistencySections,
  type EnsembleMethod,
} from '../core/consistency';
import { MetricsInputError } from '../core/metrics/stats';
import type { ConsistencyReport } from '../core/report/consistency';
import type { OverallPreference } from '../core/types';
import type { AnnotatorRow, Store } from '../store';
import pkg from '../../package.json';

export const DEFAULT_EPSILONS = [0.05, 0.1, 0.25];
export const DEFAULT_DELTAS = [0.1, 0.25, 0.5];

export interface ConsistencyRequest {
  dataset: string;
  /** Default `human`; a named reference must exist. */
  reference?: string;
  models?: string[];
  epsilons?: number[];
  deltas?: number[];
  beta?: number;
  seed?: number;
}

export interface ConsistencyProvenance {
  tool: { name: string; version: string };
  dataset: { name: string; content_hash: string | null; n_pairs: number };
  annotators: { name: string; kind: string; group: string | null; file_sha256: string | null }[];
  params: {
    reference: string;
    models: string[] | null;
    epsilon: number[];
    delta: number[];
    beta: number;
    seed: number;
  };
}

export type ConsistencyDocument = Omit<ConsistencySections, 'schema'> & {
  schema: typeof CONSISTENCY_SCHEMA;
  dataset: string;
  run_id: number | null;
  provenance: ConsistencyProvenance;
};

export interface LoadedConsistency {
  datasetId: number;
  nPairs: number;
  annotators: ConsistencyAnnotator[];
  rows: AnnotatorRow[];
  contentHash: string | null;
  /** Position in the arrays -> pair index. */
  pairIdxs: number[];
}

interface JudgeOrder {
  pA: number | null;
  pB: number | null;
  pNA: number | null;
}

const shaOf = (buf: ArrayBufferView) =>
  createHash('sha256')
    .update(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength))
    .digest('hex');
const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);

/** Reads every annotator's preference rows on the dataset (with scores and judge probabilities) into columns. */
export async function loadConsistencyInput(store: Store, datasetName: string): Promise<LoadedConsistency> {
  const dataset = await store.requireDataset(datasetName);
  const pairRowIds = await store.pairRowIds(dataset.id);
  const pairIdxs = [...pairRowIds.keys()].sort((a, b) => a - b);
  const n = pairIdxs.length;
  if (n === 0) throw new UsageError(`dataset "${datasetName}" has no pairs`);
  const pos = new Map(pairIdxs.map((pairIdx, i) => [pairIdx, i]));
  const rows = await store.listAnnotators();
  const byId = new Map<number, ConsistencyAnnotator>();
  const column = (a: ConsistencyAnnotator, key: 'scoreY0' | 'scoreY1') => (a[key] ??= new Float64Array(n).fill(NaN));
  for (const r of await store.preferenceDetails(dataset.id)) {
    let a = byId.get(r.annotatorId);
    if (!a) {
      const row = rows.find((x) => x.id === r.annotatorId)!;
      a = {
        name: row.name,
        kind: row.kind,
        group: row.group,
        preference: new Int8Array(n),
        present: new Uint8Array(n),
      };
      byId.set(r.annotatorId, a);
    }
    const k = pos.get(r.pairIdx)!;
    a.preference[k] = r.value ?? 0;
    a.present[k] = 1;
    if (r.scoreY0 !== null && r.scoreY1 !== null) {
      column(a, 'scoreY0')[k] = r.scoreY0;
      column(a, 'scoreY1')[k] = r.scoreY1;
    }
    if (r.raw && (a.kind === 'llm-judge' || a.kind === 'policy-model')) {
      // LLM judges keep {order0, order1}; the policy-model import keeps the same file's judge answers as {judgeOrder0, judgeOrder1}.
      const raw = JSON.parse(r.raw) as Record<string, JudgeOrder | null | undefined>;
      const o0 = raw.order0 ?? raw.judgeOrder0;
      const o1 = raw.order1 ?? raw.judgeOrder1;
      const put = (o: JudgeOrder | null | undefined, which: 'order0' | 'order1') => {
        if (!o || o.pA === null || o.pB === null) return;
        const cols = (a!.twoOrder ??= emptyTwoOrderColumns(n));
        cols[which][3 * k] = num(o.pA);
        cols[which][3 * k + 1] = num(o.pB);
        cols[which][3 * k + 2] = o.pNA === null ? 0 : num(o.pNA);
      };
      put(o0, 'order0');
      put(o1, 'order1');
    }
  }
  // Annotators in store order (creation), so every section lists them the same way.
  const annotators = rows.filter((r) => byId.has(r.id)).map((r) => byId.get(r.id)!);
  return { datasetId: dataset.id, nPairs: n, annotators, rows, contentHash: dataset.contentHash, pairIdxs };
}

/** Computes the suite and, with `save`, stores it as a run (kind "consistency"). */
export async function computeConsistency(
  store: Store,
  req: ConsistencyRequest,
  options: { save?: boolean } = {},
): Promise<ConsistencyDocument> {
  const loaded = await loadConsistencyInput(store, req.dataset);
  const reference = req.reference ?? 'human';
  if (req.reference !== undefined && !loaded.annotators.some((a) => a.name === reference)) {
    await store.requireAnnotator(reference);
    throw new UsageError(`reference annotator "${reference}" has no preferences on dataset "${req.dataset}"`);
  }
  for (const m of req.models ?? []) await store.requireAnnotator(m);
  const params = {
    reference,
    models: req.models ?? null,
    epsilon: req.epsilons ?? DEFAULT_EPSILONS,
    delta: req.deltas ?? DEFAULT_DELTAS,
    beta: req.beta ?? 0.1,
    seed: req.seed ?? 0,
  };
  let sections: ConsistencySections;
  try {
    sections = runConsistency(loaded.nPairs, loaded.annotators, {
      reference,
      models: req.models,
      epsilons: params.epsilon,
      deltas: params.delta,
      beta: params.beta,
      seed: params.seed,
    });
  } catch (e) {
    if (e instanceof MetricsInputError) throw new UsageError(e.message);
    throw e;
  }
  const provenance: ConsistencyProvenance = {
    tool: { name: 'discretion-workbench', version: pkg.version },
    dataset: { name: req.dataset, content_hash: loaded.contentHash, n_pairs: loaded.nPairs },
    annotators: loaded.annotators.map((a) => {
      const prov = loaded.rows.find((r) => r.name === a.name)!.provenance ?? {};
      const file = (prov.modelSha256 ?? prov.fileSha256) as string | undefined;
      return { name: a.name, kind: a.kind, group: a.group, file_sha256: file ?? null };
    }),
    params,
  };
  const { schema, ...rest } = sections;
  const doc: ConsistencyDocument = { schema, dataset: req.dataset, ...rest, run_id: null, provenance };
  if (options.save) {
    const inputHashes = {
      dataset: loaded.contentHash,
      preferences: Object.fromEntries(loaded.annotators.map((a) => [a.name, shaOf(a.preference)])),
      groups: Object.fromEntries(loaded.annotators.map((a) => [a.name, a.group])),
    };
    const { run_id: _, ...results } = doc;
    doc.run_id = await store.saveMetricRun(
      loaded.datasetId,
      pkg.version,
      { kind: 'consistency', ...params, dataset: req.dataset, provenance },
      inputHashes,
      results,
    );
  }
  return doc;
}

/** A stored consistency run as its document; a discretion-metrics run is refused with a pointer. */
export async function storedConsistency(store: Store, runId: number): Promise<ConsistencyDocument> {
  const run = await store.getMetricRun(runId);
  if ((run.params as { kind?: string }).kind !== 'consistency')
    throw new UsageError(
      `run ${runId} is a discretion metrics run, not a consistency run; show it as a metrics run`,
      'metricsRun',
    );
  return { ...(run.results as Omit<ConsistencyDocument, 'run_id'>), run_id: run.id };
}

/** The dataset's latest stored consistency run, as a report shows it (without its provenance); null when none. */
export async function latestConsistencyReport(store: Store, dataset: string): Promise<ConsistencyReport | null> {
  const runs = (await store.listMetricRuns()).filter(
    (r) => r.datasetName === dataset && (r.params as { kind?: string }).kind === 'consistency',
  );
  if (runs.length === 0) return null;
  const { provenance: _, ...doc } = await storedConsistency(store, runs[runs.length - 1]!.id);
  return doc;
}

export interface EnsembleRequest {
  dataset: string;
  name: string;
  method: string;
  /** Uncertainty-weighted only; default 0.5. */
  lambda?: number;
  members: string[];
}

/** Creates a derived annotator (kind "ensemble") from scored members; the same request again is a no-op. */
export async function createEnsemble(
  store: Store,
  req: EnsembleRequest,
): Promise<{ created: boolean; name: string; pairs: number; decisive: number }> {
  if (!(ENSEMBLE_METHODS as readonly string[]).includes(req.method))
    throw new UsageError(
      `the ensemble method must be one of ${ENSEMBLE_METHODS.join(', ')}, not "${req.method}"`,
      'method',
    );
  const method = req.method as EnsembleMethod;
  if (req.lambda !== undefined && method !== 'uncertainty-weighted')
    throw new UsageError('lambda applies only to the method uncertainty-weighted', 'lambda');
  const lambda = method === 'uncertainty-weighted' ? (req.lambda ?? 0.5) : null;
  if (lambda !== null && !(lambda >= 0 && Number.isFinite(lambda)))
    throw new UsageError(`lambda must be a number >= 0, not ${req.lambda}`, 'lambda');
  const members = req.members;
  if (members.length < 2)
    throw new UsageError(`an ensemble needs at least two members, got ${members.length}`, 'members');
  if (new Set(members).size !== members.length)
    throw new UsageError(`the members name an annotator twice: ${members.join(', ')}`, 'members');
  if (members.includes(req.name)) throw new UsageError(`the ensemble "${req.name}" cannot be one of its own members`);
  for (const m of members) await store.requireAnnotator(m);

  const loaded = await loadConsistencyInput(store, req.dataset);
  const existing = await store.getAnnotator(req.name);
  const args = { dataset: req.dataset, members, method, lambda };
  if (existing) {
    const p = existing.provenance ?? {};
    const same =
      existing.kind === 'ensemble' &&
      JSON.stringify({ dataset: p.dataset, members: p.members, method: p.method, lambda: p.lambda }) ===
        JSON.stringify(args);
    if (!same) {
      throw new UsageError(
        existing.kind === 'ensemble'
          ? `ensemble "${req.name}" already exists with other arguments (dataset ${String(p.dataset)}, members ${(p.members as string[] | undefined)?.join(',')}, method ${String(p.method)}${p.lambda !== null && p.lambda !== undefined ? `, lambda ${String(p.lambda)}` : ''}); choose another name`
          : `annotator "${req.name}" already exists as a ${existing.kind}; choose another name`,
        'name',
      );
    }
    const a = loaded.annotators.find((x) => x.name === req.name);
    return {
      created: false,
      name: req.name,
      pairs: a ? a.present.reduce((s, v) => s + v, 0) : 0,
      decisive: a ? a.preference.reduce((s, v) => s + (v !== 0 ? 1 : 0), 0) : 0,
    };
  }
  const cols = members.map((m) => {
    const a = loaded.annotators.find((x) => x.name === m);
    if (!a || !a.scoreY0 || !a.scoreY1)
      throw new UsageError(
        `ensemble member "${m}" has no scores on dataset "${req.dataset}" (members must be reward models or other annotators with scalar scores)`,
      );
    return { name: m, y0: a.scoreY0, y1: a.scoreY1, present: a.present };
  });
  let e;
  try {
    e = ensembleScores(cols, method, lambda ?? 0.5);
  } catch (err) {
    if (err instanceof MetricsInputError) throw new UsageError(err.message);
    throw err;
  }
  const provenance = {
    ...args,
    source: `ensemble (${method}) of ${members.join(', ')}`,
    member_sha256: Object.fromEntries(
      cols.map((c) => [
        c.name,
        createHash('sha256').update(Buffer.from(c.y0.buffer)).update(Buffer.from(c.y1.buffer)).digest('hex'),
      ]),
    ),
    standardisation: e.standardisation,
    pairs: e.nPairs,
  };
  // A row on every pair some member has a row for; missing (null) where some member lacks a score or E ties.
  const prefs: OverallPreference[] = [];
  let decisive = 0;
  for (let k = 0; k < loaded.nPairs; k++) {
    if (!cols.some((c) => c.present[k])) continue;
    const v = e.preference[k]!;
    if (v !== 0) decisive++;
    const complete = !Number.isNaN(e.y0[k]!);
    prefs.push({
      pairIdx: loaded.pairIdxs[k]!,
      value: v === 0 ? null : (v as 1 | -1),
      scoreY0: complete ? e.y0[k]! : null,
      scoreY1: complete ? e.y1[k]! : null,
    });
  }
  const pairRowIds = await store.pairRowIds(loaded.datasetId);
  await store.write(async (tx) => {
    const a = await tx.ensureAnnotator(req.name, 'ensemble', provenance);
    await tx.insertPreferences(a.id, prefs, (pairIdx) => pairRowIds.get(pairIdx)!);
  });
  return { created: true, name: req.name, pairs: prefs.length, decisive };
}

/** Puts annotators in a group (or, with null, out of any). */
export async function setAnnotatorGroup(store: Store, names: string[], group: string | null): Promise<AnnotatorRow[]> {
  if (names.length === 0) throw new UsageError('name at least one annotator');
  if (group !== null && group.trim() === '')
    throw new UsageError('a group needs a non-empty name (or take the annotators out of their group)', 'group');
  return store.write((tx) => tx.setAnnotatorGroup(names, group === null ? null : group.trim()));
}
