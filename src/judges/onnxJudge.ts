// `discretion judge onnx` and the extension's "Run Model Judgments" on a model folder: scores y0 and
// y1 of every pair not yet scored by this annotator in a worker process, and stores rewards and the
// derived preference (spec section 2: sign(r(y1) - r(y0)), missing on a tie).
// Writes: one transaction per chunk of pairs (default 256); a cancelled or crashed run keeps the
// chunks already written, and the next run resumes after them.
// A model folder with a chat template scores the conversation as its template renders it (scorer.ts);
// the summary and the annotator's provenance say which input the model was given.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { rewardPreference } from '../core/derive';
import { InputError, UsageError } from '../core/errors';
import type { OverallPreference } from '../core/types';
import type { Store } from '../store';
import { type Provider, type ProviderChoice, PROVIDER_CHOICES, hashModelFolder } from './modelFolder';
import {
  type FromWorker,
  type InitMessage,
  type ReadyMessage,
  ScoreItemError,
  type ScoresMessage,
  type ToWorker,
} from './workerProtocol';

export interface OnnxJudgeOptions {
  dataset: string;
  modelDir: string;
  annotator: string;
  provider?: ProviderChoice;
  batchSize?: number;
  threads?: number;
  /** Pairs per worker request and per transaction. */
  chunkPairs?: number;
  signal?: AbortSignal;
  /** Called after each chunk is stored. */
  onProgress?: (p: { done: number; total: number }) => void;
  /** Called once the worker has a session (which provider runs, what failed before it). */
  onReady?: (r: { provider: Provider; attempts: { provider: Provider; error: string }[] }) => void;
  /** dist/judge-worker.js by default (next to the bundle that runs this). */
  workerPath?: string;
}

export interface OnnxJudgeSummary {
  annotator: string;
  dataset: string;
  provider: Provider | null;
  providerAttempts: { provider: Provider; error: string }[];
  /** Pairs scored and stored by this run. */
  scored: number;
  /** Pairs skipped because this annotator already had a preference on them. */
  alreadyScored: number;
  /** Pairs whose reward tie (stored as missing). */
  ties: number;
  /** Sequences (of 2 per pair) cut to the model's max length. */
  truncatedInputs: number;
  maxLength: number | null;
  batchSize: number | null;
  /** What the model was given: its chat template's rendering of the conversation, or the (prompt, response) text pair. */
  input: 'chat template' | 'text pair' | null;
  /** The file the chat template was read from (tokenizer_config.json or chat_template.jinja); null without one. */
  chatTemplateFile: string | null;
  seconds: number;
  pairsPerSecond: number;
  tokenizeMs: number;
  inferMs: number;
  cancelled: boolean;
  transactions: 'one per chunk of pairs';
  chunkPairs: number;
}

export function defaultWorkerPath(): string {
  return join(__dirname, 'judge-worker.js');
}

function workerErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1];
  return line ? `: ${line}` : '';
}

/** The worker process: one request at a time, answered in order. */
export class WorkerClient {
  private readonly child: ChildProcess;
  private pending: { resolve: (m: FromWorker) => void; reject: (e: Error) => void } | undefined;
  private exited: Error | undefined;

  constructor(workerPath: string) {
    if (!existsSync(workerPath))
      throw new UsageError(`the scoring worker ${workerPath} is missing; run "npm run build"`);
    this.child = fork(workerPath, [], {
      execArgv: [],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    this.child.on('message', (m: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(m);
    });
    // A message sent to a worker that was just killed (a cancelled run) fails with EPIPE: that rejects the
    // request in flight; without a listener it would be an uncaught error in the CLI or the extension host.
    this.child.on('error', (e) => this.fail(new Error(`the model worker process failed: ${e.message}`)));
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(
        `the model worker process ended (${signal ? `signal ${signal}` : `exit code ${code}`})${workerErrorLine(stderr)}`,
      );
      const p = this.pending;
      this.pending = undefined;
      p?.reject(this.exited);
    });
  }

