// `discretion import ...`, `info`, `export`.
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError, withOptionName } from '../../core/errors';
import {
  DEFAULT_LIMITS,
  formatBytes,
  type ImportSummary,
  type OnError,
  parseSize,
  type ReadLimits,
  type ReadOptions,
} from '../../importers/common';
import { CHOSEN_REJECTED, type DatasetFormat, importDataset } from '../../importers/datasets';
import { importBatchResultFiles } from '../../app/batch';
import { exportDataset } from '../../app/export';
import { exportTrainingData } from '../../app/training';
import { type JudgmentFormat, importJudgments } from '../../importers/judgments';
import { importLabels } from '../../importers/labels';
import { labellerFor } from '../../app/team';
import { importPrincipleList } from '../../importers/principles';
import type { BatchImportSummary } from '../../judges/batchFiles';
import { redactLocation } from '../../store';
import { CLI_FLAGS, DEFAULT_DB, printJson, say, sayLines, table, withExistingStore, withStore } from '../context';
import { importProgress } from '../progress';

export const dbOption = () =>
  new Option(
    '--db <location>',
    'SQLite file (created when missing) or postgres:// URL of a shared server (password from PGPASSWORD or ~/.pgpass, never in the URL)',
  ).default(process.env.DISCRETION_DB ?? DEFAULT_DB);
const onErrorOption = () =>
  new Option(
    '--on-error <mode>',
    'fail: nothing is imported on the first bad record; skip: import the valid records and list the rest',
  )
    .choices(['fail', 'skip'])
    .default('fail');

type LimitFlags = {
  maxLineSize?: number;
  maxDecompressedSize?: number;
  maxCompressionRatio?: number;
  maxJsonDepth?: number;
  json?: boolean;
};

