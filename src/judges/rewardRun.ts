// `discretion judge reward`: a reward model served by an engine (vLLM, SGLang, TEI, Triton / KServe; engines/),
// reached as a client over one or more replicas (replicas.ts). Both responses of every pair not yet scored by the
// annotator are scored, and stored as `import rewards` stores a rewards file (importers/judgments.ts): an annotator of
// kind reward-model, the two raw scores, and the preference sign(r(y1) - r(y0)) (spec section 2; missing on a tie).
// - Each response is sent until one answer comes back, and never again: a batch that failed on one replica is re-sent
//   whole to another; an answer's scores are kept. Pairs are stored as they complete, one transaction per chunk of
//   pairs (or every 2 s), so a killed or cancelled run keeps them and the next run skips them (resumable).
// - An answer of the wrong shape, or a refusal (HTTP 4xx), stops the run with one line naming the URL; so does every
//   replica staying down. What was stored stays.
// - The first 16 scores all exactly 1 stop the run before anything is stored: a server that applies an activation to
//   a single label (a softmax) answers 1.0 for every input, which is no reward.
import { resolve } from 'node:path';
import { rewardPreference } from '../core/derive';
import { UsageError } from '../core/errors';
import type { OverallPreference } from '../core/types';
import type { Store, StoredPair } from '../store';
import { loadConversationEncoder } from './chatTemplate';
import {
  ENGINE_NAMES,
  EngineHttp,
  type EngineName,
  type ScoreItem,
  type Scored,
  type ConversationEncoder,
  createEngine,
  scoreItem,
} from './engines';
import { joinUrl } from './engines/shared';
import { ReplicaPool, splitUrlList } from './replicas';

export interface EngineJudgeOptions {
  engine: EngineName;
  /** One URL, or several replicas separated by commas: each the server's root (http://host:port). */
  urls: string;
  /** The model name the server knows (vLLM's served name, Triton's model name). */
  model: string;
  dataset: string;
  annotator: string;
  /** Folder with tokenizer.json and tokenizer_config.json (its chat_template): SGLang, TEI, KServe. */
  tokenizerDir?: string;
  /** The encoder itself (tests; a caller that loaded it); wins over tokenizerDir. */
  encoder?: ConversationEncoder;
  apiKey?: string;
  /** Requests in flight over all replicas (default 4 per URL). */
  concurrency?: number;
  /** Responses per request (vLLM: 1; SGLang 16, TEI 32 or the server's limit, KServe 8). */
  batchSize?: number;
  /** Pairs per transaction (default 64). */
  chunkPairs?: number;
  timeoutMs?: number;
  /** Re-sends of one request after faults that may be its own (5xx, 429, timeouts); default 8. */
  maxRetries?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Every replica down for this long ends the run (default 120 s). */
  giveUpAfterMs?: number;
  /** KServe: the binary tensor extension (default) or JSON numbers. */
  kserveBinary?: boolean;
  signal?: AbortSignal;
  /** Called after each chunk is stored. */
  onProgress?: (p: { done: number; total: number }) => void;
}

export interface EngineJudgeSummary {
  annotator: string;
  dataset: string;
  engine: EngineName;
  model: string;
  endpoint: string;
  replicas: { url: string; requests: number; answers: number; faults: number }[];
  /** Pairs scored and stored by this run. */
  scored: number;
  /** Pairs skipped because this annotator already had a preference on them. */
  alreadyScored: number;
  /** Pairs whose rewards tie (stored as missing). */
  ties: number;
  /** Responses cut to the model's length by this client (KServe). */
  truncatedInputs: number;
  requests: number;
  /** Requests re-sent after a replica's fault. */
  retries: number;
  concurrency: number;
  batchSize: number;
  seconds: number;
  pairsPerSecond: number;
  cancelled: boolean;
  transactions: 'one per chunk of pairs';
  chunkPairs: number;
}

export const REWARD_RUN_SOURCE = 'discretion judge reward';
const ACTIVATION_CHECK = 16;
const FLUSH_EVERY_MS = 2000;

