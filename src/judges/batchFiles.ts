// The LLM judge as batch files: the questions a run would ask, written as OpenAI Batch API input lines, and
// the answers read back from the output lines, parsed and stored exactly as the live judge parses and stores
// them (llmJudge.ts: chatRequestBody, parseChatAnswer, planJudgeRun, overallPreferenceOf, principlePreferenceOf).
//
// Input line (https://platform.openai.com/docs/guides/batch, "the request input object"):
//   {"custom_id": "...", "method": "POST", "url": "/v1/chat/completions", "body": {...the chat request...}}
// At most 50,000 requests and 200 MB a file; every line of a file names the same model.
// Output and error file lines ("the request output object"), in any order:
//   {"id": "...", "custom_id": "...", "response": {"status_code": 200, "request_id": "...", "body": {...}} | null,
//    "error": {"code": "...", "message": "..."} | null}
// A request the API refused has a status_code other than 200 and the error in response.body.error; a request
// that never ran (the window expired: code "batch_expired") has `error` set and no response.
// vLLM's batch runner, `vllm run-batch -i IN.jsonl -o OUT.jsonl --model M` (https://docs.vllm.ai/en/latest/cli/run-batch/,
// examples/offline_inference/openai_batch in the vLLM repository), reads and writes the same lines; its
// `error` is a plain string beside status_code 400 and no body (run_batch.py, make_error_request_output).
// A LiteLLM proxy runs the same files against any deployment behind it.
//
// custom_id: `dw1-<scope>-<version>-i<pair>[-k<principle>]-o<order>`, at most about 50 characters (some
// providers cap custom_id at 64), stable: the same run writes the same ids.
//   scope   = 12 hex of sha256 over the dataset (name and content hash), the annotator and the principle list
//             (name, version, content hash): a result line of another dataset, annotator or list is refused;
//   version = requestVersion(): 12 hex over the model, the three prompt templates and the request settings;
//             one import holds one version, and an annotator keeps one.
import { basename } from 'node:path';
import { type ABProbabilities, type JudgeOrder } from '../core/derive';
import { InputError, UsageError } from '../core/errors';
import type { OverallPreference, PrinciplePreference } from '../core/types';
import { type AnnotatorRow, type DatasetRow, type PrincipleListRow, sha256, type Store } from '../store';
import {
  chatRequestBody,
  checkJudgeMode,
  type JudgePlan,
  judgeAnnotator,
  judgeQuestion,
  loadTemplates,
  oracleOrder,
  overallPreferenceOf,
  parseChatAnswer,
  planJudgeRun,
  principlePreferenceOf,
  requestVersion,
  storedUnits,
} from './llmJudge';

/** The endpoint every request line names. */
export const BATCH_URL = '/v1/chat/completions';

/** OpenAI's limits on one input file (https://platform.openai.com/docs/guides/batch): requests, and bytes (200 MB). */
export const BATCH_FILE_LIMITS = { maxLines: 50_000, maxBytes: 200_000_000 };

/** The custom_id's first part: which dataset, annotator and principle list the requests belong to. */
export function batchScope(dataset: DatasetRow, annotator: string, list?: PrincipleListRow): string {
  return sha256(
    JSON.stringify({
      dataset: dataset.name,
      content: dataset.contentHash,
      annotator,
      principles: list ? { name: list.name, version: list.version, content: list.contentHash } : null,
    }),
  ).slice(0, 12);
}

export interface CustomId {
  scope: string;
  version: string;
  pairIdx: number;
  principle?: number;
  order: JudgeOrder;
}

export function customIdOf(id: CustomId): string {
  return `dw1-${id.scope}-${id.version}-i${id.pairIdx}${id.principle !== undefined ? `-k${id.principle}` : ''}-o${id.order}`;
}

const CUSTOM_ID = /^dw1-([0-9a-f]{12})-([0-9a-f]{12})-i(0|[1-9]\d{0,9})(?:-k(0|[1-9]\d{0,5}))?-o([01])$/;

export function parseCustomId(text: string): CustomId | undefined {
  const m = CUSTOM_ID.exec(text);
  if (!m) return undefined;
  return {
    scope: m[1],
    version: m[2],
    pairIdx: Number(m[3]),
    ...(m[4] !== undefined ? { principle: Number(m[4]) } : {}),
    order: Number(m[5]) as JudgeOrder,
  };
}

/**
 * The request version an annotator's stored judgments were asked with, from its provenance: recorded by a run
 * or an import, else worked out from a live run's model, templates and top_logprobs; undefined when unknown
 * (judgments imported from a CSV file).
 */