  private request(m: ToWorker): Promise<FromWorker> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.child.send(m, (e) => {
        if (e) this.fail(new Error(`the model worker process failed: ${e.message}`));
      });
    });
  }

  private fail(e: Error): void {
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  private static unwrap<T extends FromWorker>(m: FromWorker): T {
    if (m.type !== 'error') return m as T;
    if (m.kind === 'InputError') {
      const e = new InputError(m.file!, m.line ?? null, m.field ?? null, m.problem!, m.option);
      throw m.item === undefined ? e : new ScoreItemError(m.item, e);
    }
    if (m.kind === 'UsageError') throw new UsageError(m.message, m.option);
    throw new Error(m.message);
  }

  async init(m: Omit<InitMessage, 'type'>): Promise<ReadyMessage> {
    return WorkerClient.unwrap<ReadyMessage>(await this.request({ type: 'init', ...m }));
  }

  async score(id: number, items: { prompt: string; response: string }[]): Promise<ScoresMessage> {
    return WorkerClient.unwrap<ScoresMessage>(await this.request({ type: 'score', id, items }));
  }

  /** Immediate stop (cancellation): the request in flight is dropped. */
  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  async close(): Promise<void> {
    if (this.exited) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
      }, 5000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      try {
        this.child.send({ type: 'exit' }, (e) => {
          if (e) this.child.kill('SIGKILL');
        });
      } catch {
        this.child.kill('SIGKILL');
      }
    });
  }
}