/** The replica URLs of a list: http or https, no user name or password, no query, each once; without a trailing slash. */
export function parseEngineUrls(list: string): string[] {
  const parts = splitUrlList(list);
  if (parts.length === 0) throw new UsageError('no engine URL given (for example http://127.0.0.1:8000)', 'engineUrl');
  const seen = new Set<string>();
  return parts.map((raw) => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new UsageError(
        `the engine URL "${raw.slice(0, 200)}" is not a URL (for example http://127.0.0.1:8000)`,
        'engineUrl',
      );
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new UsageError(`the engine URL must be http or https, not ${u.protocol} (${u.host})`, 'engineUrl');
    if (u.username || u.password)
      throw new UsageError(
        `the engine URL must not carry a user name or password (${u.protocol}//***@${u.host}); give an API key in the environment instead`,
        'engineUrl',
      );
    if (u.search || u.hash)
      throw new UsageError(`the engine URL ${u.origin}${u.pathname} must not carry a query or a fragment`, 'engineUrl');
    const url = `${u.origin}${u.pathname}`.replace(/\/+$/, '');
    if (seen.has(url)) throw new UsageError(`the engine URL ${url} is given twice`, 'engineUrl');
    seen.add(url);
    return url;
  });
}

function positiveInteger(v: number, max: number, what: string, option: 'concurrency' | 'batchSize'): number {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new UsageError(`${what} must be an integer from 1 to ${max}, not ${v}`, option);
  return v;
}

/** One response waiting for its score. */
interface Text {
  pair: PairWork;
  which: 0 | 1;
}

interface PairWork {
  pair: StoredPair;
  scores: [number | undefined, number | undefined];
  truncated: [boolean, boolean];
}

