// Judge runs for both front ends: a reward model (ONNX, scored in a worker process, or served by an engine:
// vLLM, SGLang, TEI, Triton / KServe) or an LLM judge / oracle (OpenAI-compatible endpoint), cancellable through an AbortSignal (what is stored stays; the same
// run again resumes) and reporting progress with its rate and time left. The CLI adds SIGINT and a
// progress bar, the extension a cancellable notification; neither computes rates itself.
import { existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../core/errors';
import { runLlmJudge, type LlmJudgeOptions, type LlmJudgeSummary } from '../judges/llmJudge';
import { runOnnxJudge, type OnnxJudgeOptions, type OnnxJudgeSummary } from '../judges/onnxJudge';
import { runEngineJudge, type EngineJudgeOptions, type EngineJudgeSummary } from '../judges/rewardRun';
import { trainRewardModel as fitRewardModel, type TrainedModel, type TrainOptions } from '../judges/trainRm';
import type { Store } from '../store';
import { promptsDir } from './media';
import { ensureFolder } from './outputFiles';

type Controlled = 'signal' | 'onProgress';
export type JudgeRun =
  | ({ kind: 'onnx' } & Omit<OnnxJudgeOptions, Controlled>)
  | ({ kind: 'engine' } & Omit<EngineJudgeOptions, Controlled>)
  | ({ kind: 'llm' } & Omit<LlmJudgeOptions, Controlled | 'promptDir'> & {
        /** default: the bundled prompts */ promptDir?: string;
      });

/** The summary a run of that kind returns. */
export type JudgeSummary<R extends JudgeRun = JudgeRun> = R extends { kind: 'onnx' }
  ? OnnxJudgeSummary
  : R extends { kind: 'engine' }
    ? EngineJudgeSummary
    : LlmJudgeSummary;

export interface JudgeProgress {
  done: number;
  total: number;
  /** Units per second since the first report of this run (undefined until something was done). */
  rate: number | undefined;
  /** Seconds left at that rate. */
  etaSeconds: number | undefined;
}

export interface JudgeControl {
  signal?: AbortSignal;
  onProgress?: (p: JudgeProgress) => void;
  /** Clock in ms (tests). */
  now?: () => number;
}

/** What one judge run counts: pairs, or pair x principle judgments for an oracle. */
export function judgeUnit(run: JudgeRun): 'pairs' | 'judgments' {
  return run.kind === 'llm' && run.oracle ? 'judgments' : 'pairs';
}

/** Adds rate and time left to done/total reports; the rate counts from the first report (a resumed run starts past 0). */
export function progressMeter(
  onProgress: (p: JudgeProgress) => void,
  now: () => number = Date.now,
): (p: { done: number; total: number }) => void {
  const t0 = now();
  let first: number | undefined;
  return ({ done, total }) => {
    first ??= done;
    const secs = (now() - t0) / 1000;
    const rate = secs > 0 && done > first ? (done - first) / secs : undefined;
    const etaSeconds = rate !== undefined ? Math.round((total - done) / rate) : undefined;
    onProgress({ done, total, rate, etaSeconds });
  };
}

/** "1h05m", "3m07s", "42s". */
export function formatEta(seconds: number): string {
  if (seconds >= 3600)
    return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${seconds}s`;
}

/** Runs one judge over a dataset of the store. */
export async function runJudge<R extends JudgeRun>(
  store: Store,
  run: R,
  control: JudgeControl = {},
): Promise<JudgeSummary<R>> {
  const onProgress = control.onProgress ? progressMeter(control.onProgress, control.now) : undefined;
  const { signal } = control;
  const r: JudgeRun = run;
  if (r.kind === 'onnx') {
    const { kind: _kind, ...options } = r;
    return (await runOnnxJudge(store, { ...options, signal, onProgress })) as JudgeSummary<R>;
  }
  if (r.kind === 'engine') {
    const { kind: _kind, ...options } = r;
    return (await runEngineJudge(store, { ...options, signal, onProgress })) as JudgeSummary<R>;
  }
  const { kind: _kind, ...options } = r;
  return (await runLlmJudge(store, {
    ...options,
    promptDir: options.promptDir ?? promptsDir(),
    signal,
    onProgress,
  })) as JudgeSummary<R>;
}

export type TrainResult = Omit<TrainedModel, 'files'> & { model_dir: string };

/**
 * `discretion train-rm`: trains the built-in reward model (src/judges/trainRm.ts) and writes its folder at
 * `out`, replacing only a model folder written before (one holding config.json) or an empty one.
 */
export async function trainRewardModel(store: Store, o: TrainOptions & { out: string }): Promise<TrainResult> {
  const outDir = resolve(o.out);
  if (existsSync(outDir) && !statSync(outDir).isDirectory())
    throw new UsageError(`the model folder ${o.out} is a file, not a folder`, 'out');
  if (existsSync(outDir) && readdirSync(outDir).length > 0 && !existsSync(join(outDir, 'config.json'))) {
    throw new UsageError(
      `the model folder ${o.out} exists and is not a model folder written by train-rm; choose an empty or new folder`,
      'out',
    );
  }
  // Written next to the target, then swapped in: a failed run leaves no half-written model. Tried here,
  // before training, so that a place where the folder cannot be made is refused at once.
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}`);
  ensureFolder(tmp, 'the model folder', o.out);
  rmSync(tmp, { recursive: true, force: true });

  const { files, ...trained } = await fitRewardModel(store, o);
  for (const [path, data] of Object.entries(files)) {
    ensureFolder(dirname(join(tmp, path)), 'the model folder', o.out);
    writeFileSync(join(tmp, path), data);
  }
  rmSync(outDir, { recursive: true, force: true });
  renameSync(tmp, outDir);
  return { ...trained, model_dir: outDir };
}
