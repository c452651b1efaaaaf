// `discretion export --format trl|hf` and the editor's "Export training data": a dataset's pairs as preference data
// for training. `trl`: JSONL rows as TRL's DPOTrainer and RewardTrainer read them (src/core/training.ts), the pairs
// the source gives no side left out and counted (and written to a ties file on request). `hf`: a Hugging Face dataset
// folder, data/train-0000K-of-0000N.parquet (one row per pair, every vote kept) and a README.md dataset card with the
// discretion numbers of a stored metric run.
//
// Files are written as the other exports are (outputFiles.ts): the JSONL beside its target and renamed into place
// (an existing file is replaced, as `export --format jsonl` replaces it); the folder is built beside its target and
// renamed into place, replacing only an empty folder or one an earlier `hf` export wrote (as train-rm does with its
// model folder), never other files.
import { existsSync, readdirSync, renameSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors';
import { CATEGORY_NAMES, categorizePairs, majorityPrinciples } from '../core/metrics';
import type { DiscretionResult } from '../core/metrics/analyze';
import { renderDatasetCard } from '../core/report/card';
import { buildReportModel, type ReportModel, type ReportProvenance } from '../core/report/model';
import { principleWord } from '../core/preferences';
import {
  decide,
  hfColumns,
  hfFeatures,
  hfRow,
  parseTrainingSource,
  sourceName,
  tieRow,
  trlRow,
  voteWord,
  type Decision,
  type PairForTraining,
  type TrainingCounts,
  type TrainingSource,
  type TrlStyle,
  type Vote,
} from '../core/training';
import { ADJUDICATOR_NAME } from '../core/types';
import type { Store } from '../store';
import { version as toolVersion } from '../../package.json';
import type { AnalysisProvenance } from './analysis';
import { AtomicFile, ensureFolder, fsReason } from './outputFiles';
import { ParquetRowWriter } from './parquet';

export const TRAINING_FORMATS = ['trl', 'hf'] as const;
export type TrainingFormat = (typeof TRAINING_FORMATS)[number];

export interface TrainingExportOptions {
  dataset: string;
  format: TrainingFormat;
  /** A file (trl) or a folder (hf). */
  out: string;
  /** `adjudicated` (default), `majority`, or an annotator's name. */
  from?: string;
  /** trl: conversational (default) or standard. */
  style?: TrlStyle;
  /** trl: where the pairs the source gives no side are written (none by default). */
  ties?: string;
  /** A `margin` column: the share of the human labels that agree with the chosen side. */
  margin?: 'agreement';
  /** The principle list and principle source of the pair categories (both, or neither). */
  principles?: string;
  /** `majority`, `majority:NAME,NAME` or an annotator with principle labels (an oracle). */
  principleSource?: string;
  /** hf: the metric run whose numbers the card shows (default: the dataset's latest). */
  run?: number;
  /** hf: bytes after which a Parquet file is closed and the next begun (default 256 MiB). */
  shardBytes?: number;
  /** hf: rows per row group (default 50,000). */
  rowGroupRows?: number;
  /** The card's creation time (ISO); default now. */
  created?: string;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface TrainingExportResult extends TrainingCounts {
  dataset: string;
  format: TrainingFormat;
  source: string;
  out: string;
  /** trl with a ties file: the rows written there. */
  tiesWritten: number | null;
  /** The files written (hf: the Parquet files and README.md, relative to the folder). */
  files: string[];
  /** hf: the metric run of the card (null: none stored). */
  run: number | null;
  notes: string[];
}

const PAGE = 5000;

/** Exports the dataset as training data (see the file's head). */
export async function exportTrainingData(store: Store, o: TrainingExportOptions): Promise<TrainingExportResult> {
  const dataset = await store.requireDataset(o.dataset);
  const source = parseTrainingSource(o.from ?? 'adjudicated');
  const notes: string[] = [];
  if (source.kind === 'annotator') {
    const a = await store.requireAnnotator(source.name);
    if ((await store.labelledCount(dataset.id, a.id)) === 0)
      throw new UsageError(
        `annotator "${source.name}" has no overall labels on dataset "${dataset.name}": choose another source (adjudicated, majority or an annotator with labels)`,
        'trainingSource',
      );
  }
  if (o.format === 'hf' && o.ties !== undefined)
    throw new UsageError('a ties file is for the trl format; the hf folder keeps every pair', 'ties');
  const annotators = await store.listAnnotators();
  const kinds = new Map(annotators.map((a) => [a.name, a.kind]));
  const names = new Map(annotators.map((a) => [a.id, a.name]));
  // Votes in the order of the annotators' ids (the order of the database's own listings, on either database).
  const rank = new Map(annotators.map((a) => [a.name, a.id]));
  const byRank = (x: Vote, y: Vote) => (rank.get(x.annotator) ?? 0) - (rank.get(y.annotator) ?? 0);
  const categories = await pairCategories(store, dataset.id, dataset.name, o);
  const listRef = o.principles ? await listName(store, o.principles) : undefined;

  const total = await store.countPairs(dataset.id);
  const counts = {
    pairs: total,
    chosen: 0,
    ties: 0,
    bothBad: 0,
    noMajority: 0,
    unlabelled: 0,
    adjudicated: 0,
    decidedByAdjudication: 0,
  };
  const count = (votes: Vote[], d: Decision) => {
    if (d.outcome === 'y0' || d.outcome === 'y1') counts.chosen++;
    else if (d.outcome === 'tie') counts.ties++;
    else if (d.outcome === 'both-bad') counts.bothBad++;
    else if (d.outcome === 'no-majority') counts.noMajority++;
    else counts.unlabelled++;
    if (votes.some((v) => v.annotator === ADJUDICATOR_NAME && v.kind === 'adjudicator' && v.label))
      counts.adjudicated++;
    if (d.by === 'adjudicated') counts.decidedByAdjudication++;
  };
  /** Every pair in index order, with its votes and category, a page at a time. */
  const eachPair = async (fn: (p: PairForTraining, d: Decision) => void) => {
    let position = 0;
    for (let after = -1, done = 0; ;) {
      if (o.signal?.aborted) throw new UsageError('the export was cancelled; nothing was written');
      const page = await store.pairsWithLabels(dataset.id, after, PAGE);
      const pairs = page.pairs;
      if (pairs.length === 0) break;
      after = pairs[pairs.length - 1]!.idx;
      const votes = new Map<number, Map<string, Vote>>();
      const voteOf = (rowId: number, annotator: string) => {
        let m = votes.get(rowId);
        if (!m) votes.set(rowId, (m = new Map()));
        let v = m.get(annotator);
        if (!v)
          m.set(
            annotator,
            (v = {
              annotator,
              kind: kinds.get(annotator) ?? 'human',
              label: null,
              principle_labels: [],
              rationale: null,
            }),
          );
        return v;
      };
      for (const p of page.preferences) {
        const v = voteOf(p.pairRowId, names.get(p.annotatorId) ?? String(p.annotatorId));
        v.label = voteWord(p.value, p.raw);
        v.rationale = p.rationale;
      }
      for (const p of page.principlePreferences) {
        const list = `${p.list}@${p.listVersion}`;
        if (listRef !== undefined && list !== listRef) continue;
        const word = principleWord(p.value);
        if (word) voteOf(p.pairRowId, p.annotator).principle_labels.push({ list, principle: p.key, label: word });
      }
      for (const p of pairs) {
        const vs = [...(votes.get(p.pairRowId)?.values() ?? [])].sort(byRank);
        const pair: PairForTraining = {
          idx: p.idx,
          sourceId: p.sourceId,
          prompt: p.prompt,
          y0: p.y0,
          y1: p.y1,
          votes: vs,
          category: categories ? CATEGORY_NAMES[categories.codes[position]!]! : null,
        };
        position++;
        const d = decide(vs, source);
        count(vs, d);
        fn(pair, d);
      }
      done += pairs.length;
      o.onProgress?.(done, total);
    }
  };

  const base = {
    dataset: dataset.name,
    format: o.format,
    source: sourceName(source),
    out: o.out,
    notes,
  };
  if (o.format === 'trl') {
    const style = o.style ?? 'conversational';
    const margin = o.margin === 'agreement';
    // Opened before any work, so that a target that cannot be written is refused at once.
    const file = AtomicFile.open(o.out, 'the export');
    let ties: AtomicFile | undefined;
    try {
      if (o.ties !== undefined) {
        if (resolve(o.ties) === resolve(o.out))
          throw new UsageError('the ties file must be another file than the export', 'ties');
        ties = AtomicFile.open(o.ties, 'the ties file');
      }
      let chunk = '';
      let tieChunk = '';
      let tiesWritten = 0;
      await eachPair((p, d) => {
        if (d.outcome === 'y0' || d.outcome === 'y1') {
          chunk += JSON.stringify(trlRow(p, d, style, margin)) + '\n';
          if (chunk.length > 1 << 20) {
            file.write(chunk);
            chunk = '';
          }
        } else if (ties && d.outcome !== 'unlabelled') {
          tieChunk += JSON.stringify(tieRow(p, d, style)) + '\n';
          tiesWritten++;
          if (tieChunk.length > 1 << 20) {
            ties.write(tieChunk);
            tieChunk = '';
          }
        }
      });
      file.write(chunk);
      if (ties) ties.write(tieChunk);
      file.close();
      ties?.close();
      if (margin && counts.chosen > 0) notes.push(...marginNote(source));
      return {
        ...base,
        ...counts,
        tiesWritten: ties ? tiesWritten : null,
        files: [o.out, ...(o.ties !== undefined ? [o.ties] : [])],
        run: null,
      };
    } catch (e) {
      file.discard();
      ties?.discard();
      throw e;
    }
  }

  // hf: a dataset folder built beside its target.
  const target = resolve(o.out);
  checkDatasetFolder(target, o.out);
  const card = await cardModel(store, dataset.name, o.run, o.created, notes);
  const partial = join(dirname(target), `.${basename(target)}.partial-${process.pid}`);
  rmSync(partial, { recursive: true, force: true });
  ensureFolder(join(partial, 'data'), 'the dataset folder', o.out);
  try {
    const columns = hfColumns(o.margin === 'agreement');
    const shardBytes = o.shardBytes ?? 256 * 1024 * 1024;
    const shards: string[] = [];
    let bytes = 0;
    let current: { file: AtomicFile; writer: ParquetRowWriter } | null = null;
    const open = () => {
      const file = AtomicFile.open(join(partial, 'data', `part-${shards.length}.parquet`), 'the dataset file');
      shards.push(file.target);
      const writer = new ParquetRowWriter(columns, (b) => file.write(b), {
        createdBy: `discretion-workbench ${toolVersion}`,
        rowGroupRows: o.rowGroupRows,
      });
      return { file, writer };
    };
    const close = () => {
      if (!current) return;
      current.writer.finish();
      bytes += current.writer.size;
      current.file.close();
      current = null;
    };
    try {
      await eachPair((p, d) => {
        current ??= open();
        current.writer.writeRow(hfRow(p, d, o.margin === 'agreement'));
        if (current.writer.size >= shardBytes) close();
      });
      if (!current && shards.length === 0) current = open(); // an empty dataset still gets its (empty) file
      close();
    } catch (e) {
      (current as { file: AtomicFile } | null)?.file.discard();
      throw e;
    }
    const n = shards.length;
    const pad = (k: number) => String(k).padStart(5, '0');
    const files = shards.map((_, k) => `data/train-${pad(k)}-of-${pad(n)}.parquet`);
    shards.forEach((s, k) => renameSync(s, join(partial, files[k]!)));
    const readme = renderDatasetCard({
      dataset: dataset.name,
      model: card.model,
      features: hfFeatures(columns),
      files,
      rows: total,
      bytes,
      source: sourceName(source),
      counts,
      categories: categories
        ? {
            source: categories.source,
            consensus: categories.summary.nConsensus,
            conflict: categories.summary.nConflict,
            indifference: categories.summary.nIndifference,
          }
        : null,
      tool: { name: 'discretion-workbench', version: toolVersion },
      created: o.created ?? new Date().toISOString(),
    });
    const cardFile = AtomicFile.open(join(partial, 'README.md'), 'the dataset card');
    cardFile.write(readme);
    cardFile.close();
    if (o.margin === 'agreement' && counts.chosen > 0) notes.push(...marginNote(source));
    replaceFolder(partial, target, o.out);
    return { ...base, ...counts, tiesWritten: null, files: [...files, 'README.md'], run: card.run };
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
}

function marginNote(source: TrainingSource): string[] {
  return source.kind === 'annotator'
    ? [
        'the margin is the share of human labels agreeing with the chosen side; it is empty where no human labelled the pair',
      ]
    : [];
}

/** `name@version` of a principle list reference. */
async function listName(store: Store, ref: string): Promise<string> {
  const list = await store.requirePrincipleList(ref);
  return `${list.name}@${list.version}`;
}

/** The category of every pair (in index order) under the principle source, or null when none was asked for. */
async function pairCategories(
  store: Store,
  datasetId: number,
  datasetName: string,
  o: TrainingExportOptions,
): Promise<{ codes: Uint8Array; source: string; summary: ReturnType<typeof categorizePairs> } | null> {
  if (!o.principles && !o.principleSource) return null;
  if (!o.principles) throw new UsageError('the pair categories need the principle list too', 'principles');
  if (!o.principleSource)
    throw new UsageError(
      'the pair categories need a principle source: majority, majority:NAME,NAME or an annotator with principle labels',
      'principleSource',
    );
  const list = await store.requirePrincipleList(o.principles);
  const m = list.principles.length;
  const idxs = [...(await store.pairRowIds(datasetId)).keys()].sort((a, b) => a - b);
  const n = idxs.length;
  const pos = new Map(idxs.map((idx, i) => [idx, i]));
  const annotators = await store.listAnnotators();
  const byId = new Map(annotators.map((a) => [a.id, a]));
  const grids = new Map<string, Int8Array>();
  for (const r of await store.principlePreferences(datasetId, list.id)) {
    const name = byId.get(r.annotatorId)!.name;
    let g = grids.get(name);
    if (!g) grids.set(name, (g = new Int8Array(n * m)));
    g[pos.get(r.pairIdx)! * m + r.position] = r.value ?? 0;
  }
  const spec = o.principleSource;
  let matrix: Int8Array;
  if (spec === 'self')
    throw new UsageError(
      "a pair's category needs one principle source for all annotators: majority, majority:NAME,NAME or an annotator with principle labels",
      'principleSource',
    );
  if (spec === 'majority' || spec.startsWith('majority:')) {
    const names =
      spec === 'majority'
        ? annotators.filter((a) => a.kind === 'human' && grids.has(a.name)).map((a) => a.name)
        : spec
            .slice('majority:'.length)
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    if (names.length === 0)
      throw new UsageError(
        `principle source "majority" needs human annotators with principle labels for list "${list.name}" on dataset "${datasetName}"`,
        'principleSource',
      );
    for (const name of names)
      if (!grids.has(name))
        throw new UsageError(
          `annotator "${name}" has no principle labels for list "${list.name}" on dataset "${datasetName}"`,
          'principleSource',
        );
    matrix = majorityPrinciples(
      names.map((x) => grids.get(x)!),
      n,
      m,
    );
  } else {
    const g = grids.get(spec);
    if (!g) {
      await store.requireAnnotator(spec);
      throw new UsageError(
        `annotator "${spec}" has no principle labels for list "${list.name}" on dataset "${datasetName}"`,
        'principleSource',
      );
    }
    matrix = g;
  }
  const summary = categorizePairs(matrix, n, m);
  return { codes: summary.category, source: spec, summary };
}

/** The folder may be new, empty, or an earlier hf export (README.md and data/ with train-*.parquet only). */
function checkDatasetFolder(target: string, shown: string): void {
  let entries: string[];
  try {
    if (!existsSync(target)) return;
    if (!statSync(target).isDirectory())
      throw new UsageError(`cannot write the dataset folder ${shown}: it is a file, not a folder`, 'out');
    entries = readdirSync(target);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot write the dataset folder ${shown}: ${fsReason(e)}`, 'out');
  }
  if (entries.length === 0) return;
  const earlier =
    entries.every((e) => e === 'README.md' || e === 'data') &&
    entries.includes('data') &&
    statSync(join(target, 'data')).isDirectory() &&
    readdirSync(join(target, 'data')).every((f) => /^train-\d{5}-of-\d{5}\.parquet$/.test(f));
  if (!earlier)
    throw new UsageError(
      `the dataset folder ${shown} exists and is not one an earlier export wrote; choose an empty or new folder`,
      'out',
    );
}

/** Swaps the finished folder in (the target, when it exists, was checked by checkDatasetFolder). */
function replaceFolder(partial: string, target: string, shown: string): void {
  try {
    if (existsSync(target)) {
      if (readdirSync(target).length === 0) rmdirSync(target);
      else rmSync(target, { recursive: true });
    }
    renameSync(partial, target);
  } catch (e) {
    throw new UsageError(`cannot write the dataset folder ${shown}: ${fsReason(e)}`, 'out');
  }
}

/**
 * The report model of the metric run the card shows: `run`, else the dataset's latest metric run (null, with a
 * note, when it has none). Built from the stored metrics document and provenance alone (no preferences reloaded).
 */
export async function cardModel(
  store: Store,
  dataset: string,
  run: number | undefined,
  created: string | undefined,
  notes: string[],
): Promise<{ model: ReportModel | null; run: number | null }> {
  let id = run;
  if (id === undefined) {
    const runs = (await store.listMetricRuns()).filter(
      (r) => r.datasetName === dataset && (r.params as { kind?: string } | null)?.kind !== 'consistency',
    );
    if (runs.length === 0) {
      notes.push(`dataset "${dataset}" has no stored metric run: the card has no discretion numbers`);
      return { model: null, run: null };
    }
    id = Math.max(...runs.map((r) => r.id));
  }
  const row = await store.getMetricRun(id);
  const params = (row.params ?? {}) as { kind?: string; provenance?: AnalysisProvenance };
  if (params.kind === 'consistency') throw new UsageError(`run ${id} is a consistency run, not a metric run`, 'run');
  if (row.datasetName !== dataset)
    throw new UsageError(`metric run ${id} is of dataset "${row.datasetName ?? '?'}", not "${dataset}"`, 'run');
  const metrics = row.results as DiscretionResult;
  if (!metrics || !Array.isArray(metrics.annotators) || !metrics.categories || !params.provenance)
    throw new UsageError(`metric run ${id} holds no metrics document with its provenance`, 'run');
  const prov = params.provenance;
  let principles: { id: string; short: string; text?: string }[] = metrics.principles;
  try {
    const list = await store.requirePrincipleList(`${prov.principle_list.name}@${prov.principle_list.version}`);
    if (list.principles.length === metrics.principles.length) principles = list.principles;
  } catch {
    /* the list is gone: the short labels of the metrics document are shown */
  }
  const provenance: ReportProvenance = {
    ...prov,
    created: created ?? new Date().toISOString(),
    metric_run: row.id,
    metrics_created: row.createdAt,
  };
  return { model: buildReportModel({ metrics, provenance, principles }), run: row.id };
}