export async function runEngineJudge(store: Store, o: EngineJudgeOptions): Promise<EngineJudgeSummary> {
  const started = performance.now();
  if (!ENGINE_NAMES.includes(o.engine))
    throw new UsageError(`the engine must be one of ${ENGINE_NAMES.join(', ')}, not "${String(o.engine)}"`, 'engine');
  const urls = parseEngineUrls(o.urls);
  const concurrency = positiveInteger(
    o.concurrency ?? 4 * urls.length,
    1024,
    'the number of concurrent requests',
    'concurrency',
  );
  if (o.batchSize !== undefined) positiveInteger(o.batchSize, 4096, 'the batch size', 'batchSize');
  const chunkPairs = o.chunkPairs ?? 64;
  if (!Number.isInteger(chunkPairs) || chunkPairs < 1)
    throw new UsageError(`the pairs per transaction must be a positive integer, not ${chunkPairs}`);
  if (o.engine === 'vllm' && (o.tokenizerDir || o.encoder))
    throw new UsageError(
      'vLLM applies the chat template on the server (POST /pooling with the messages): no tokenizer folder is used',
      'tokenizer',
    );
  let encoder = o.encoder;
  if (!encoder && o.tokenizerDir) {
    encoder = loadConversationEncoder(o.tokenizerDir);
    if (!encoder && o.engine !== 'tei')
      throw new UsageError(
        `the tokenizer folder ${o.tokenizerDir} has no chat_template (tokenizer_config.json); ${o.engine} needs the model's template`,
        'tokenizer',
      );
  }

  const dataset = await store.requireDataset(o.dataset);
  const existing = await store.getAnnotator(o.annotator);
  if (existing) {
    if (existing.kind !== 'reward-model')
      throw new UsageError(
        `annotator "${o.annotator}" already exists as a ${existing.kind}, not a reward-model; choose another annotator name`,
        'annotator',
      );
    const p = existing.provenance ?? {};
    if (p.source !== REWARD_RUN_SOURCE)
      throw new UsageError(
        `annotator "${o.annotator}" holds rewards from ${typeof p.source === 'string' ? p.source : 'another source'}, not from an engine; choose another annotator name`,
        'annotator',
      );
    if (p.model !== o.model || p.engine !== o.engine)
      throw new UsageError(
        `annotator "${o.annotator}" was scored with the model "${String(p.model)}" on ${String(p.engine)}, not "${o.model}" on ${o.engine}; choose another annotator name`,
        'annotator',
      );
  }

  const http = new EngineHttp({ timeoutMs: o.timeoutMs ?? 60_000, apiKey: o.apiKey, maxSockets: concurrency });
  const engine = createEngine(
    o.engine,
    { model: o.model, http, batchSize: o.batchSize, encoder },
    { kserveBinary: o.kserveBinary },
  );
  const done = existing ? await store.pairsWithPreference(dataset.id, existing.id) : new Set<number>();
  const total = await store.countPairs(dataset.id);
  const summary: EngineJudgeSummary = {
    annotator: o.annotator,
    dataset: o.dataset,
    engine: o.engine,
    model: o.model,
    endpoint: engine.endpoint,
    replicas: [],
    scored: 0,
    alreadyScored: done.size,
    ties: 0,
    truncatedInputs: 0,
    requests: 0,
    retries: 0,
    concurrency,
    batchSize: engine.batchLimit(),
    seconds: 0,
    pairsPerSecond: 0,
    cancelled: false,
    transactions: 'one per chunk of pairs',
    chunkPairs,
  };
  const provenance = {
    source: REWARD_RUN_SOURCE,
    engine: o.engine,
    endpoint: engine.endpoint,
    model: o.model,
    urls,
    raw_scores: true,
    chat_template:
      o.engine === 'vllm' ? 'applied by the server' : encoder ? 'applied by the client' : 'none: text pair',
    ...(o.tokenizerDir ? { tokenizer_dir: resolve(o.tokenizerDir) } : {}),
  };
  const finish = () => {
    summary.seconds = (performance.now() - started) / 1000;
    summary.pairsPerSecond = summary.seconds > 0 ? summary.scored / summary.seconds : 0;
    return summary;
  };
  if (done.size >= total) {
    http.close();
    return finish();
  }

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) stop.abort();
  const pool = new ReplicaPool(urls, {
    concurrency,
    maxAttempts: (o.maxRetries ?? 8) + 1,
    backoffMs: o.backoffMs ?? 1000,
    maxBackoffMs: o.maxBackoffMs ?? 30_000,
    giveUpAfterMs: o.giveUpAfterMs ?? 120_000,
    signal: stop.signal,
    onFault: () => summary.retries++,
  });

  // The pairs to score, read a page at a time as the requests need them.
  const queue: Text[] = [];
  let offset = 0;
  let loading: Promise<void> | undefined;
  const PAGE = 1000;
  const refill = async () => {
    while (queue.length === 0 && offset < total) {
      const page = await store.listPairs(dataset.id, offset, PAGE);
      offset += PAGE;
      for (const pair of page) {
        if (done.has(pair.idx)) continue;
        const w: PairWork = { pair, scores: [undefined, undefined], truncated: [false, false] };
        queue.push({ pair: w, which: 0 }, { pair: w, which: 1 });
      }
    }
  };
  const take = async (): Promise<Text[]> => {
    while (queue.length === 0 && offset < total) {
      loading ??= refill().finally(() => (loading = undefined));
      await loading;
    }
    return queue.splice(0, engine.batchLimit());
  };

  // Completed pairs, stored a chunk at a time; writes one after another.
  let annotatorId = existing?.id;
  const pending: OverallPreference[] = [];
  const pairRowIdOf = new Map<number, number>();
  let progress = done.size;
  let lastFlush = performance.now();
  let writing: Promise<void> = Promise.resolve();
  let failure: unknown;
  const fail = (e: unknown) => {
    // A cancel ends the run as cancelled: what fails because of it (requests cut off) is no failure.
    if (failure === undefined && o.signal?.aborted) return;
    failure ??= e;
    stop.abort();
  };
  const flush = () => {
    const prefs = pending.splice(0);
    lastFlush = performance.now();
    if (prefs.length === 0) return writing;
    writing = writing.then(async () => {
      // Another run for this annotator may have stored some of these pairs meanwhile: each keeps its first score.
      const written = await store.write(async (tx) => {
        annotatorId ??= (await tx.ensureAnnotator(o.annotator, 'reward-model', provenance)).id;
        return tx.insertPreferences(annotatorId, prefs, (pairIdx) => pairRowIdOf.get(pairIdx)!, { existing: 'skip' });
      });
      summary.scored += written;
      summary.alreadyScored += prefs.length - written;
      for (const p of prefs) pairRowIdOf.delete(p.pairIdx);
      progress += prefs.length;
      o.onProgress?.({ done: progress, total });
    });
    return writing;
  };

  // Scores seen so far, for the activation check (all exactly 1: a softmax over one label).
  let firstScores = 0;
  let allOne = true;
  let activationRefused = false;
  const checked = () => firstScores >= ACTIVATION_CHECK;
  const record = (texts: Text[], scores: Scored[], url: string) => {
    texts.forEach((t, i) => {
      const s = scores[i];
      t.pair.scores[t.which] = s.score;
      t.pair.truncated[t.which] = !!s.truncated;
      if (s.truncated) summary.truncatedInputs++;
      if (firstScores < ACTIVATION_CHECK) {
        firstScores++;
        allOne &&= s.score === 1;
        if (checked() && allOne) {
          activationRefused = true;
          throw new UsageError(
            `${url}: the first ${ACTIVATION_CHECK} scores are all exactly 1, which no reward model gives: ${engine.activationHint}`,
          );
        }
      }
      const w = t.pair;
      const [s0, s1] = w.scores;
      if (s0 === undefined || s1 === undefined) return;
      const value = rewardPreference(s1, s0);
      if (value === null) summary.ties++;
      const [t0, t1] = w.truncated;
      pairRowIdOf.set(w.pair.idx, w.pair.pairRowId);
      pending.push({
        pairIdx: w.pair.idx,
        value,
        scoreY0: s0,
        scoreY1: s1,
        raw: t0 || t1 ? { truncated_y0: t0, truncated_y1: t1 } : null,
      });
    });
    if (checked() && (pending.length >= chunkPairs || performance.now() - lastFlush >= FLUSH_EVERY_MS))
      flush().catch(fail);
  };

  const worker = async () => {
    while (!stop.signal.aborted) {
      const texts = await take();
      if (texts.length === 0 || stop.signal.aborted) return;
      const items: ScoreItem[] = texts.map((t) =>
        scoreItem(t.pair.pair.prompt, t.which ? t.pair.pair.y1 : t.pair.pair.y0),
      );
      let url = '';
      const scores = await pool.run((u, signal) => {
        url = joinUrl(u, engine.endpoint);
        return engine.score(u, items, signal);
      });
      if (scores.length !== texts.length) throw new Error(`${url}: ${scores.length} scores for ${texts.length} inputs`);
      record(texts, scores, url);
    }
  };

  try {
    if (!stop.signal.aborted) {
      await pool.checkAll((url, signal) => engine.ready(url, signal)).catch(fail);
      await Promise.all(Array.from({ length: concurrency }, () => worker().catch(fail)));
    }
    // What is complete is stored, after a failure or a cancel too (unless the activation check did not pass).
    if (!activationRefused) await flush().catch(fail);
    await writing.catch(fail);
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    pool.stop();
    http.close();
    summary.replicas = pool.replicas.map((r) => ({
      url: r.url,
      requests: r.requests,
      answers: r.answers,
      faults: r.faults,
    }));
    summary.requests = pool.replicas.reduce((n, r) => n + r.requests, 0);
  }
  summary.batchSize = engine.batchLimit();
  if (failure !== undefined) {
    if (!(failure instanceof UsageError)) throw failure;
    const kept =
      summary.scored > 0
        ? `the ${summary.scored} pair(s) this run stored are kept: run the same command again to resume`
        : 'nothing was stored';
    throw new UsageError(`${failure.message}; ${kept}`, failure.option);
  }
  summary.cancelled = !!o.signal?.aborted;
  if (!summary.cancelled && existing)
    await store.write(async (tx) => {
      await tx.ensureAnnotator(o.annotator, 'reward-model', provenance);
    });
  return finish();
}
