// Loads a dataset's preferences from the store into typed arrays and runs the discretion metrics:
// the one place where store rows become the metrics engine's input (CLI `metrics`, `report`, the demo
// and the extension's dashboard all come through here).
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors';
import { analyzeDiscretion, type DiscretionInput, type DiscretionResult, type PrincipleSource } from '../core/metrics';
import type { ReportProvenance } from '../core/report/model';
import type { Principle } from '../core/types';
import { MetricsInputError } from '../core/metrics/stats';
import { StoreBusyError, type Store } from '../store';
import { version as toolVersion } from '../../package.json';

export interface AnalysisOptions {
  dataset: string;
  /** Principle list, `name` or `name@version`. */
  principles: string;
  /** `self`, `majority` (every human with principle labels), `majority:a,b,...`, or an annotator (an oracle) name. */
  principleSource: string;
  reference: string;
  /** Annotators to analyse (default: every annotator with an overall preference on the dataset). */
  annotators?: string[];
  bootstrap?: number;
  daBootstrap?: number;
  seed?: number;
}

/** What a metrics document was computed from (the report's provenance block, less its own times). */
export type AnalysisProvenance = Omit<ReportProvenance, 'created' | 'metric_run' | 'metrics_created'>;

export interface LoadedAnalysis {
  input: DiscretionInput;
  principles: Principle[];
  provenance: AnalysisProvenance;
  /** Content hashes of every input, stored with a metric run. */
  inputHashes: Record<string, unknown>;
  datasetId: number;
  /** Position in the arrays -> pair index (pairs ordered by index). */
  pairIdxs: number[];
}

export interface MetricsComputation {
  result: DiscretionResult;
  loaded: LoadedAnalysis;
  runId?: number;
  /** Why a run asked to be saved was not (the database stayed locked): the results are still here to print. */
  unsaved?: StoreBusyError;
}

const sha = (buf: Uint8Array | Int8Array) =>
  createHash('sha256')
    .update(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength))
    .digest('hex');

