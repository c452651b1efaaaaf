// `discretion train-rm`, `discretion judge onnx`, `discretion judge reward`, `discretion judge llm`: argument
// parsing, SIGINT and a progress bar around one judge run of src/app/judges.ts.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { CommanderError, Option } from 'commander';
import { formatEta, judgeUnit, runJudge, type JudgeProgress, type JudgeRun, type JudgeSummary } from '../../app/judges';
import { UsageError } from '../../core/errors';
import { ENGINE_NAMES, type EngineName } from '../../judges/engines';
import { PROVIDER_CHOICES, type ProviderChoice } from '../../judges/modelFolder';
import { trainRewardModel } from '../../app/judges';
import { writeJudgeBatch } from '../../app/batch';
import { note, printJson, say, withExistingStore, withStore } from '../context';
import { dbOption } from './data';

// A progress bar with rate and ETA on stderr (only on a terminal; silent when piped).
interface Progress {
  update(p: JudgeProgress): void;
  stop(): void;
}

function progressBar(unit: string): Progress {
  if (!process.stderr.isTTY) return { update() {}, stop() {} };
  let bar: cliProgress.SingleBar | undefined;
  return {
    update({ done, total, rate, etaSeconds }) {
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `{bar} {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | ETA {eta_text}`,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { rate: '-', eta_text: '-' });
      }
      bar.setTotal(total);
      bar.update(done, {
        rate: rate !== undefined ? rate.toFixed(1) : '-',
        eta_text: etaSeconds === undefined ? '-' : formatEta(etaSeconds),
      });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

/**
 * Runs one judge: Ctrl-C cancels it (what is stored stays), a progress bar shows on a terminal, and a
 * cancelled run ends with exit code 130 (interrupted) after its summary, nothing more printed.
 */
async function judgeAction<R extends JudgeRun>(
  db: string,
  run: R,
  report: (summary: JudgeSummary<R>) => void,
): Promise<void> {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  const bar = progressBar(judgeUnit(run));
  try {
    const summary = await withStore(db, (store) =>
      runJudge(store, run, { signal: controller.signal, onProgress: (p) => bar.update(p) }),
    );
    bar.stop();
    report(summary);
    // main() returns a CommanderError's code as is.
    if (summary.cancelled) throw new CommanderError(130, 'discretion.cancelled', 'cancelled');
  } finally {
    bar.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

function num(name: string, integer = false) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n)))
      throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'}, not "${v}"`);
    return n;
  };
}