export function provenanceVersion(p: Record<string, unknown> | null): string | undefined {
  if (!p) return undefined;
  if (typeof p.request_version === 'string') return p.request_version;
  const templates = p.prompt_templates_sha256;
  if (typeof p.model === 'string' && typeof p.top_logprobs === 'number' && templates && typeof templates === 'object')
    return requestVersion({
      model: p.model,
      templatesSha256: templates as Record<string, string>,
      topLogprobs: p.top_logprobs,
    });
  return undefined;
}

/** Refuses to add judgments of another request version to an annotator that has some; `remedy` says what to do instead. */
function checkAnnotatorVersion(existing: AnnotatorRow | undefined, version: string, remedy: string): void {
  const theirs = existing ? provenanceVersion(existing.provenance) : undefined;
  if (existing && theirs !== undefined && theirs !== version)
    throw new UsageError(
      `annotator "${existing.name}" holds judgments asked with another model, prompt templates or settings (request version ${theirs}, these ${version}); one annotator is one judge: ${remedy}`,
      'annotator',
    );
}

export interface BatchRequestOptions {
  dataset: string;
  annotator: string;
  model: string;
  oracle?: boolean;
  principles?: string;
  promptDir: string;
  topLogprobs?: number;
}

/** A run's requests as batch input lines, with what the summary says of them. */
export interface BatchRequests {
  plan: JudgePlan;
  version: string;
  scope: string;
  /** One JSON line (no newline) per unit not yet stored, with the unit's pair index for messages. */
  lines(): Iterable<{ pairIdx: number; text: string }>;
}

/**
 * The requests a live run of these options would send, left out what is stored (as a live run resumes), as
 * batch input lines. Reads the store only.
 */
export async function batchRequests(store: Store, o: BatchRequestOptions): Promise<BatchRequests> {
  checkJudgeMode(o);
  const templates = loadTemplates(o.promptDir);
  const topLogprobs = o.topLogprobs ?? 20;
  const version = requestVersion({ model: o.model, templatesSha256: templates.hashes, topLogprobs });
  const plan = await planJudgeRun(store, o);
  checkAnnotatorVersion(plan.existing, version, 'choose another annotator name');
  const scope = batchScope(plan.dataset, o.annotator, plan.list);
  return {
    plan,
    version,
    scope,
    *lines() {
      for (const u of plan.units)
        yield {
          pairIdx: u.pairIdx,
          text: JSON.stringify({
            custom_id: customIdOf({ scope, version, pairIdx: u.pairIdx, principle: u.principle, order: u.order }),
            method: 'POST',
            url: BATCH_URL,
            body: chatRequestBody(o.model, templates.system, judgeQuestion(templates, plan.list, u), topLogprobs),
          }),
        };
    },
  };
}

// ---- reading the results ----------------------------------------------------------------------------

/** One parsed line of a results file. */
export interface BatchResultRecord {
  file: string;
  line: number;
  record: Record<string, unknown>;
}

/** A result line that brought no usable answer: the request failed, or its answer cannot be read. */
export interface BatchErrorLine {
  file: string;
  line: number;
  customId: string;
  reason: string;
}

export interface BatchImportOptions {
  dataset: string;
  annotator: string;
  /** The principle list an oracle's requests were written with (name or name@version). */
  principles?: string;
}

export interface BatchImportSummary {
  dataset: string;
  annotator: string;
  mode: 'judge' | 'oracle';
  /** The request version the results carry (null when no line was read). */
  requestVersion: string | null;
  /** The model the answers name (their body's "model"), when any does. */
  model: string | null;
  files: { file: string; lines: number }[];
  /** Result lines read (blank lines aside). */
  results: number;
  /** Units stored now: pairs (judge: both orders answered) or pair x principle (oracle). */
  stored: number;
  /** Units of these results stored before (a re-import, or a live run). */
  alreadyStored: number;
  /** Stored pairs whose judgment is missing (NA dominates, or a tie; the live judge counts them so too). */
  missing: number;
  /** Lines that brought no usable answer and whose request has none in these files or the store. */
  errors: BatchErrorLine[];
  /** Error lines whose request did get an answer (another line, a retry's file, or stored before). */
  supersededErrors: BatchErrorLine[];
  /** A second answer to a request already answered in these files: the first one given is kept. */
  duplicates: number;
  /** Judge pairs with one order answered and the other not (failed or absent): not stored. */
  incomplete: { pairIdx: number; unanswered: string }[];
  promptTokens: number;
  completionTokens: number;
}

interface Answer {
  probs: ABProbabilities;
  model: string | null;
}

interface Entry {
  id: CustomId;
  customId: string;
  answer?: Answer;
  errors: BatchErrorLine[];
}

