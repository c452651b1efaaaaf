// LLM judges over an OpenAI-compatible Chat Completions endpoint (vLLM, SGLang, Ollama, llama.cpp's
// server, hosted APIs). One token is generated; P(A), P(B), P(NA) come from its top_logprobs (0 when
// a token is absent) and become preferences through src/core/derive.ts (spec section 2).
// - judge mode: each pair asked in both orders -> overall preference of an "llm-judge" annotator;
// - oracle mode: each pair x principle asked once -> principle-specific preferences of an "oracle".
// Bounded concurrency, per-request timeout, retries with exponential backoff on 429/5xx, network
// errors and malformed JSON, honouring Retry-After. Resumable. Writes one transaction per batch of
// up to `flushEvery` completed units. The API key is sent as a Bearer header to the base URL's origin
// only (no redirects followed), never stored or logged, and cut out of any error text (a server may echo
// it); a base URL carrying a user name or password is refused. Answers are size-capped and their
// probabilities validated like the CSV importer's (each in [0, 1]).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ABProbabilities,
  type JudgeOrder,
  oraclePreference,
  orderOfShownFirst,
  shownFirstOfOrder,
  twoOrderJudgePreference,
} from '../core/derive';
import { InputError, UsageError } from '../core/errors';
import type { OverallPreference, PrinciplePreference } from '../core/types';
import { type AnnotatorRow, type DatasetRow, type PrincipleListRow, StoreBusyError, type Store } from '../store';
import { ReplicaFault, ReplicaPool, parseRetryAfter, splitUrlList } from './replicas';

export interface LlmJudgeOptions {
  dataset: string;
  baseUrl: string;
  model: string;
  annotator: string;
  apiKey?: string;
  /** Oracle mode: a principle list (name or name@version). */
  oracle?: boolean;
  principles?: string;
  promptDir: string;
  concurrency?: number;
  timeoutMs?: number;
  maxRetries?: number;
  /** First backoff delay; doubles per attempt (Retry-After wins when the server sends it). */
  backoffMs?: number;
  maxBackoffMs?: number;
  topLogprobs?: number;
  /** Prices per million tokens, for the cost estimate. */
  pricePerMInput?: number;
  pricePerMOutput?: number;
  flushEvery?: number;
  /** Largest answer body read (bytes); a one-token answer with top_logprobs is a few KB. Default 4 MiB. */
  maxResponseBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: { done: number; total: number }) => void;
  /** Where answers that could not be stored (the database stayed locked) are saved for import; default: the working folder. */
  rescueDir?: string;
}

export interface LlmJudgeSummary {
  annotator: string;
  dataset: string;
  mode: 'judge' | 'oracle';
  requests: number;
  retries: number;
  /** Units stored by this run: pairs (judge) or pair x principle (oracle). */
  stored: number;
  alreadyStored: number;
  missing: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
  seconds: number;
  cancelled: boolean;
}

export interface Templates {
  system: string;
  judge: string;
  oracle: string;
  hashes: Record<string, string>;
}