export function registerJudgeCommands(program: Command): void {
  program
    .command('train-rm')
    .description(
      "train a Bradley-Terry reward model (word uni/bigrams) on an annotator's preferences; writes a Hugging Face-layout ONNX model folder",
    )
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset holding the labelled pairs')
    .requiredOption('--annotator <name>', 'annotator whose +1/-1 preferences are the labels')
    .requiredOption(
      '--out <dir>',
      'model folder to write (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)',
    )
    .option('--holdout <share>', 'share of pairs held out for the accuracy figure', num('--holdout'), 0.5)
    .option('--seed <n>', 'seed of the split, the label swaps and the training', num('--seed', true), 1)
    .option('--l2 <lambda>', 'L2 strength', num('--l2'), 1e-4)
    .option('--epochs <n>', 'full-batch optimisation steps', num('--epochs', true), 300)
    .option('--json', 'print {train_pairs, test_pairs, accuracy, model_dir} as JSON')
    .action(
      async (o: {
        db: string;
        dataset: string;
        annotator: string;
        out: string;
        holdout: number;
        seed: number;
        l2: number;
        epochs: number;
        json?: boolean;
      }) => {
        const r = await withStore(o.db, (store) => trainRewardModel(store, { ...o, onLog: o.json ? undefined : note }));
        if (o.json)
          return printJson({
            train_pairs: r.train_pairs,
            test_pairs: r.test_pairs,
            accuracy: r.accuracy,
            model_dir: r.model_dir,
          });
        say(
          `trained on ${r.train_pairs} pairs (train accuracy ${r.train_accuracy.toFixed(3)}); held-out accuracy ${r.accuracy === null ? '-' : r.accuracy.toFixed(3)} on ${r.test_pairs} pairs`,
        );
        say(`model written to ${r.model_dir}`);
      },
    );

  const judge = program
    .command('judge')
    .description('score pairs with a reward model (ONNX) or an LLM judge and store the results as an annotator');

  judge
    .command('onnx')
    .description(
      'score y0 and y1 with an ONNX reward model folder (Hugging Face layout) in a worker process; resumable',
    )
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset to score')
    .requiredOption(
      '--model <dir>',
      'model folder: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx',
    )
    .requiredOption('--annotator <name>', 'annotator name the rewards are stored under (kind reward-model)')
    .addOption(
      new Option('--provider <name>', 'execution provider: auto = webgpu, else cpu')
        .choices(PROVIDER_CHOICES as string[])
        .default('auto'),
    )
    .option('--batch-size <n>', 'sequences per inference call', num('--batch-size', true), 32)
    .option('--chunk <n>', 'pairs per worker request and per transaction', num('--chunk', true), 256)
    .option('--json', 'print the summary as JSON')
    .action(
      async (o: {
        db: string;
        dataset: string;
        model: string;
        annotator: string;
        provider: ProviderChoice;
        batchSize: number;
        chunk: number;
        json?: boolean;
      }) => {
        await judgeAction(
          o.db,
          {
            kind: 'onnx' as const,
            dataset: o.dataset,
            modelDir: o.model,
            annotator: o.annotator,
            provider: o.provider,
            batchSize: o.batchSize,
            chunkPairs: o.chunk,
            onReady: (r) => {
              for (const a of r.attempts) note(`provider ${a.provider} unavailable (${a.error}); falling back`);
              note(`running on ${r.provider}`);
            },
          },
          (s) => {
            if (o.json) return printJson(s);
            say(
              `${s.cancelled ? 'cancelled after storing' : 'scored'} ${s.scored} pair(s) of "${s.dataset}" as "${s.annotator}" on ${s.provider ?? '-'} (${s.alreadyScored} already scored, skipped)`,
            );
            say(
              `  ${s.pairsPerSecond.toFixed(1)} pairs/s, batch size ${s.batchSize ?? '-'}, ${s.truncatedInputs} input(s) truncated to ${s.maxLength ?? '-'} tokens, ${s.ties} tie(s) stored as missing`,
            );
            if (s.input)
              say(
                `  input: ${s.input === 'chat template' ? `the model's chat template (${s.chatTemplateFile ?? '-'})` : "the tokenizer's text pair (prompt, response)"}`,
              );
            if (s.cancelled) say('  rerun the same command to resume');
          },
        );
      },
    );

  judge
    .command('reward')
    .description(
      'score y0 and y1 with a reward model served by vLLM, SGLang, TEI or Triton / KServe (several URLs are replicas); API key, if the server wants one, from $DISCRETION_API_KEY; resumable',
    )
    .addOption(dbOption())
    .addOption(
      new Option('--engine <name>', 'the serving engine (docs/engines.md)')
        .choices(ENGINE_NAMES as unknown as string[])
        .makeOptionMandatory(),
    )
    .requiredOption(
      '--url <url[,url...]>',
      "the engine's root URL, e.g. http://127.0.0.1:8000; several, comma-separated, are replicas of one model",
    )
    .requiredOption('--model <name>', 'the model name the server knows (vLLM served name, Triton model name)')
    .requiredOption('--dataset <name>', 'dataset to score')
    .requiredOption('--annotator <name>', 'annotator the rewards are stored under (kind reward-model)')
    .option(
      '--tokenizer <dir>',
      "the model's tokenizer folder (tokenizer.json, tokenizer_config.json with its chat_template): sglang and kserve need it; tei without it sends (prompt, response) text pairs; vllm applies the template itself",
    )
    .option('--concurrency <n>', 'requests in flight over all replicas (default 4 per URL)', num('--concurrency', true))
    .option(
      '--batch-size <n>',
      'responses per request (default sglang 16, tei 32 or the server limit, kserve 8; vllm sends one conversation a request)',
      num('--batch-size', true),
    )
    .option('--chunk <n>', 'pairs per transaction', num('--chunk', true), 64)
    .option('--timeout <seconds>', 'per-request timeout', num('--timeout'), 60)
    .option('--retries <n>', 're-sends of one request after HTTP 5xx, 429 or a timeout', num('--retries', true), 8)
    .option('--json', 'print the summary as JSON')
    .action(
      async (o: {
        db: string;
        engine: EngineName;
        url: string;
        model: string;
        dataset: string;
        annotator: string;
        tokenizer?: string;
        concurrency?: number;
        batchSize?: number;
        chunk: number;
        timeout: number;
        retries: number;
        json?: boolean;
      }) => {
        await judgeAction(
          o.db,
          {
            kind: 'engine' as const,
            engine: o.engine,
            urls: o.url,
            model: o.model,
            dataset: o.dataset,
            annotator: o.annotator,
            tokenizerDir: o.tokenizer,
            apiKey: process.env.DISCRETION_API_KEY || undefined,
            concurrency: o.concurrency,
            batchSize: o.batchSize,
            chunkPairs: o.chunk,
            timeoutMs: o.timeout * 1000,
            maxRetries: o.retries,
          },
          (s) => {
            if (o.json) return printJson(s);
            say(
              `${s.cancelled ? 'cancelled after storing' : 'scored'} ${s.scored} pair(s) of "${s.dataset}" as "${s.annotator}" with ${s.engine} (${s.alreadyScored} already scored, skipped)`,
            );
            say(
              `  ${s.pairsPerSecond.toFixed(1)} pairs/s, ${s.requests} request(s) over ${s.replicas.length} replica(s), ${s.retries} re-sent after a fault, ${s.ties} tie(s) stored as missing${s.truncatedInputs ? `, ${s.truncatedInputs} response(s) truncated` : ''}`,
            );
            for (const r of s.replicas.filter((x) => x.faults > 0))
              say(`  ${r.url}: ${r.answers} answer(s), ${r.faults} fault(s)`);
            if (s.cancelled) say('  rerun the same command to resume');
          },
        );
      },
    );

  judge
    .command('llm')
    .description(
      'ask an LLM judge on an OpenAI-compatible Chat Completions endpoint (needs logprobs); API key from $DISCRETION_API_KEY; resumable',
    )
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset to judge')
    .option(
      '--base-url <url>',
      'endpoint base URL, e.g. http://127.0.0.1:8000/v1 (POST {base}/chat/completions); several, comma-separated, are replicas of one model; or --batch-out',
    )
    .option(
      '--batch-out <file>',
      'ask nothing: write the requests as OpenAI Batch API input lines (for OpenAI, vllm run-batch, a LiteLLM proxy), split into FILE-00001.jsonl ... past 50,000 requests or 200 MB; read the answers with import batch-results',
    )
    .requiredOption('--model <name>', 'model name sent to the endpoint')
    .requiredOption(
      '--annotator <name>',
      'annotator the judgments are stored under (llm-judge, or oracle with --oracle)',
    )
    .option('--oracle', 'principle-specific oracle mode (one question per pair and principle)')
    .option('--principles <list>', 'principle list for --oracle (name or name@version)')
    .option('--concurrency <n>', 'requests in flight', num('--concurrency', true), 4)
    .option('--timeout <seconds>', 'per-request timeout', num('--timeout'), 60)
    .option(
      '--retries <n>',
      'retries per request on 429/5xx/network errors/malformed answers',
      num('--retries', true),
      5,
    )
    .option('--prompts <dir>', 'folder with system.txt, judge.txt, oracle.txt (default: the bundled media/prompts)')
    .option('--price-input <usd>', 'price per million prompt tokens, for the cost estimate', num('--price-input'))
    .option('--price-output <usd>', 'price per million completion tokens', num('--price-output'))
    .option('--json', 'print the summary as JSON')
    .action(
      async (o: {
        db: string;
        dataset: string;
        baseUrl?: string;
        batchOut?: string;
        model: string;
        annotator: string;
        oracle?: boolean;
        principles?: string;
        concurrency: number;
        timeout: number;
        retries: number;
        prompts?: string;
        priceInput?: number;
        priceOutput?: number;
        json?: boolean;
      }) => {
        if (o.batchOut !== undefined) {
          if (o.baseUrl !== undefined)
            throw new UsageError(
              '--batch-out writes the requests to a file instead of asking --base-url: give one of the two',
            );
          return batchOut(o as typeof o & { batchOut: string });
        }
        if (o.baseUrl === undefined)
          throw new UsageError(
            'judge llm needs --base-url (the endpoint to ask), or --batch-out FILE to write a batch file',
          );
        await judgeAction(
          o.db,
          {
            kind: 'llm' as const,
            dataset: o.dataset,
            baseUrl: o.baseUrl,
            model: o.model,
            annotator: o.annotator,
            apiKey: process.env.DISCRETION_API_KEY || undefined,
            oracle: !!o.oracle,
            principles: o.principles,
            concurrency: o.concurrency,
            timeoutMs: o.timeout * 1000,
            maxRetries: o.retries,
            promptDir: o.prompts,
            pricePerMInput: o.priceInput,
            pricePerMOutput: o.priceOutput,
          },
          (s) => {
            if (o.json) return printJson(s);
            say(
              `${s.cancelled ? 'cancelled after storing' : 'stored'} ${s.stored} ${s.mode === 'oracle' ? 'principle judgment(s)' : 'pair judgment(s)'} as "${s.annotator}" (${s.alreadyStored} already stored, skipped; ${s.missing} missing)`,
            );
            say(
              `  ${s.requests} request(s), ${s.retries} retried, ${s.promptTokens} prompt + ${s.completionTokens} completion tokens${s.costUsd !== null ? `, about $${s.costUsd.toFixed(4)}` : ''}, ${s.seconds.toFixed(1)} s`,
            );
            if (s.cancelled) say('  rerun the same command to resume');
          },
        );
      },
    );
}