const REASON_CHARS = 300;
const short = (text: string) => (text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS)}...` : text);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An `error` field in words: OpenAI's {code, message}, vLLM's string, or whatever JSON it is. */
function errorReason(error: unknown): string {
  if (typeof error === 'string') return short(error);
  if (isObject(error) && (typeof error.message === 'string' || typeof error.code === 'string'))
    return short([error.code, error.message].filter((x) => typeof x === 'string').join(': '));
  return short(JSON.stringify(error));
}

/** A response with a status other than 200 in words: the status and the body's error message when it has one. */
function statusReason(status: number, body: unknown): string {
  const err = isObject(body) ? body.error : undefined;
  const detail = err === undefined || err === null ? '' : `: ${errorReason(err)}`;
  return `HTTP ${status}${detail}`;
}

/**
 * Reads result lines (from any number of files, in any order) against the requests a batch of these options
 * writes, then stores the answers in one transaction, as the live judge stores them. A line that is no result
 * line, or whose custom_id names no request of this dataset and annotator, is an InputError naming file, line
 * and field, and nothing is stored. A failed request, or an answer the judge cannot read, is listed, not stored.
 */
export async function importBatchResults(
  store: Store,
  o: BatchImportOptions,
  records: AsyncIterable<BatchResultRecord>,
  files: string[],
): Promise<BatchImportSummary> {
  const dataset = await store.requireDataset(o.dataset);
  const list = o.principles !== undefined ? await store.requirePrincipleList(o.principles) : undefined;
  const pairRowIds = await store.pairRowIds(dataset.id);
  const scope = batchScope(dataset, o.annotator, list);
  const whose = `dataset "${dataset.name}" and annotator "${o.annotator}"${list ? ` with principle list "${list.name}@${list.version}"` : ''}`;

  const entries = new Map<string, Entry>();
  const lines = new Map<string, number>(files.map((f) => [f, 0]));
  let version: { value: string; file: string; line: number } | undefined;
  let results = 0;
  let duplicates = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let model: string | null = null;

  for await (const { file, line, record } of records) {
    results++;
    lines.set(file, (lines.get(file) ?? 0) + 1);
    const bad = (field: string | null, problem: string, option?: 'principles') =>
      new InputError(file, line, field, problem, option);
    if (!('response' in record) && !('error' in record) && 'body' in record && 'url' in record)
      throw bad(
        null,
        'this is a request line of a batch input file, not a result line: submit the file to a batch endpoint and import the output file it returns',
      );
    const customId = record.custom_id;
    if (typeof customId !== 'string')
      throw bad('custom_id', customId === undefined ? 'missing (a batch result line has one)' : 'expected text');
    const id = parseCustomId(customId);
    if (!id)
      throw bad(
        'custom_id',
        `${JSON.stringify(short(customId))} is not the custom_id of a judge request written by this workbench (dw1-...)`,
      );
    if (id.principle !== undefined && !list)
      throw bad(
        'custom_id',
        `${customId} is an oracle's request (it names principle ${id.principle}): name the principle list it was asked with`,
        'principles',
      );
    if (id.principle === undefined && list)
      throw bad(
        'custom_id',
        `${customId} is a judge's request (it names no principle), not an oracle's: leave the principle list out`,
        'principles',
      );
    const asked =
      id.scope === scope &&
      pairRowIds.has(id.pairIdx) &&
      (id.principle === undefined ||
        (id.principle < list!.principles.length && id.order === oracleOrder(id.pairIdx, id.principle)));
    if (!asked)
      throw bad(
        'custom_id',
        `${customId} is not a request of ${whose}: it was written for another dataset, annotator or principle list`,
      );
    if (!version) version = { value: id.version, file, line };
    else if (id.version !== version.value)
      throw bad(
        'custom_id',
        `${customId} was asked with another model, prompt templates or settings (request version ${id.version}) than ${version.file}:${version.line} (${version.value}): these results mix two judge configurations, and an annotator holds the judgments of one; import the files of one configuration only`,
      );

    const response = record.response;
    const error = record.error;
    if (response !== undefined && response !== null && !isObject(response))
      throw bad('response', 'expected an object ({"status_code", "request_id", "body"}) or null');
    const failed = error !== undefined && error !== null;
    if (!failed && !isObject(response)) throw bad('response', 'missing: a result line has a response or an error');
    let status: number | undefined;
    if (isObject(response)) {
      status = response.status_code as number;
      if (!Number.isInteger(status)) throw bad('response.status_code', 'expected an HTTP status code (a whole number)');
    }

    const key = `${id.pairIdx}:${id.principle ?? ''}:${id.order}`;
    let entry = entries.get(key);
    if (!entry) entries.set(key, (entry = { id, customId, errors: [] }));
    let reason: string | undefined;
    if (failed) reason = errorReason(error);
    else if (status !== 200) reason = statusReason(status!, (response as Record<string, unknown>).body);
    else {
      const body = (response as Record<string, unknown>).body;
      const answer = parseChatAnswer(body);
      promptTokens += answer.usage.promptTokens;
      completionTokens += answer.usage.completionTokens;
      if (!answer.ok) reason = answer.problem;
      else if (entry.answer) duplicates++;
      else {
        const named = isObject(body) && typeof body.model === 'string' ? body.model : null;
        model ??= named;
        entry.answer = { probs: answer.probs, model: named };
      }
    }
    if (reason !== undefined) entry.errors.push({ file, line, customId, reason });
  }

  // What the annotator has already (a re-import stores nothing twice).
  const kind = list ? 'oracle' : 'llm-judge';
  const existing = await judgeAnnotator(store, o.annotator, kind);
  if (version)
    checkAnnotatorVersion(
      existing,
      version.value,
      'these results cannot be stored under it (their custom_ids name it); write and submit the batch again under another annotator name',
    );
  const { pairs: doneJudge, principles: doneOracle } = await storedUnits(store, dataset, list, existing);

  const summary: BatchImportSummary = {
    dataset: dataset.name,
    annotator: o.annotator,
    mode: list ? 'oracle' : 'judge',
    requestVersion: version?.value ?? null,
    model,
    files: files.map((file) => ({ file, lines: lines.get(file) ?? 0 })),
    results,
    stored: 0,
    alreadyStored: 0,
    missing: 0,
    errors: [],
    supersededErrors: [],
    duplicates,
    incomplete: [],
    promptTokens,
    completionTokens,
  };
  const overall: OverallPreference[] = [];
  const principle: PrinciplePreference[] = [];
  /** An entry's error lines go to the list of those that matter unless its request is answered after all. */
  const sortErrors = (e: Entry | undefined, answered: boolean) =>
    e && (answered ? summary.supersededErrors : summary.errors).push(...e.errors);

  if (list) {
    for (const e of entries.values()) {
      const done = doneOracle.has(`${e.id.pairIdx}:${e.id.principle}`);
      sortErrors(e, done || !!e.answer);
      if (done) summary.alreadyStored++;
      else if (e.answer)
        principle.push(
          principlePreferenceOf(
            { pairIdx: e.id.pairIdx, principle: e.id.principle!, order: e.id.order },
            e.answer.probs,
          ),
        );
    }
  } else {
    const pairs = new Map<number, [Entry | undefined, Entry | undefined]>();
    for (const e of entries.values()) {
      const both = pairs.get(e.id.pairIdx) ?? [undefined, undefined];
      both[e.id.order] = e;
      pairs.set(e.id.pairIdx, both);
    }
    for (const [pairIdx, [e0, e1]] of pairs) {
      const done = doneJudge.has(pairIdx);
      sortErrors(e0, done || !!e0?.answer);
      sortErrors(e1, done || !!e1?.answer);
      if (done) summary.alreadyStored++;
      else if (e0?.answer && e1?.answer) {
        const pref = overallPreferenceOf(pairIdx, e0.answer.probs, e1.answer.probs);
        if (pref.value === null) summary.missing++;
        overall.push(pref);
      } else if (e0?.answer || e1?.answer) {
        const other = (e0?.answer ? 1 : 0) as JudgeOrder;
        summary.incomplete.push({
          pairIdx,
          unanswered: customIdOf({ ...(e0 ?? e1)!.id, order: other }),
        });
      }
    }
  }
  const byPlace = (a: BatchErrorLine, b: BatchErrorLine) =>
    files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line;
  summary.errors.sort(byPlace);
  summary.supersededErrors.sort(byPlace);
  summary.incomplete.sort((a, b) => a.pairIdx - b.pairIdx);

  if (overall.length + principle.length > 0) {
    const provenance = {
      source: 'discretion import batch-results',
      mode: summary.mode,
      model,
      temperature: 0,
      max_tokens: 1,
      request_version: version!.value,
      batch_results: files.map((f) => basename(f)),
      ...(list ? { principle_list: `${list.name}@${list.version}` } : {}),
    };
    const pairRowIdOf = (pairIdx: number) => pairRowIds.get(pairIdx)!;
    // Answers another import or run stored meanwhile keep their rows (as a live run's concurrent flush does).
    const written = await store.write(async (tx) => {
      const annotator = await tx.ensureAnnotator(o.annotator, kind, provenance);
      if (list)
        return tx.insertPrinciplePreferences(annotator.id, principle, pairRowIdOf, await tx.principleRowIds(list.id), {
          existing: 'skip',
        });
      return tx.insertPreferences(annotator.id, overall, pairRowIdOf, { existing: 'skip' });
    });
    summary.stored = written;
    summary.alreadyStored += overall.length + principle.length - written;
  }
  return summary;
}