export function loadTemplates(dir: string): Templates {
  // Read as their LF text, byte order mark dropped: a template saved with Windows line ends (or by an editor
  // that writes a BOM) asks the model the same question, and gets the same hash, as its LF twin.
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8')
        .replace(/^\uFEFF/, '')
        .replace(/\r\n/g, '\n');
    } catch (e) {
      throw new InputError(
        join(dir, f),
        null,
        null,
        `cannot read prompt template: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  };
  const t = { system: read('system.txt'), judge: read('judge.txt'), oracle: read('oracle.txt') };
  for (const [f, need] of [
    ['judge.txt', ['prompt', 'response_a', 'response_b']],
    ['oracle.txt', ['prompt', 'response_a', 'response_b', 'principle']],
  ] as const) {
    const text = f === 'judge.txt' ? t.judge : t.oracle;
    for (const p of need)
      if (!text.includes(`{{${p}}}`))
        throw new InputError(join(dir, f), null, null, `prompt template lacks the placeholder {{${p}}}`);
  }
  const hashes = Object.fromEntries(
    Object.entries(t).map(([k, v]) => [`${k}.txt`, createHash('sha256').update(v).digest('hex')]),
  );
  return { ...t, hashes };
}

function fill(template: string, values: Record<string, string>): string {
  // One pass, so that a placeholder inside a response is never expanded.
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in values ? values[k] : m));
}

/** P(A), P(B), P(NA) from the first generated token's top_logprobs (tokens trimmed, case-folded). */
export function abProbabilities(topLogprobs: { token: string; logprob: number }[]): ABProbabilities {
  const p = { A: 0, B: 0, NA: 0 };
  for (const t of topLogprobs) {
    const k = t.token.trim().toUpperCase();
    if ((k === 'A' || k === 'B' || k === 'NA') && Number.isFinite(t.logprob)) p[k] += Math.exp(t.logprob);
  }
  return { pA: p.A, pB: p.B, pNA: p.NA };
}

/**
 * The Chat Completions request the judge sends for one question: one token, greedy, with the
 * top_logprobs the probabilities are read from. The live client posts it; a batch file carries it as
 * each line's body (batchFiles.ts), so both ask exactly the same.
 */
export function chatRequestBody(model: string, system: string, user: string, topLogprobs: number) {
  return {
    model,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ],
    max_tokens: 1,
    temperature: 0,
    logprobs: true,
    top_logprobs: topLogprobs,
  };
}

/** A chat completion read as a judge's answer: P(A), P(B), P(NA), or what is wrong with it (no location: the caller adds it). */
export type ChatAnswer = (
  { ok: true; probs: ABProbabilities; token: string | null } | { ok: false; problem: string }
) & { usage: { promptTokens: number; completionTokens: number } };

type TopLogprob = { token: string; logprob: number };
const isTopLogprob = (t: unknown): t is TopLogprob =>
  typeof t === 'object' &&
  t !== null &&
  typeof (t as TopLogprob).token === 'string' &&
  typeof (t as TopLogprob).logprob === 'number';

/**
 * Reads a Chat Completions answer (the parsed JSON body) as the judge does: the first generated token's
 * top_logprobs give P(A), P(B), P(NA), the sampled token counted when the server leaves it out, each
 * validated as the CSV importer validates prob_A, prob_B, prob_NA. Usage is read whatever the verdict.
 */
export function parseChatAnswer(body: unknown): ChatAnswer {
  const b = (typeof body === 'object' && body !== null ? body : {}) as {
    choices?: { logprobs?: { content?: { token: unknown; logprob: unknown; top_logprobs?: unknown }[] } }[];
    usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
  };
  const usage = {
    promptTokens: typeof b.usage?.prompt_tokens === 'number' ? b.usage.prompt_tokens : 0,
    completionTokens: typeof b.usage?.completion_tokens === 'number' ? b.usage.completion_tokens : 0,
  };
  const fail = (problem: string): ChatAnswer => ({ ok: false, problem, usage });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return fail('the answer is not a JSON object');
  const first = Array.isArray(b.choices) ? b.choices[0]?.logprobs?.content?.[0] : undefined;
  if (!first || !Array.isArray(first.top_logprobs))
    return fail(
      'the answer has no choices[0].logprobs.content[0].top_logprobs; the server or model must support "logprobs" and "top_logprobs"',
    );
  const tops: unknown[] = first.top_logprobs;
  if (!isTopLogprob(first) || !tops.every(isTopLogprob))
    return fail(
      'the answer\'s choices[0].logprobs.content[0] has entries that are not {"token": text, "logprob": number}',
    );
  // The sampled token itself counts when the server leaves it out of top_logprobs.
  const all = tops.some((t) => t.token === first.token)
    ? tops
    : [...tops, { token: first.token, logprob: first.logprob }];
  const probs = abProbabilities(all);
  // Validated as the CSV importer validates prob_A, prob_B, prob_NA: a logprob above 0 is no probability.
  for (const [name, p] of [
    ['A', probs.pA],
    ['B', probs.pB],
    ['NA', probs.pNA],
  ] as const) {
    if (!(p >= 0 && p <= 1 + 1e-9))
      return fail(
        `the answer gives "${name}" the probability ${p}, outside [0, 1] (from its top_logprobs); the server's logprobs are not log-probabilities`,
      );
  }
  if (probs.pA + probs.pB + probs.pNA > 1 + 1e-6)
    return fail(
      `the answer's probabilities of A, B and NA add up to ${probs.pA + probs.pB + probs.pNA}, more than 1 (from its top_logprobs)`,
    );
  return { ok: true, probs, token: first.token, usage };
}

/** A fault the request is re-sent after, on another replica or here after a rest (replicas.ts). */
class Retryable extends ReplicaFault {}