const sizeArg = (flag: string) => (v: string) => {
  const n = parseSize(v);
  if (n === undefined) throw new UsageError(`${flag} expects a size such as 64MiB or 2GiB, not ${JSON.stringify(v)}`);
  return n;
};
const countArg = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${flag} expects a positive whole number, not ${JSON.stringify(v)}`);
  return n;
};

/**
 * The options that lift the reading limits (each named by the error that hits it). `compressed`: the
 * decompression limits apply to .gz files, or to the pages of a Parquet file.
 */
function addLimitOptions(cmd: Command, compressed: boolean | 'parquet', json: boolean): Command {
  cmd.addOption(
    new Option(
      `${CLI_FLAGS.maxLineBytes} <size>`,
      `longest line or record read${compressed === 'parquet' ? ' (a row, as a JSON line)' : ''} (default ${formatBytes(DEFAULT_LIMITS.maxLineBytes).replace(' ', '')})`,
    ).argParser(sizeArg(CLI_FLAGS.maxLineBytes)),
  );
  if (compressed) {
    const what = compressed === 'parquet' ? "a file's pages (each, and all together)" : 'a .gz file';
    cmd.addOption(
      new Option(
        `${CLI_FLAGS.maxDecompressedBytes} <size>`,
        `most ${what} may decompress to (default ${formatBytes(DEFAULT_LIMITS.maxDecompressedBytes).replace(' ', '')})`,
      ).argParser(sizeArg(CLI_FLAGS.maxDecompressedBytes)),
    );
    cmd.addOption(
      new Option(
        `${CLI_FLAGS.maxCompressionRatio} <n>`,
        `highest decompressed:compressed ratio of ${compressed === 'parquet' ? "a page, and of a file's pages" : 'a .gz file'} (default ${DEFAULT_LIMITS.maxCompressionRatio})`,
      ).argParser(countArg(CLI_FLAGS.maxCompressionRatio)),
    );
  }
  if (json)
    cmd.addOption(
      new Option(
        `${CLI_FLAGS.maxJsonDepth} <n>`,
        `deepest nesting of JSON arrays and objects in a record (default ${DEFAULT_LIMITS.maxJsonDepth})`,
      ).argParser(countArg(CLI_FLAGS.maxJsonDepth)),
    );
  return cmd;
}

/** The reading limits given on the command line (undefined: the default). */
const readLimits = (o: LimitFlags): Partial<ReadLimits> => ({
  maxLineBytes: o.maxLineSize,
  maxDecompressedBytes: o.maxDecompressedSize,
  maxCompressionRatio: o.maxCompressionRatio,
  maxJsonDepth: o.maxJsonDepth,
});

/** Runs an import with the limits given on the command line and a progress bar on a terminal. */
async function runImport(
  o: LimitFlags & { db: string },
  run: (store: Parameters<Parameters<typeof withStore>[1]>[0], read: ReadOptions) => Promise<ImportSummary>,
): Promise<void> {
  const limits = readLimits(o);
  const progress = importProgress(!!o.json);
  let s: ImportSummary;
  try {
    s = await withStore(o.db, (store) => run(store, { limits, onProgress: progress.onProgress }));
  } finally {
    progress.stop();
  }
  printSummary(s, !!o.json);
}

function printSummary(s: ImportSummary, json: boolean): void {
  // A skipped record's message names the flag that would have kept it, as an error's does (cliMessage).
  const skipped = s.skipped.map(({ line, message, option }) => ({
    line,
    message: withOptionName(message, option, CLI_FLAGS),
  }));
  if (json) return printJson({ ...s, skipped });
  const counts = Object.entries(s.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  say(`imported ${s.file}${s.dataset ? ` into dataset "${s.dataset}"` : ''}: ${counts}`);
  for (const n of s.notes) say(`  note: ${n}`);
  if (s.skipped.length > 0) {
    say(`  skipped ${s.skipped.length} bad record(s):`);
    for (const k of skipped) say(`    ${k.message}`);
  }
}

export function registerDataCommands(program: Command): void {
  const imp = program.command('import').description('import datasets, principle lists, labels and model judgments');

  for (const [format, description] of [
    ['hh-rlhf', 'HH-RLHF JSONL (plain or .gz): {chosen, rejected}; annotator "human" prefers y1 = chosen'],
    ['pku-saferlhf', 'PKU-SafeRLHF JSONL: annotators "human-better" and "human-safer"'],
  ] as const) {
    addLimitOptions(
      imp
        .command(`${format} <file>`)
        .description(description)
        .addOption(dbOption())
        .requiredOption('--dataset <name>', 'name of the new dataset')
        .addOption(onErrorOption())
        .option('--json', 'print the summary as JSON'),
      true,
      true,
    ).action(async (file: string, o: LimitFlags & { db: string; dataset: string; onError: OnError }) => {
      await runImport(o, (store, read) =>
        importDataset(store, { format, file, dataset: o.dataset, onError: o.onError, ...read }),
      );
    });
  }

  for (const format of ['jsonl', 'csv'] as const) {
    addLimitOptions(
      imp
        .command(`${format} <file>`)
        .description(`any ${format.toUpperCase()} file, with a field mapping (nested JSON fields as a.b.c)`)
        .addOption(dbOption())
        .requiredOption('--dataset <name>', 'name of the new dataset')
        .requiredOption('--prompt <field>', 'field holding the prompt (the conversation so far)')
        .requiredOption('--response-0 <field>', 'field holding response y0')
        .requiredOption('--response-1 <field>', 'field holding response y1')
        .option('--preferred <field>', 'field with the preferred response: 0|y0, 1|y1, tie, or empty')
        .option('--preferred-annotator <name>', 'annotator the --preferred values are recorded as', 'human')
        .option('--id <field>', "field used as each pair's source id (must be unique)")
        .addOption(onErrorOption())
        .option('--json', 'print the summary as JSON'),
      true,
      format === 'jsonl',
    ).action(
      async (
        file: string,
        o: LimitFlags & {
          db: string;
          dataset: string;
          prompt: string;
          response0: string;
          response1: string;
          preferred?: string;
          preferredAnnotator: string;
          id?: string;
          onError: OnError;
        },
      ) => {
        await runImport(o, (store, read) =>
          importDataset(store, {
            format: format as DatasetFormat,
            file,
            dataset: o.dataset,
            onError: o.onError,
            preferredAnnotator: o.preferredAnnotator,
            mapping: {
              prompt: o.prompt,
              response0: o.response0,
              response1: o.response1,
              preferred: o.preferred,
              id: o.id,
            },
            ...read,
          }),
        );
      },
    );
  }

  addLimitOptions(
    imp
      .command('parquet <path>')
      .description(
        'a Parquet file, or a Hugging Face dataset folder (README.md configs, data/<split>-NNNNN-of-NNNNN.parquet); fields may hold chat message lists',
      )
      .addOption(dbOption())
      .requiredOption('--dataset <name>', 'name of the new dataset')
      .option(
        '--prompt <field>',
        'field holding the prompt: text or a message list [{role, content}] (default: the messages before the responses)',
      )
      .option(
        '--response-0 <field>',
        'field holding response y0: text, or a message list ending with it (default: rejected)',
      )
      .option(
        '--response-1 <field>',
        'field holding response y1: text, or a message list ending with it (default: chosen)',
      )
      .option(
        '--preferred <field>',
        'field with the preferred response (0|y0, 1|y1, tie, or empty), or one of the two response fields: that one is preferred in every pair (--preferred chosen: y1 = chosen, stored as +1, as import hh-rlhf does)',
      )
      .option('--preferred-annotator <name>', 'annotator the --preferred values are recorded as', 'human')
      .option('--id <field>', "field used as each pair's source id (must be unique)")
      .option('--split <name>', 'dataset folder: the split to import (default: train, else the only one)')
      .option(
        '--config <name>',
        "dataset folder: the README.md config (default: the card's default, else the only one)",
      )
      .addOption(onErrorOption())
      .option('--json', 'print the summary as JSON'),
    'parquet',
    true,
  ).action(
    async (
      path: string,
      o: LimitFlags & {
        db: string;
        dataset: string;
        prompt?: string;
        response0?: string;
        response1?: string;
        preferred?: string;
        preferredAnnotator: string;
        id?: string;
        split?: string;
        config?: string;
        onError: OnError;
      },
    ) => {
      if ((o.response0 === undefined) !== (o.response1 === undefined))
        throw new UsageError(
          'give both --response-0 and --response-1, or neither (the chosen/rejected layout: y0 = rejected, y1 = chosen)',
        );
      await runImport(o, (store, read) =>
        importDataset(store, {
          format: 'parquet',
          file: path,
          dataset: o.dataset,
          onError: o.onError,
          preferredAnnotator: o.preferredAnnotator,
          split: o.split,
          config: o.config,
          mapping: {
            ...CHOSEN_REJECTED,
            ...(o.response0 !== undefined ? { response0: o.response0, response1: o.response1! } : {}),
            prompt: o.prompt,
            preferred: o.preferred,
            id: o.id,
          },
          ...read,
        }),
      );
    },
  );

  addLimitOptions(
    imp
      .command('principles <file>')
      .description('a principle list: .txt (one per line), .yaml/.yml or .json ([{id, short, text}])')
      .addOption(dbOption())
      .requiredOption('--name <name>', 'name of the list (new content under a known name becomes its next version)')
      .option('--short <file>', 'short labels for a .txt list, one per line in the same order')
      .option('--json', 'print the summary as JSON'),
    false,
    true,
  ).action(async (file: string, o: LimitFlags & { db: string; name: string; short?: string }) => {
    await runImport(o, (store, read) =>
      importPrincipleList(store, { file, shortFile: o.short, name: o.name, ...read }),
    );
  });

  addLimitOptions(
    imp
      .command('labels <file>')
      .description('human labels in the workbench format: {"pair", "overall", "principles", "rationale"} per line')
      .addOption(dbOption())
      .requiredOption('--dataset <name>', 'dataset the labels belong to')
      .requiredOption('--principles <list>', 'principle list the principle ids refer to (name or name@version)')
      .requiredOption('--annotator <name>', 'the human annotator')
      .addOption(onErrorOption())
      .option('--json', 'print the summary as JSON'),
    true,
    true,
  ).action(
    async (
      file: string,
      o: LimitFlags & { db: string; dataset: string; principles: string; annotator: string; onError: OnError },
    ) => {
      // on a team's database the labels are the login's own: naming another annotator is refused (src/app/team.ts)
      await runImport(o, async (store, read) =>
        importLabels(store, {
          file,
          dataset: o.dataset,
          principles: o.principles,
          annotator: await labellerFor(store, o.annotator),
          onError: o.onError,
          ...read,
        }),
      );
    },
  );

  for (const [format, description] of [
    ['oracle', 'principle-specific oracle probabilities: row_id, principle_id, order, prob_A, prob_B, prob_NA'],
    ['rewards', 'reward-model scores: row_id, reward_a (y1), reward_b (y0)'],
    ['judge', 'LLM judge asked in both orders: row_id, order, prob_A, prob_B, prob_NA'],
    ['loglik', 'policy-model log-likelihoods: row_id, order, log_prob_chat_chosen (y1), log_prob_chat_rejected (y0)'],
  ] as const) {
    const cmd = imp
      .command(`${format} <csv>`)
      .description(description)
      .addOption(dbOption())
      .requiredOption('--dataset <name>', 'dataset whose pair ids the row_id column holds')
      .requiredOption(
        '--annotator <name>',
        'name for the model (an annotator of kind ' +
          { oracle: 'oracle', rewards: 'reward-model', judge: 'llm-judge', loglik: 'policy-model' }[format] +
          ')',
      )
      .option('--ignore-unknown-rows', 'skip rows whose row_id is not a pair of the dataset, and count them')
      .addOption(onErrorOption())
      .option('--json', 'print the summary as JSON');
    addLimitOptions(cmd, true, false);
    if (format === 'oracle')
      cmd.requiredOption('--principles <list>', 'principle list whose 0-based positions principle_id refers to');
    cmd.action(
      async (
        file: string,
        o: LimitFlags & {
          db: string;
          dataset: string;
          annotator: string;
          principles?: string;
          ignoreUnknownRows?: boolean;
          onError: OnError;
        },
      ) => {
        await runImport(o, (store, read) =>
          importJudgments(store, {
            format: format as JudgmentFormat,
            file,
            dataset: o.dataset,
            annotator: o.annotator,
            principles: o.principles,
            ignoreUnknownRows: !!o.ignoreUnknownRows,
            onError: o.onError,
            ...read,
          }),
        );
      },
    );
  }

  addLimitOptions(
    imp
      .command('batch-results <files...>')
      .description(
        'answers of a judge llm --batch-out run: OpenAI Batch API output (and error) files, vllm run-batch output; any order, matched by custom_id; failed requests listed, never stored; a re-import stores nothing twice',
      )
      .addOption(dbOption())
      .requiredOption('--dataset <name>', 'dataset the requests were written for')
      .requiredOption('--annotator <name>', 'annotator the requests were written for (llm-judge, or oracle)')
      .option('--principles <list>', "an oracle's results: the principle list it was asked with (name or name@version)")
      .option('--json', 'print the summary as JSON (every error line)'),
    true,
    true,
  ).action(
    async (
      files: string[],
      o: LimitFlags & { db: string; dataset: string; annotator: string; principles?: string },
    ) => {
      let progress = importProgress(!!o.json);
      let s: BatchImportSummary;
      try {
        s = await withStore(o.db, (store) =>
          importBatchResultFiles(store, {
            dataset: o.dataset,
            annotator: o.annotator,
            principles: o.principles,
            files,
            read: {
              limits: readLimits(o),
              // one bar a file
              onFile: () => {
                progress.stop();
                progress = importProgress(!!o.json);
              },
              onProgress: (p) => progress.onProgress?.(p),
            },
          }),
        );
      } finally {
        progress.stop();
      }
      if (o.json) return printJson(s);
      const what = s.mode === 'oracle' ? 'principle judgment(s)' : 'pair judgment(s)';
      say(
        `imported batch results into dataset "${s.dataset}" as "${s.annotator}": stored ${s.stored} ${what}${s.mode === 'judge' ? ` (${s.missing} missing)` : ''}, ${s.alreadyStored} already stored`,
      );
      say(
        `  read ${s.results} result line(s) from ${s.files.length} file(s)${s.model ? `, answered by ${s.model}` : ''}${s.requestVersion ? `, request version ${s.requestVersion}` : ''}; ${s.promptTokens} prompt + ${s.completionTokens} completion tokens`,
      );
      const SHOWN = 5;
      if (s.errors.length) {
        say(`  ${s.errors.length} error line(s), not stored:`);
        for (const e of s.errors.slice(0, SHOWN)) say(`    ${e.file}:${e.line}: ${e.customId}: ${e.reason}`);
        if (s.errors.length > SHOWN) say(`    ... and ${s.errors.length - SHOWN} more (--json lists them all)`);
      }
      if (s.supersededErrors.length)
        say(`  ${s.supersededErrors.length} error line(s) of requests answered by another line or stored before`);
      if (s.incomplete.length)
        say(
          `  ${s.incomplete.length} pair(s) with one order answered and the other not, not stored (unanswered: ${s.incomplete
            .slice(0, SHOWN)
            .map((i) => i.unanswered)
            .join(', ')}${s.incomplete.length > SHOWN ? ', ...' : ''})`,
        );
      if (s.duplicates)
        say(`  ${s.duplicates} repeated answer(s) to a request answered earlier in these files: the first kept`);
      if (s.errors.length || s.incomplete.length)
        say(
          `  to ask what is still unanswered, run judge llm --batch-out again with the same --model, --annotator and prompts: it writes only what is not stored`,
        );
    },
  );

  program
    .command('info')
    .description('what the database holds: datasets, principle lists, annotators')
    .addOption(dbOption())
    .option('--json', 'print as JSON')
    .action(async (o: { db: string; json?: boolean }) => {
      const info = await withExistingStore(o.db, '--db', (store) => store.info());
      if (o.json) return printJson(info);
      say(`database ${redactLocation(o.db)}`);
      say('');
      sayLines(
        info.datasets.length
          ? table(
              ['dataset', 'format', 'pairs'],
              info.datasets.map((d) => [d.name, d.format, d.pairs]),
            )
          : 'no datasets',
      );
      say('');
      sayLines(
        info.principleLists.length
          ? table(
              ['principle list', 'version', 'principles'],
              info.principleLists.map((l) => [l.name, l.version, l.size]),
            )
          : 'no principle lists',
      );
      say('');
      const rows = info.annotators.flatMap((a) =>
        (a.datasets.length ? a.datasets : [{ dataset: '-', preferences: 0, principlePreferences: 0 }]).map((d) => [
          a.name,
          a.kind,
          a.group ?? '-',
          d.dataset,
          d.preferences,
          d.principlePreferences,
        ]),
      );
      sayLines(
        rows.length
          ? table(
              ['annotator', 'kind', 'group', 'dataset', 'pairs with a preference', 'pairs with principle labels'],
              rows,
            )
          : 'no annotators',
      );
    });

  program
    .command('export')
    .description(
      "write a dataset's pairs: with every annotator's preferences (jsonl, csv: re-importable with import jsonl|csv), as TRL preference rows (trl) or as a Hugging Face dataset folder with its card (hf)",
    )
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset to export')
    .addOption(
      new Option('--format <format>', 'jsonl, csv, trl (JSONL for TRL trainers) or hf (Parquet dataset folder)')
        .choices(['jsonl', 'csv', 'trl', 'hf'])
        .default('jsonl'),
    )
    .requiredOption('--out <path>', 'output file (jsonl, csv, trl) or folder (hf)')
    .option(
      '--from <source>',
      "trl, hf: who chooses the response: adjudicated (the lead's adjudicated label, else the human majority), majority (of the human labels) or an annotator (default adjudicated)",
    )
    .addOption(
      new Option('--trl-style <style>', 'trl: conversational (messages) or standard (plain strings)')
        .choices(['conversational', 'standard'])
        .default('conversational'),
    )
    .option('--ties <file>', 'trl: also write the pairs the source gives no side (tie, both bad, no majority) here')
    .addOption(
      new Option('--margin <kind>', 'trl, hf: add a margin column: agreement (share of human labels agreeing)').choices(
        ['agreement'],
      ),
    )
    .option('--principles <list>', 'trl, hf: principle list of the pair categories (name or name@version)')
    .option(
      '--principle-source <source>',
      'trl, hf: principle source of the pair categories: majority | majority:NAME,NAME | an annotator with principle labels',
    )
    .option(
      '--run <id>',
      "hf: the metric run whose numbers the card shows (default: the dataset's latest)",
      (v: string) => {
        if (!/^\d+$/.test(v)) throw new UsageError(`--run must be a whole number, not "${v}"`);
        return Number(v);
      },
    )
    .option(
      '--shard-size <size>',
      'hf: size after which the next Parquet file begins (default 256MiB)',
      sizeArg('--shard-size'),
    )
    .action(
      async (
        o: {
          db: string;
          dataset: string;
          format: 'jsonl' | 'csv' | 'trl' | 'hf';
          out: string;
          from?: string;
          trlStyle: 'conversational' | 'standard';
          ties?: string;
          margin?: 'agreement';
          principles?: string;
          principleSource?: string;
          run?: number;
          shardSize?: number;
        },
        cmd: Command,
      ) => {
        const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
        const only = (formats: string[], names: [string, string][]) => {
          for (const [key, flag] of names)
            if (given(key) && !formats.includes(o.format))
              throw new UsageError(`${flag} is for --format ${formats.join(' or ')}, not ${o.format}`);
        };
        only(
          ['trl', 'hf'],
          [
            ['from', '--from'],
            ['margin', '--margin'],
            ['principles', '--principles'],
            ['principleSource', '--principle-source'],
          ],
        );
        only(
          ['trl'],
          [
            ['trlStyle', '--trl-style'],
            ['ties', '--ties'],
          ],
        );
        only(
          ['hf'],
          [
            ['run', '--run'],
            ['shardSize', '--shard-size'],
          ],
        );
        if (o.format === 'trl' || o.format === 'hf') {
          const format = o.format;
          const r = await withStore(o.db, (store) =>
            exportTrainingData(store, {
              dataset: o.dataset,
              format,
              out: o.out,
              from: o.from,
              style: o.trlStyle,
              ties: o.ties,
              margin: o.margin,
              principles: o.principles,
              principleSource: o.principleSource,
              run: o.run,
              shardBytes: o.shardSize,
            }),
          );
          const left = `${r.ties} tie, ${r.bothBad} both bad, ${r.noMajority} without a majority, ${r.unlabelled} unlabelled`;
          if (format === 'trl') {
            say(
              `wrote ${r.chosen} preference rows of ${r.pairs} pairs (chosen by ${r.source}, ${o.trlStyle}) to ${o.out}`,
            );
            say(`  left out: ${left}`);
            if (r.tiesWritten !== null) say(`  wrote the ${r.tiesWritten} pairs with no side to ${o.ties}`);
            say(`  load: datasets.load_dataset("json", data_files=${JSON.stringify(o.out)}, split="train")`);
          } else {
            say(`wrote ${r.pairs} pairs (${r.chosen} with chosen/rejected by ${r.source}; ${left}) to ${o.out}:`);
            for (const f of r.files) say(`  ${f}`);
            say(
              r.run !== null
                ? `  the card shows the numbers of metric run ${r.run}`
                : '  the card has no discretion numbers (no metric run stored)',
            );
            // the label column holds the source's labels: re-imported as that annotator's (a majority or an
            // adjudication is no one person's: the command names a placeholder to choose)
            const as = r.source === 'majority' || r.source === 'adjudicated' ? 'ANNOTATOR' : r.source;
            say(
              `re-import: discretion import parquet ${o.out} --dataset NAME --prompt prompt_text --response-0 response_0 --response-1 response_1 --id source_id --preferred label --preferred-annotator ${as}`,
            );
          }
          for (const n of r.notes) say(`  note: ${n}`);
          return;
        }
        const plain = o.format;
        const r = await withStore(o.db, (store) =>
          exportDataset(store, { dataset: o.dataset, format: plain, out: o.out }),
        );
        say(`wrote ${r.pairs} pairs with preferences of ${r.annotators.length} annotator(s) to ${o.out}`);
        if (r.annotators.length) {
          const example =
            plain === 'jsonl' ? `--preferred preferences.${r.annotators[0]}` : `--preferred pref.${r.annotators[0]}`;
          say(
            `re-import: discretion import ${plain} ${o.out} --dataset NAME --prompt prompt --response-0 response_0 --response-1 response_1 --id source_id ${example}`,
          );
        }
      },
    );
}

export function requireUsage(cond: unknown, message: string): asserts cond {
  if (!cond) throw new UsageError(message);
}