export async function runOnnxJudge(store: Store, o: OnnxJudgeOptions): Promise<OnnxJudgeSummary> {
  const started = performance.now();
  const provider = o.provider ?? 'auto';
  if (!PROVIDER_CHOICES.includes(provider))
    throw new UsageError(
      `the execution provider must be one of ${PROVIDER_CHOICES.join(', ')}, not "${provider}"`,
      'provider',
    );
  const chunkPairs = o.chunkPairs ?? 256;
  const modelDir = resolve(o.modelDir);
  const dataset = await store.requireDataset(o.dataset);
  const hash = hashModelFolder(modelDir); // checks the layout first
  const existing = await store.getAnnotator(o.annotator);
  if (existing && existing.kind !== 'reward-model')
    throw new UsageError(
      `annotator "${o.annotator}" already exists as a ${existing.kind}, not a reward-model; choose another annotator name`,
      'annotator',
    );
  const prevHash = existing?.provenance?.model_sha256;
  if (existing && prevHash && prevHash !== hash.sha256) {
    throw new UsageError(
      `annotator "${o.annotator}" was scored with a different model (sha256 ${String(prevHash).slice(0, 12)}..., this folder ${hash.sha256.slice(0, 12)}...); choose another annotator name`,
      'annotator',
    );
  }
  const done = existing ? await store.pairsWithPreference(dataset.id, existing.id) : new Set<number>();
  const total = await store.countPairs(dataset.id);
  const summary: OnnxJudgeSummary = {
    annotator: o.annotator,
    dataset: o.dataset,
    provider: null,
    providerAttempts: [],
    scored: 0,
    alreadyScored: done.size,
    ties: 0,
    truncatedInputs: 0,
    maxLength: null,
    batchSize: null,
    input: null,
    chatTemplateFile: null,
    seconds: 0,
    pairsPerSecond: 0,
    tokenizeMs: 0,
    inferMs: 0,
    cancelled: false,
    transactions: 'one per chunk of pairs',
    chunkPairs,
  };
  const finish = () => {
    summary.seconds = (performance.now() - started) / 1000;
    summary.pairsPerSecond = summary.seconds > 0 ? summary.scored / summary.seconds : 0;
    return summary;
  };
  if (done.size >= total) return finish();
  if (o.signal?.aborted) {
    summary.cancelled = true;
    return finish();
  }

  const worker = new WorkerClient(o.workerPath ?? defaultWorkerPath());
  const onAbort = () => worker.kill();
  o.signal?.addEventListener('abort', onAbort);
  try {
    const ready = await worker.init({ modelDir, provider, batchSize: o.batchSize, threads: o.threads });
    Object.assign(summary, {
      provider: ready.provider,
      providerAttempts: ready.attempts,
      maxLength: ready.maxLength,
      batchSize: ready.batchSize,
      input: ready.chatTemplate ? 'chat template' : 'text pair',
      chatTemplateFile: ready.chatTemplate?.file ?? null,
    });
    o.onReady?.({ provider: ready.provider, attempts: ready.attempts });
    const provenance = {
      source: 'discretion judge onnx',
      model_dir: modelDir,
      model_sha256: hash.sha256,
      model_files_sha256: hash.files,
      provider: ready.provider,
      provider_attempts: ready.attempts,
      max_length: ready.maxLength,
      truncation_side: ready.truncationSide,
      input: ready.chatTemplate ? 'chat template' : 'text pair',
      ...(ready.chatTemplate ? { chat_template_file: ready.chatTemplate.file } : {}),
    };
    let annotatorId = existing?.id;
    let progress = done.size;
    o.onProgress?.({ done: progress, total });
    let request = 0;
    const page = Math.max(chunkPairs, 1000);
    for (let offset = 0; offset < total; offset += page) {
      const rows = (await store.listPairs(dataset.id, offset, page)).filter((p) => !done.has(p.idx));
      for (let i = 0; i < rows.length; i += chunkPairs) {
        if (o.signal?.aborted) break;
        const chunk = rows.slice(i, i + chunkPairs);
        const items = chunk.flatMap((p) => [
          { prompt: p.prompt, response: p.y0 },
          { prompt: p.prompt, response: p.y1 },
        ]);
        let r: ScoresMessage;
        try {
          r = await worker.score(++request, items);
        } catch (e) {
          if (o.signal?.aborted) break;
          if (e instanceof ScoreItemError) {
            // The item is the response 2k (y0) or 2k + 1 (y1) of the chunk's pair k.
            const p = chunk[Math.floor(e.item / 2)];
            throw new InputError(
              e.file,
              e.line,
              e.field,
              `dataset "${o.dataset}" pair ${p.idx} (source id ${JSON.stringify(p.sourceId).slice(0, 60)}), response ${e.item % 2 === 0 ? 'y0' : 'y1'}: ${e.problem}`,
              e.option,
            );
          }
          throw e;
        }
        summary.tokenizeMs += r.tokenizeMs;
        summary.inferMs += r.inferMs;
        const prefs: OverallPreference[] = chunk.map((p, k) => {
          const s0 = r.scores[2 * k],
            s1 = r.scores[2 * k + 1];
          const t0 = r.truncated[2 * k],
            t1 = r.truncated[2 * k + 1];
          if (t0) summary.truncatedInputs++;
          if (t1) summary.truncatedInputs++;
          const value = rewardPreference(s1, s0);
          if (value === null) summary.ties++;
          return {
            pairIdx: p.idx,
            value,
            scoreY0: s0,
            scoreY1: s1,
            raw: t0 || t1 ? { truncated_y0: t0, truncated_y1: t1 } : null,
          };
        });
        const pairRowIds = new Map(chunk.map((p) => [p.idx, p.pairRowId]));
        // Another run for this annotator (started at the same time) may have stored some of these
        // pairs meanwhile: each pair keeps exactly one score, the first stored.
        const written = await store.write(async (tx) => {
          if (annotatorId === undefined) {
            const now = await tx.getAnnotator(o.annotator);
            const otherModel = now?.provenance?.model_sha256;
            if (otherModel && otherModel !== hash.sha256)
              throw new UsageError(
                `annotator "${o.annotator}" was scored with a different model meanwhile (sha256 ${String(otherModel).slice(0, 12)}...); choose another annotator name`,
                'annotator',
              );
            annotatorId = (await tx.ensureAnnotator(o.annotator, 'reward-model', provenance)).id;
          }
          return tx.insertPreferences(annotatorId, prefs, (pairIdx) => pairRowIds.get(pairIdx)!, { existing: 'skip' });
        });
        summary.scored += written;
        summary.alreadyScored += chunk.length - written;
        progress += chunk.length;
        o.onProgress?.({ done: progress, total });
      }
      if (o.signal?.aborted) break;
    }
    if (o.signal?.aborted) summary.cancelled = true;
    else if (existing)
      await store.write(async (tx) => {
        await tx.ensureAnnotator(o.annotator, 'reward-model', provenance);
      });
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await worker.close();
  }
  return finish();
}
