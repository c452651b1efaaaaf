// Model judgments in the published formats of the discretion paper (spec section 10): oracle
// principle probabilities, reward-model scores, two-order LLM-judge probabilities and policy-model
// log-likelihoods. Raw numbers are kept; preferences are derived as spec section 2 says.
// In these files "A"/reward_a is y1 (HH-RLHF's chosen response) in order 0.
import { basename } from 'node:path';
import {
  type ABProbabilities,
  logLikelihoodPreference,
  oraclePreference,
  rewardPreference,
  shownFirstOfOrder,
  twoOrderJudgePreference,
} from '../core/derive';
import { InputError, UsageError } from '../core/errors';
import type { AnnotatorKind, OverallPreference, PrinciplePreference } from '../core/types';
import type { Store } from '../store';
import { createHash } from 'node:crypto';
import { ErrorPolicy, type ImportSummary, type OnError, type ReadOptions, throwIfCancelled } from './common';
import { type CsvRow, csvInteger, csvNumber, readCsvRows } from './csv';

export type JudgmentFormat = 'oracle' | 'rewards' | 'judge' | 'loglik';

export interface JudgmentImportOptions extends ReadOptions {
  format: JudgmentFormat;
  file: string;
  dataset: string;
  annotator: string;
  /** Principle list (name or name@version); oracle only. */
  principles?: string;
  /** Rows whose row_id is not a pair of the dataset are skipped and counted instead of failing (the
   * published "most_downloaded" reward file covers all 8,552 HH test rows, not just harmless-base). */
  ignoreUnknownRows?: boolean;
  onError?: OnError;
}

const KIND: Record<JudgmentFormat, AnnotatorKind> = {
  oracle: 'oracle',
  rewards: 'reward-model',
  judge: 'llm-judge',
  loglik: 'policy-model',
};
const COLUMNS: Record<JudgmentFormat, string[]> = {
  oracle: ['row_id', 'principle_id', 'order', 'prob_A', 'prob_B', 'prob_NA'],
  rewards: ['row_id', 'reward_a', 'reward_b'],
  judge: ['row_id', 'order', 'prob_A', 'prob_B', 'prob_NA'],
  loglik: ['row_id', 'order', 'log_prob_chat_chosen', 'log_prob_chat_rejected'],
};

function probability(file: string, row: CsvRow, column: string): number {
  const p = csvNumber(file, row, column);
  if (p < 0 || p > 1 + 1e-9) throw new InputError(file, row.line, column, `probability ${p} is outside [0, 1]`);
  return p;
}

function probabilities(file: string, row: CsvRow): ABProbabilities {
  return {
    pA: probability(file, row, 'prob_A'),
    pB: probability(file, row, 'prob_B'),
    pNA: probability(file, row, 'prob_NA'),
  };
}

function order(file: string, row: CsvRow, column = 'order'): 0 | 1 {
  const raw = (row.values[column] ?? '').trim();
  // The policy-model files write the order as "0,1" (A = y1 first) and "1,0".
  if (raw === '0' || raw === '0,1') return 0;
  if (raw === '1' || raw === '1,0') return 1;
  throw new InputError(file, row.line, column, `expected 0 or 1 (or "0,1"/"1,0"), found ${JSON.stringify(raw)}`);
}