/** Reads the dataset's preferences and principle labels into the metrics engine's input. */
export async function loadDiscretionInput(store: Store, req: AnalysisOptions): Promise<LoadedAnalysis> {
  const dataset = await store.requireDataset(req.dataset);
  const list = await store.requirePrincipleList(req.principles);
  const m = list.principles.length;
  const pairRowIds = await store.pairRowIds(dataset.id);
  const pairIdxs = [...pairRowIds.keys()].sort((a, b) => a - b);
  const n = pairIdxs.length;
  if (n === 0) throw new UsageError(`dataset "${req.dataset}" has no pairs`);
  const pos = new Map(pairIdxs.map((pairIdx, i) => [pairIdx, i]));

  const annotatorRows = await store.listAnnotators();
  const overall = new Map<number, Int8Array>();
  for (const r of await store.overallPreferences(dataset.id)) {
    let arr = overall.get(r.annotatorId);
    if (!arr) overall.set(r.annotatorId, (arr = new Int8Array(n)));
    arr[pos.get(r.pairIdx)!] = r.value ?? 0; // missing and 0 are treated alike by every metric (spec section 1)
  }
  const grids = new Map<number, { matrix: Int8Array; labelled: Uint8Array }>();
  for (const r of await store.principlePreferences(dataset.id, list.id)) {
    let g = grids.get(r.annotatorId);
    if (!g) grids.set(r.annotatorId, (g = { matrix: new Int8Array(n * m), labelled: new Uint8Array(n) }));
    const p = pos.get(r.pairIdx)!;
    g.matrix[p * m + r.position] = r.value ?? 0;
    g.labelled[p] = 1;
  }

  // Which annotators are analysed.
  let names: string[];
  if (req.annotators && req.annotators.length > 0) {
    for (const a of req.annotators) await store.requireAnnotator(a);
    names = req.annotators;
  } else {
    // The review's adjudicated labels are not an annotator's discretion: left out unless named (or the reference).
    names = annotatorRows
      .filter((a) => overall.has(a.id) && (a.kind !== 'adjudicator' || a.name === req.reference))
      .map((a) => a.name);
  }
  const nameToRow = new Map(annotatorRows.map((a) => [a.name, a]));
  for (const name of names)
    if (!overall.has(nameToRow.get(name)!.id))
      throw new UsageError(`annotator "${name}" has no overall preferences on dataset "${req.dataset}"`);
  if (!names.includes(req.reference)) {
    throw new UsageError(
      `reference annotator "${req.reference}" has no overall preferences on dataset "${req.dataset}" (annotators there: ${names.join(', ') || 'none'})`,
    );
  }

  // Principle source.
  let source: PrincipleSource;
  const spec = req.principleSource;
  if (spec === 'self') {
    source = { kind: 'self' };
    if (!names.some((nm) => grids.has(nameToRow.get(nm)!.id)))
      throw new UsageError(
        `principle source "self" needs annotators with their own principle labels for list "${list.name}" on dataset "${req.dataset}"; none of ${names.join(', ')} has any`,
      );
  } else if (spec === 'majority' || spec.startsWith('majority:')) {
    const chosen =
      spec === 'majority'
        ? annotatorRows.filter((a) => a.kind === 'human' && grids.has(a.id)).map((a) => a.name)
        : spec
            .slice('majority:'.length)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    if (chosen.length === 0)
      throw new UsageError(
        `principle source "majority" needs human annotators with principle labels for list "${list.name}" on dataset "${req.dataset}"`,
      );
    for (const c of chosen) {
      const row = await store.requireAnnotator(c);
      if (!grids.has(row.id))
        throw new UsageError(
          `annotator "${c}" has no principle labels for list "${list.name}" on dataset "${req.dataset}"`,
        );
      if (!names.includes(c)) names.push(c);
    }
    source = { kind: 'majority', annotators: chosen };
  } else {
    const oracle = await store.requireAnnotator(spec).catch(() => {
      throw new UsageError(
        `unknown principle source "${spec}": use self, majority, majority:NAME,NAME or the name of an annotator with principle labels (an oracle)`,
      );
    });
    const g = grids.get(oracle.id);
    if (!g)
      throw new UsageError(
        `annotator "${spec}" has no principle preferences for list "${list.name}" on dataset "${req.dataset}"`,
      );
    source = { kind: 'oracle', name: spec, matrix: g.matrix };
  }

  const annotators = names.map((name) => {
    const row = nameToRow.get(name)!;
    const g = grids.get(row.id);
    return {
      name,
      kind: row.kind,
      overall: overall.get(row.id) ?? new Int8Array(n),
      principles: g?.matrix,
      principlesLabelled: g?.labelled,
    };
  });
  const bootstrap = req.bootstrap ?? 100;
  const daBootstrap = req.daBootstrap ?? 1000;
  const seed = req.seed ?? 0;
  // Annotator groups (`discretion annotators set-group`): each group of the analysed annotators gets its pooled view.
  const members = new Map<string, string[]>();
  for (const name of names) {
    const group = nameToRow.get(name)!.group;
    if (group !== null) members.set(group, [...(members.get(group) ?? []), name]);
  }
  const groups = [...members]
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([name, m]) => ({ name, members: m }));
  const input: DiscretionInput = {
    principles: list.principles,
    nPairs: n,
    annotators,
    principleSource: source,
    reference: req.reference,
    bootstrap,
    daBootstrap,
    agreementBootstrap: daBootstrap,
    seed,
    ...(groups.length ? { groups } : {}),
  };
  const provenance: AnalysisProvenance = {
    tool: { name: 'discretion-workbench', version: toolVersion },
    dataset: { name: dataset.name, content_hash: dataset.contentHash, n_pairs: n },
    principle_list: { name: list.name, version: list.version, content_hash: list.contentHash },
    principle_source:
      source.kind === 'oracle'
        ? { kind: 'oracle', name: source.name }
        : source.kind === 'majority'
          ? { kind: 'majority', annotators: source.annotators }
          : { kind: 'self' },
    reference: req.reference,
    annotators: annotators.map((a) => {
      const prov = nameToRow.get(a.name)!.provenance ?? {};
      const file = (prov.modelSha256 ?? prov.fileSha256) as string | undefined;
      return {
        name: a.name,
        kind: a.kind,
        group: nameToRow.get(a.name)!.group,
        source_file: typeof prov.source === 'string' ? prov.source : null,
        file_sha256: file ?? null,
      };
    }),
    bootstrap: { seed, dd_resamples: bootstrap, da_resamples: daBootstrap, agreement_resamples: daBootstrap },
  };
  const inputHashes = {
    dataset: dataset.contentHash,
    principle_list: list.contentHash,
    preferences: Object.fromEntries(annotators.map((a) => [a.name, sha(a.overall)])),
    principle_labels: Object.fromEntries(
      annotators.filter((a) => a.principles).map((a) => [a.name, sha(a.principles!)]),
    ),
    principle_source: source.kind === 'oracle' ? sha(source.matrix) : null,
    ...(groups.length ? { groups: Object.fromEntries(groups.map((g) => [g.name, g.members])) } : {}),
  };
  return { input, principles: list.principles, provenance, inputHashes, datasetId: dataset.id, pairIdxs };
}

/** Loads, analyses and (with `save`) stores the result as a metric run. */
export async function computeMetrics(
  store: Store,
  req: AnalysisOptions,
  options: { save?: boolean; clock?: () => number } = {},
): Promise<MetricsComputation> {
  const loaded = await loadDiscretionInput(store, req);
  let result: DiscretionResult;
  try {
    result = analyzeDiscretion({ ...loaded.input, clock: options.clock });
  } catch (e) {
    if (e instanceof MetricsInputError) throw new UsageError(e.message);
    throw e;
  }
  const computation: MetricsComputation = { result, loaded };
  if (options.save) {
    const params = { ...req, annotators: loaded.input.annotators.map((a) => a.name), provenance: loaded.provenance };
    try {
      computation.runId = await store.saveMetricRun(loaded.datasetId, toolVersion, params, loaded.inputHashes, result);
    } catch (e) {
      if (!(e instanceof StoreBusyError)) throw e;
      computation.unsaved = e; // computed results are never thrown away for a lock: the caller prints them
    }
  }
  return computation;
}