/** `judge llm --batch-out FILE`: the run's requests as batch input files; the store is only read, no key is needed. */
async function batchOut(o: {
  db: string;
  dataset: string;
  batchOut: string;
  model: string;
  annotator: string;
  oracle?: boolean;
  principles?: string;
  prompts?: string;
  json?: boolean;
}): Promise<void> {
  const s = await withExistingStore(o.db, '--db', (store) =>
    writeJudgeBatch(store, {
      dataset: o.dataset,
      annotator: o.annotator,
      model: o.model,
      oracle: !!o.oracle,
      principles: o.principles,
      promptDir: o.prompts,
      out: o.batchOut,
    }),
  );
  if (o.json) return printJson(s);
  const units = s.mode === 'oracle' ? 'principle judgment(s)' : 'pair(s)';
  const asked = s.requests === 0 ? 0 : s.mode === 'oracle' ? s.requests : s.requests / 2;
  if (s.files.length === 0)
    say(
      `nothing to ask: all ${s.alreadyStored} ${units} of "${s.dataset}" are stored as "${s.annotator}"; no file written`,
    );
  else {
    say(
      `wrote ${s.requests} request(s) for ${asked} ${units} of "${s.dataset}" as "${s.annotator}" (${s.alreadyStored} already stored, left out) to ${s.files.length === 1 ? s.files[0].file : `${s.files.length} files of at most 50,000 requests or 200 MB:`}`,
    );
    if (s.files.length > 1) for (const f of s.files) say(`  ${f.file} (${f.requests} requests, ${f.bytes} bytes)`);
    say(
      `  model ${s.model}, request version ${s.requestVersion}; submit each file to a batch endpoint (url /v1/chat/completions), then read the results with:`,
    );
    say(
      `  discretion import batch-results RESULTS.jsonl --dataset ${s.dataset} --annotator ${s.annotator}${o.principles ? ` --principles ${o.principles}` : ''}`,
    );
  }
  for (const f of s.otherParts) say(`  note: ${f} is not part of this batch (an earlier run's); do not submit it`);
}