function optionalNumber(row: CsvRow, column: string): number | undefined {
  const v = row.values[column];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export async function importJudgments(store: Store, opts: JudgmentImportOptions): Promise<ImportSummary> {
  const policy = new ErrorPolicy(opts.onError ?? 'fail');
  const hash = createHash('sha256');
  /** The file's rows, streamed (a batch at a time: the text is never held whole). */
  async function* fileRows(): AsyncGenerator<CsvRow> {
    for await (const batch of readCsvRows(opts.file, COLUMNS[opts.format], {
      limits: opts.limits,
      onProgress: opts.onProgress,
      signal: opts.signal,
      fileHash: hash,
    }))
      yield* batch;
  }
  const kind = KIND[opts.format];
  const dataset = await store.requireDataset(opts.dataset);
  const list = opts.format === 'oracle' ? await store.requirePrincipleList(requirePrinciplesOption(opts)) : undefined;
  const pairRowIds = await store.pairRowIds(dataset.id);
  let unknownRows = 0;

  /** The pair index of a row, or undefined when the row is to be ignored. */
  const pairOf = (row: CsvRow): number | undefined => {
    const id = csvInteger(opts.file, row, 'row_id');
    if (!pairRowIds.has(id)) {
      if (opts.ignoreUnknownRows) {
        unknownRows++;
        return undefined;
      }
      throw new InputError(
        opts.file,
        row.line,
        'row_id',
        `${id} is not a pair of dataset "${opts.dataset}" (it has pairs 0..${pairRowIds.size - 1}; such rows can be skipped)`,
        'ignoreUnknownRows',
      );
    }
    return id;
  };

  const overall: OverallPreference[] = [];
  const principle: PrinciplePreference[] = [];
  const seen = new Map<string, number>();
  const once = (row: CsvRow, key: string, what: string) => {
    const first = seen.get(key);
    if (first !== undefined)
      throw new InputError(opts.file, row.line, 'row_id', `duplicate row for ${what} (first on line ${first})`);
    seen.set(key, row.line);
  };

  if (opts.format === 'oracle') {
    const m = list!.principles.length;
    for await (const row of fileRows()) {
      policy.attempt(() => {
        const pairIdx = pairOf(row);
        const principleIndex = csvInteger(opts.file, row, 'principle_id');
        if (principleIndex >= m)
          throw new InputError(
            opts.file,
            row.line,
            'principle_id',
            `${principleIndex} does not exist in principle list "${list!.name}" (ids 0..${m - 1})`,
          );
        const o = order(opts.file, row);
        const p = probabilities(opts.file, row);
        if (pairIdx === undefined) return;
        // One preference per pair and principle is stored: a second row (another order) is a duplicate.
        once(row, `${pairIdx}/${principleIndex}`, `row_id ${pairIdx}, principle_id ${principleIndex}`);
        const cost = optionalNumber(row, 'cost');
        principle.push({
          pairIdx,
          principleIndex,
          value: oraclePreference(p, o),
          probA: p.pA,
          probB: p.pB,
          probNA: p.pNA,
          shownFirst: shownFirstOfOrder(o),
          raw: cost === undefined ? null : { cost },
        });
      });
    }
  } else if (opts.format === 'rewards') {
    for await (const row of fileRows()) {
      policy.attempt(() => {
        const pairIdx = pairOf(row);
        const y1 = csvNumber(opts.file, row, 'reward_a');
        const y0 = csvNumber(opts.file, row, 'reward_b');
        if (pairIdx === undefined) return;
        once(row, String(pairIdx), `row_id ${pairIdx}`);
        overall.push({ pairIdx, value: rewardPreference(y1, y0), scoreY0: y0, scoreY1: y1 });
      });
    }
  } else {
    // Two rows per pair, one per order; the preference needs both.
    const byPair = new Map<number, { rows: (CsvRow | undefined)[] }>();
    for await (const row of fileRows()) {
      policy.attempt(() => {
        const pairIdx = pairOf(row);
        const o = order(opts.file, row);
        if (opts.format === 'judge') probabilities(opts.file, row);
        else {
          csvNumber(opts.file, row, 'log_prob_chat_chosen');
          csvNumber(opts.file, row, 'log_prob_chat_rejected');
        }
        if (pairIdx === undefined) return;
        once(row, `${pairIdx}/${o}`, `row_id ${pairIdx}, order ${o}`);
        const entry = byPair.get(pairIdx) ?? { rows: [undefined, undefined] };
        entry.rows[o] = row;
        byPair.set(pairIdx, entry);
      });
    }
    for (const [
      pairIdx,
      {
        rows: [r0, r1],
      },
    ] of byPair) {
      if (opts.format === 'judge') {
        const p0 = r0 && probabilities(opts.file, r0);
        const p1 = r1 && probabilities(opts.file, r1);
        const cost = (r0 ? (optionalNumber(r0, 'cost') ?? 0) : 0) + (r1 ? (optionalNumber(r1, 'cost') ?? 0) : 0);
        overall.push({
          pairIdx,
          value: twoOrderJudgePreference(p0, p1),
          raw: { order0: p0 ?? null, order1: p1 ?? null, ...(cost ? { cost } : {}) },
        });
      } else {
        const r = (r0 ?? r1)!;
        const y1 = csvNumber(opts.file, r, 'log_prob_chat_chosen');
        const y0 = csvNumber(opts.file, r, 'log_prob_chat_rejected');
        const judge = (x?: CsvRow) =>
          x && {
            pA: optionalNumber(x, 'reward_a') ?? null,
            pB: optionalNumber(x, 'reward_b') ?? null,
            pNA: optionalNumber(x, 'reward_NA') ?? null,
          };
        overall.push({
          pairIdx,
          value: logLikelihoodPreference(y1, y0),
          scoreY0: y0,
          scoreY1: y1,
          raw: { judgeOrder0: judge(r0) ?? null, judgeOrder1: judge(r1) ?? null },
        });
      }
    }
  }

  const fileHash = hash.digest('hex');
  throwIfCancelled(opts.signal, opts.file);
  const written = opts.format === 'oracle' ? principle.length : overall.length;
  if (written === 0)
    throw new InputError(
      opts.file,
      null,
      null,
      unknownRows ? `none of its ${unknownRows} rows is a pair of dataset "${opts.dataset}"` : 'no valid rows',
    );
  await store.write(async (tx) => {
    const annotator = await tx.ensureAnnotator(opts.annotator, kind, {
      source: basename(opts.file),
      format: opts.format,
      fileSha256: fileHash,
    });
    const pairRowIdOf = (pairIdx: number) => pairRowIds.get(pairIdx)!;
    if (opts.format === 'oracle') {
      const existing = await tx.countPrinciplePreferences(dataset.id, annotator.id, list!.id);
      if (existing > 0)
        throw new UsageError(
          `annotator "${opts.annotator}" already has ${existing} principle preferences on dataset "${opts.dataset}" for list "${list!.name}"; import under another annotator name`,
          'annotator',
        );
      await tx.insertPrinciplePreferences(annotator.id, principle, pairRowIdOf, await tx.principleRowIds(list!.id));
    } else {
      const existing = await tx.pairsWithPreference(dataset.id, annotator.id);
      if (existing.size > 0)
        throw new UsageError(
          `annotator "${opts.annotator}" already has ${existing.size} preferences on dataset "${opts.dataset}"; import under another annotator name`,
          'annotator',
        );
      await tx.insertPreferences(annotator.id, overall, pairRowIdOf);
    }
    throwIfCancelled(opts.signal, opts.file); // the last moment before the commit
  });
  const notes: string[] = [];
  if (unknownRows) notes.push(`${unknownRows} rows whose row_id is not a pair of "${opts.dataset}" were ignored`);
  const decided =
    opts.format === 'oracle'
      ? principle.filter((p) => p.value !== 0).length
      : overall.filter((p) => p.value !== null && p.value !== 0).length;
  const counts: Record<string, number> =
    opts.format === 'oracle'
      ? { principlePreferences: written, decisive: decided }
      : { preferences: written, decisive: decided };
  return {
    kind: opts.format,
    file: opts.file,
    dataset: opts.dataset,
    imported: written,
    counts,
    skipped: policy.skipped,
    notes,
  };
}

function requirePrinciplesOption(opts: JudgmentImportOptions): string {
  if (!opts.principles)
    throw new UsageError(
      'import oracle needs a principle list (the list whose 0-based positions principle_id refers to)',
      'principles',
    );
  return opts.principles;
}