export { parseRetryAfter };

export interface ChatClientOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
  backoffMs: number;
  maxBackoffMs: number;
  topLogprobs: number;
  maxResponseBytes?: number;
  /** Every replica resting and none answered for this long: the run ends (default 120 s). */
  giveUpAfterMs?: number;
}

export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * The endpoint's URL, checked: http or https, no user name or password in it (they would be printed and
 * stored; the key goes in $DISCRETION_API_KEY or VS Code's secret storage). Errors never repeat the URL.
 */
export function parseEndpoint(baseUrl: string): URL {
  let u: URL;
  try {
    u = new URL(baseUrl);
  } catch {
    throw new UsageError("the endpoint's base URL is not a URL (for example http://127.0.0.1:8000/v1)", 'baseUrl');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new UsageError(`the endpoint's base URL must be http or https, not ${u.protocol}`, 'baseUrl');
  if (u.username || u.password)
    throw new UsageError(
      `the endpoint's base URL must not carry a user name or password (${u.protocol}//***@${u.host}); give the API key in $DISCRETION_API_KEY`,
      'baseUrl',
    );
  return u;
}

/** Text with every occurrence of the secrets replaced (a server may echo the key back in an error body). */
export function redactSecrets(text: string, secrets: (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/** The body as text, refused once it passes `max` bytes (checked against Content-Length first, then while reading). */
async function readCapped(res: Response, max: number, url: string): Promise<string> {
  const tooLarge = () =>
    new UsageError(
      `${url}: the answer is larger than ${max} bytes; a one-token judge answer is a few KB (is this the right endpoint?)`,
    );
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * One chat request, spread over the endpoint's replicas (a base URL, or several separated by commas): the replica
 * with the fewest requests in flight takes it; on a 429, a 5xx, a timeout, a malformed answer or a lost connection
 * the replica is rested (Retry-After, else a backoff) and the request re-sent, elsewhere when another replica is up
 * (replicas.ts). A request is answered once: each pair and order is judged exactly once. Counts retries and usage
 * into `stats`.
 */
export class ChatClient {
  /** The chat completions URL of each replica. */
  readonly urls: string[];
  private readonly pool: ReplicaPool;
  private readonly linked = new WeakSet<AbortSignal>();
  constructor(
    readonly o: ChatClientOptions,
    readonly stats = { requests: 0, retries: 0, promptTokens: 0, completionTokens: 0 },
  ) {
    const bases = splitUrlList(o.baseUrl);
    if (bases.length === 0) parseEndpoint(o.baseUrl);
    this.urls = bases.map((b) => {
      parseEndpoint(b);
      return b.replace(/\/+$/, '') + '/chat/completions';
    });
    const twice = this.urls.find((u, i) => this.urls.indexOf(u) !== i);
    if (twice) throw new UsageError(`the endpoint ${twice} is given twice`, 'baseUrl');
    this.pool = new ReplicaPool(this.urls, {
      maxAttempts: o.maxRetries + 1,
      backoffMs: o.backoffMs,
      maxBackoffMs: o.maxBackoffMs,
      giveUpAfterMs: o.giveUpAfterMs,
      onFault: () => this.stats.retries++,
    });
  }

  /** Error text fit to print: the key cut out wherever the server echoed it. */
  private clean(text: string): string {
    return redactSecrets(text, [this.o.apiKey]);
  }

  /** `signal` ends the run: its abort stops every request of this client. */
  async ask(
    system: string,
    user: string,
    signal?: AbortSignal,
  ): Promise<{ probs: ABProbabilities; token: string | null }> {
    if (signal && !this.linked.has(signal)) {
      this.linked.add(signal);
      if (signal.aborted) this.pool.stop(signal.reason);
      else signal.addEventListener('abort', () => this.pool.stop(signal.reason), { once: true });
    }
    return this.pool.run((url, stop) => this.once(url, system, user, stop));
  }

  private async once(url: string, system: string, user: string, signal: AbortSignal) {
    this.stats.requests++;
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}),
        },
        body: JSON.stringify(chatRequestBody(this.o.model, system, user, this.o.topLogprobs)),
        signal: combined,
        // A redirect would carry the key to wherever it points: not followed (refused below).
        redirect: 'manual',
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new UsageError(
          `${url}: HTTP ${res.status}: the endpoint redirects${res.headers.get('location') ? ` to ${this.clean(res.headers.get('location')!).slice(0, 200)}` : ''}; give the final URL as the base URL (the API key is never sent along a redirect)`,
        );
      }
      text = await readCapped(res, this.o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, url);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      if (signal.aborted) throw e;
      if (timeout.aborted) throw new Retryable(`no answer within ${this.o.timeoutMs} ms`);
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      // Not counted against the request: a lost connection says the replica is down, not that the request is bad.
      throw new Retryable(
        `connection failed (${this.clean(String(cause?.code ?? cause?.message ?? (e as Error).message))})`,
        undefined,
        false,
      );
    }
    if (res.status === 429 || res.status >= 500)
      throw new Retryable(`HTTP ${res.status}`, parseRetryAfter(res.headers.get('retry-after')));
    if (!res.ok)
      throw new UsageError(`${url}: HTTP ${res.status}: ${this.clean(text).slice(0, 200).replace(/\s+/g, ' ')}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Retryable('the answer is not valid JSON');
    }
    const answer = parseChatAnswer(body);
    this.stats.promptTokens += answer.usage.promptTokens;
    this.stats.completionTokens += answer.usage.completionTokens;
    if (!answer.ok) throw new UsageError(`${url}: ${answer.problem}`);
    return { probs: answer.probs, token: answer.token };
  }
}

/** One question of a run: a pair in one order (judge), or a pair under one principle (oracle). */
export interface JudgeUnit {
  pairIdx: number;
  pairRowId: number;
  principle?: number;
  order: JudgeOrder;
  prompt: string;
  y0: string;
  y1: string;
}

/** What a run asks, decided from the store before any question: the mode, and every unit not yet stored. */
export interface JudgePlan {
  mode: 'judge' | 'oracle';
  kind: 'llm-judge' | 'oracle';
  dataset: DatasetRow;
  list?: PrincipleListRow;
  existing?: AnnotatorRow;
  units: JudgeUnit[];
  /** Units stored before this run (a resume). */
  alreadyStored: number;
  /** Units of the whole dataset: pairs (judge) or pair x principle (oracle). */
  unitTotal: number;
}

/** The annotator a judge's answers are stored under, when it exists; refused when it is of another kind. */
export async function judgeAnnotator(
  store: Store,
  name: string,
  kind: 'llm-judge' | 'oracle',
): Promise<AnnotatorRow | undefined> {
  const existing = await store.getAnnotator(name);
  if (existing && existing.kind !== kind)
    throw new UsageError(
      `annotator "${name}" already exists as a ${existing.kind}, not a ${kind}; choose another annotator name`,
      'annotator',
    );
  return existing;
}

/** What the annotator has stored on the dataset: pairs (judge), or `pairIdx:position` (oracle, of this list). */
export async function storedUnits(
  store: Store,
  dataset: DatasetRow,
  list: PrincipleListRow | undefined,
  annotator: AnnotatorRow | undefined,
): Promise<{ pairs: Set<number>; principles: Set<string> }> {
  const pairs = annotator && !list ? await store.pairsWithPreference(dataset.id, annotator.id) : new Set<number>();
  const principles = new Set<string>();
  if (annotator && list)
    for (const r of await store.principlePreferences(dataset.id, list.id))
      if (r.annotatorId === annotator.id) principles.add(`${r.pairIdx}:${r.position}`);
  return { pairs, principles };
}

/** A judge takes no principle list, an oracle needs one. */
export function checkJudgeMode(o: { oracle?: boolean; principles?: string }): void {
  if (o.oracle && !o.principles)
    throw new UsageError('an oracle needs a principle list (the principle list to judge against)', 'principles');
  if (!o.oracle && o.principles)
    throw new UsageError('a principle list is only used by an oracle, not by a judge', 'principles');
}

/**
 * The units a run asks (the live run and a batch file alike): each pair in both orders (judge), or each
 * pair under each principle in one order, alternating (oracle); what the annotator already has is left out.
 */
export async function planJudgeRun(
  store: Store,
  o: { dataset: string; annotator: string; oracle?: boolean; principles?: string },
): Promise<JudgePlan> {
  checkJudgeMode(o);
  const dataset = await store.requireDataset(o.dataset);
  const list = o.oracle ? await store.requirePrincipleList(o.principles!) : undefined;
  const kind = o.oracle ? 'oracle' : 'llm-judge';
  const existing = await judgeAnnotator(store, o.annotator, kind);
  // What is already stored (resume).
  const { pairs: doneJudge, principles: doneOracle } = await storedUnits(store, dataset, list, existing);

  const total = await store.countPairs(dataset.id);
  const units: JudgeUnit[] = [];
  let alreadyStored = 0;
  for (let offset = 0; offset < total; offset += 1000) {
    for (const p of await store.listPairs(dataset.id, offset, 1000)) {
      const base = { pairIdx: p.idx, pairRowId: p.pairRowId, prompt: p.prompt, y0: p.y0, y1: p.y1 };
      if (!list) {
        if (doneJudge.has(p.idx)) {
          alreadyStored++;
          continue;
        }
        units.push({ ...base, order: 0 }, { ...base, order: 1 });
      } else {
        list.principles.forEach((_, k) => {
          if (doneOracle.has(`${p.idx}:${k}`)) {
            alreadyStored++;
            return;
          }
          units.push({ ...base, principle: k, order: oracleOrder(p.idx, k) });
        });
      }
    }
  }
  return {
    mode: o.oracle ? 'oracle' : 'judge',
    kind,
    dataset,
    list,
    existing,
    units,
    alreadyStored,
    unitTotal: list ? total * list.principles.length : total,
  };
}

/** The order an oracle asks pair `pairIdx` under principle `k` in: alternated, to spread position bias evenly (the order is stored). */
export const oracleOrder = (pairIdx: number, k: number): JudgeOrder => ((pairIdx + k) % 2) as JudgeOrder;

/** The user message of a unit: its template filled, the response shown first as A (order 0: A = y1). */
export function judgeQuestion(templates: Templates, list: PrincipleListRow | undefined, u: JudgeUnit): string {
  const [a, b] = u.order === 0 ? [u.y1, u.y0] : [u.y0, u.y1];
  return fill(u.principle !== undefined ? templates.oracle : templates.judge, {
    prompt: u.prompt,
    response_a: a,
    response_b: b,
    ...(u.principle !== undefined ? { principle: list!.principles[u.principle].text } : {}),
  });
}

/** An oracle's stored answer to one unit. */
export function principlePreferenceOf(
  u: { pairIdx: number; principle: number; order: JudgeOrder },
  probs: ABProbabilities,
): PrinciplePreference {
  return {
    pairIdx: u.pairIdx,
    principleIndex: u.principle,
    value: oraclePreference(probs, u.order),
    probA: probs.pA,
    probB: probs.pB,
    probNA: probs.pNA,
    shownFirst: shownFirstOfOrder(u.order),
  };
}

/** A judge's stored answer to one pair, from its two orders (spec section 2); the probabilities kept raw. */
export function overallPreferenceOf(
  pairIdx: number,
  order0: ABProbabilities,
  order1: ABProbabilities,
): OverallPreference {
  return { pairIdx, value: twoOrderJudgePreference(order0, order1), raw: { order0, order1 } };
}

/**
 * The prompt version of a judge's requests: a hash of everything besides the pair that shapes a request
 * (model, the three templates, top_logprobs and the fixed sampling settings). A run's provenance records
 * it, and a batch file's custom_ids carry it.
 */
export function requestVersion(v: {
  model: string;
  templatesSha256: Record<string, string>;
  topLogprobs: number;
}): string {
  const templates = Object.fromEntries(
    Object.entries(v.templatesSha256).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
  );
  return createHash('sha256')
    .update(JSON.stringify({ model: v.model, templates, top_logprobs: v.topLogprobs, temperature: 0, max_tokens: 1 }))
    .digest('hex')
    .slice(0, 12);
}

export async function runLlmJudge(store: Store, o: LlmJudgeOptions): Promise<LlmJudgeSummary> {
  const started = performance.now();
  const mode = o.oracle ? 'oracle' : 'judge';
  const concurrency = o.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
    throw new UsageError(
      `the number of concurrent requests must be an integer from 1 to 256, not ${concurrency}`,
      'concurrency',
    );
  checkJudgeMode(o);
  const templates = loadTemplates(o.promptDir);
  const client = new ChatClient({
    baseUrl: o.baseUrl,
    model: o.model,
    apiKey: o.apiKey,
    timeoutMs: o.timeoutMs ?? 60_000,
    maxRetries: o.maxRetries ?? 5,
    backoffMs: o.backoffMs ?? 1000,
    maxBackoffMs: o.maxBackoffMs ?? 30_000,
    topLogprobs: o.topLogprobs ?? 20,
    maxResponseBytes: o.maxResponseBytes,
  });
  const plan = await planJudgeRun(store, o);
  const { list, existing, kind, units, alreadyStored, unitTotal } = plan;
  const provenance = {
    source: 'discretion judge llm',
    mode,
    base_url: o.baseUrl,
    model: o.model,
    temperature: 0,
    max_tokens: 1,
    top_logprobs: client.o.topLogprobs,
    prompt_templates_sha256: templates.hashes,
    request_version: requestVersion({
      model: o.model,
      templatesSha256: templates.hashes,
      topLogprobs: client.o.topLogprobs,
    }),
    ...(list ? { principle_list: `${list.name}@${list.version}` } : {}),
  };

  const summary: LlmJudgeSummary = {
    annotator: o.annotator,
    dataset: o.dataset,
    mode,
    requests: 0,
    retries: 0,
    stored: 0,
    alreadyStored,
    missing: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: null,
    seconds: 0,
    cancelled: false,
  };

  const principleRowIds = list ? await store.principleRowIds(list.id) : [];
  let annotatorId = existing?.id;
  const pendingOverall: OverallPreference[] = [];
  const pendingPrinciple: PrinciplePreference[] = [];
  const pairRowIdOf = new Map<number, number>();
  const halves = new Map<number, { 0?: ABProbabilities; 1?: ABProbabilities }>();
  const flushEvery = o.flushEvery ?? 32;
  let done = alreadyStored;
  o.onProgress?.({ done, total: unitTotal });
  let writing: Promise<void> = Promise.resolve();
  /** Set while the last write found the database locked for longer than the store waits. */
  let busy: StoreBusyError | undefined;
  const flush = () => {
    const over = pendingOverall.splice(0),
      princ = pendingPrinciple.splice(0);
    if (over.length === 0 && princ.length === 0) return writing;
    // A pair another run for this annotator stored meanwhile (two runs at once) keeps that answer.
    writing = writing
      .then(() =>
        store
          .write(async (tx) => {
            const id = annotatorId ?? (await tx.ensureAnnotator(o.annotator, kind, provenance)).id;
            let written = 0;
            if (over.length)
              written += await tx.insertPreferences(id, over, (pairIdx) => pairRowIdOf.get(pairIdx)!, {
                existing: 'skip',
              });
            if (princ.length)
              written += await tx.insertPrinciplePreferences(
                id,
                princ,
                (pairIdx) => pairRowIdOf.get(pairIdx)!,
                principleRowIds,
                {
                  existing: 'skip',
                },
              );
            annotatorId = id;
            return written;
          })
          .catch((e: unknown) => {
            // Paid answers are never dropped for a lock: they wait for the next flush (the last one saves them to a file).
            if (!(e instanceof StoreBusyError)) throw e;
            pendingOverall.unshift(...over);
            pendingPrinciple.unshift(...princ);
            busy = e;
            return -1;
          }),
      )
      .then((written) => {
        if (written < 0) return;
        busy = undefined;
        const n = over.length + princ.length;
        summary.stored += written;
        summary.alreadyStored += n - written;
        done += n;
        o.onProgress?.({ done, total: unitTotal });
      });
    return writing;
  };

  let failure: unknown;
  const inner = new AbortController();
  const complete = (u: JudgeUnit, probs: ABProbabilities) => {
    pairRowIdOf.set(u.pairIdx, u.pairRowId);
    if (u.principle !== undefined) {
      pendingPrinciple.push(principlePreferenceOf({ ...u, principle: u.principle }, probs));
    } else {
      const h = halves.get(u.pairIdx) ?? {};
      h[u.order] = probs;
      if (h[0] && h[1]) {
        halves.delete(u.pairIdx);
        const pref = overallPreferenceOf(u.pairIdx, h[0], h[1]);
        if (pref.value === null) summary.missing++;
        pendingOverall.push(pref);
      } else halves.set(u.pairIdx, h);
    }
    if (pendingOverall.length + pendingPrinciple.length >= flushEvery) {
      // A failed write stops the run (the final flush rethrows it); no unhandled rejection meanwhile.
      flush().catch((e) => {
        failure ??= e;
        inner.abort();
      });
    }
  };

  let next = 0;
  const onAbort = () => inner.abort();
  o.signal?.addEventListener('abort', onAbort);
  const workerLoop = async () => {
    while (!inner.signal.aborted && failure === undefined && next < units.length) {
      const u = units[next++];
      const user = judgeQuestion(templates, list, u);
      try {
        const r = await client.ask(templates.system, user, inner.signal);
        complete(u, r.probs);
      } catch (e) {
        if (inner.signal.aborted) return;
        failure ??= e;
        inner.abort(); // stop the other workers; what is complete is still stored below
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(units.length, 1)) }, workerLoop));
    await flush();
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    Object.assign(summary, {
      requests: client.stats.requests,
      retries: client.stats.retries,
      promptTokens: client.stats.promptTokens,
      completionTokens: client.stats.completionTokens,
    });
    if (o.pricePerMInput !== undefined || o.pricePerMOutput !== undefined) {
      summary.costUsd =
        (summary.promptTokens * (o.pricePerMInput ?? 0) + summary.completionTokens * (o.pricePerMOutput ?? 0)) / 1e6;
    }
    summary.seconds = (performance.now() - started) / 1000;
  }
  if (busy && (pendingOverall.length || pendingPrinciple.length)) {
    const file = saveUnstored(o, list ? 'oracle' : 'judge', pendingOverall, pendingPrinciple);
    const n = pendingOverall.length + pendingPrinciple.length;
    throw new UnstoredAnswersError(busy.message, n, {
      file,
      format: list ? 'oracle' : 'judge',
      dataset: o.dataset,
      annotator: o.annotator,
      principles: o.principles,
    });
  }
  if (failure !== undefined) throw failure;
  summary.cancelled = !!o.signal?.aborted;
  if (!summary.cancelled && existing)
    await store.write(async (tx) => {
      await tx.ensureAnnotator(o.annotator, kind, provenance);
    });
  return summary;
}

/** How answers saved to a file are imported later (the same arguments as the run), for the front end to phrase. */
export interface UnstoredAnswers {
  file: string;
  format: 'judge' | 'oracle';
  dataset: string;
  annotator: string;
  principles?: string;
}

/** The database stayed locked: the answers paid for were saved to a file instead (`unstored`), for a later import. */
export class UnstoredAnswersError extends UsageError {
  constructor(
    busyMessage: string,
    n: number,
    readonly unstored: UnstoredAnswers,
  ) {
    const what = `${unstored.format === 'oracle' ? 'oracle' : 'judge'} answers of annotator "${unstored.annotator}" on dataset "${unstored.dataset}"${unstored.principles ? ` with principle list "${unstored.principles}"` : ''}`;
    super(
      `${busyMessage.replace(/; nothing was written.*$/, '')}; the ${n} answer${n === 1 ? '' : 's'} not yet stored ${n === 1 ? 'was' : 'were'} saved to ${unstored.file}: store ${n === 1 ? 'it' : 'them'} later by importing that file as ${what} (or run this judge again: it resumes)`,
    );
    this.name = 'UnstoredAnswersError';
  }
}

/**
 * Answers paid for but not stored (the database stayed locked), as a file `discretion import judge` or
 * `import oracle` reads: one row per order with the probabilities asked (order 0: A is y1).
 */
function saveUnstored(
  o: LlmJudgeOptions,
  format: 'judge' | 'oracle',
  overall: OverallPreference[],
  principles: PrinciplePreference[],
): string {
  const safe = o.annotator.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60) || 'judge';
  const file = join(
    o.rescueDir ?? process.cwd(),
    `discretion-unsaved-${safe}-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`,
  );
  const lines: string[] = [];
  if (format === 'judge') {
    lines.push('row_id,order,prob_A,prob_B,prob_NA');
    for (const p of overall) {
      const raw = p.raw as { order0: ABProbabilities; order1: ABProbabilities };
      for (const [order, q] of [
        [0, raw.order0],
        [1, raw.order1],
      ] as const)
        lines.push(`${p.pairIdx},${order},${q.pA},${q.pB},${q.pNA}`);
    }
  } else {
    lines.push('row_id,principle_id,order,prob_A,prob_B,prob_NA');
    for (const p of principles)
      lines.push(
        `${p.pairIdx},${p.principleIndex},${orderOfShownFirst(p.shownFirst!)},${p.probA},${p.probB},${p.probNA}`,
      );
  }
  writeFileSync(file, lines.join('\n') + '\n', { flag: 'wx' });
  return file;
}
