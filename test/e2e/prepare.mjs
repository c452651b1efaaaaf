// Workspace settings for the e2e run, and the database seeded with the CLI before the server starts:
// the hostile dataset; the sample dataset and its principle list under the names the extension's
// "Open Sample Dataset" uses (so it finds them and imports nothing), alice's and bilal's bundled
// labels for it, two models' judgments of a few of its pairs (test/fixtures/models), generated labels
// of both annotators on the hostile pairs plus a stored metric run of them (the dashboard's first
// report: hostile text in its example pairs), a reward model trained on alice's labels (named by
// discretion.judges.modelPath) and an empty folder for the dashboard's export. The annotator
// identity is left unset for the suite (it is asked once) and preset for the benchmark.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { E2E_WS: ws, E2E_DB: db, E2E_ROOT: root, E2E_STATE: state } = process.env;
const bench = !!process.env.E2E_BENCH_PAIRS;
const SAMPLE = 'safety-pairs-sample',
  LIST = 'demo-safety'; // = SAMPLE_DATASET, SAMPLE_LIST of src/extension/commands/data.ts
const modelDir = join(state, 'rm-alice');
const exportDir = join(state, 'export');
const settings = {
  'discretion.databasePath': db,
  // the suite leaves the identity unset: the workbench asks for it once (its first step); the
  // benchmark presets it
  ...(bench ? { 'discretion.annotator': 'e2e-annotator' } : {}),
  ...(bench ? {} : { 'discretion.judges.modelPath': modelDir }),
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
};
writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
writeFileSync(join(ws, 'README.txt'), 'Discretion e2e workspace\n');
const cli = join(root, 'bin', 'discretion.js');
const run = (...args) =>
  execFileSync(process.execPath, [cli, ...args, '--db', db], { stdio: ['ignore', 'inherit', 'inherit'] });
const quiet = (...args) => {
  try {
    execFileSync(process.execPath, [cli, ...args, '--db', db], { stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(`${e.stdout ?? ''}${e.stderr ?? ''}`);
    throw e;
  }
};
const pairsArgs = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];
run(
  'import',
  'jsonl',
  join(root, 'test', 'fixtures', 'hostile', 'hostile-pairs.jsonl'),
  '--dataset',
  'hostile-pairs',
  ...pairsArgs,
);
run('import', 'principles', join(root, 'media', 'principles', 'demo-safety.yaml'), '--name', LIST);

if (!bench) {
  run('import', 'jsonl', join(root, 'media', 'sample', 'safety-pairs.jsonl'), '--dataset', SAMPLE, ...pairsArgs);
  for (const who of ['alice', 'bilal'])
    run(
      'import',
      'labels',
      join(root, 'media', 'sample', `labels-${who}.jsonl`),
      '--dataset',
      SAMPLE,
      '--principles',
      LIST,
      '--annotator',
      who,
    );
  // hostile pairs: every principle picks the same side (consensus), alice overrules it on h06 and
  // bilal on h01, h02, h05, so the report lists those pairs with their (hostile) texts
  const principles = ['avoid-harm', 'honesty', 'helpfulness', 'privacy', 'respect-autonomy', 'avoid-moralising'];
  for (const who of ['alice', 'bilal']) {
    const lines = [];
    for (let i = 1; i <= 6; i++) {
      const side = i % 2 ? 'y0' : 'y1';
      const overrule = who === 'alice' ? i === 6 : [1, 2, 5].includes(i);
      lines.push(
        JSON.stringify({
          pair: `h0${i}`,
          overall: overrule ? (side === 'y0' ? 'y1' : 'y0') : side,
          principles: Object.fromEntries(principles.map((p) => [p, p === 'privacy' ? 'neither' : side])),
          rationale: `<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> note ${i}`,
        }),
      );
    }
    const file = join(state, `hostile-labels-${who}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    run('import', 'labels', file, '--dataset', 'hostile-pairs', '--principles', LIST, '--annotator', who);
  }
  // model judgments of a few sample pairs (what they prefer is written out by hand in workbench.e2e.mjs)
  run(
    'import',
    'rewards',
    join(root, 'test', 'fixtures', 'models', 'sample-rewards.csv'),
    '--dataset',
    SAMPLE,
    '--annotator',
    'rm-fixture',
  );
  run(
    'import',
    'judge',
    join(root, 'test', 'fixtures', 'models', 'sample-judge.csv'),
    '--dataset',
    SAMPLE,
    '--annotator',
    'judge-fixture',
  );
  quiet(
    'metrics',
    '--dataset',
    'hostile-pairs',
    '--principles',
    LIST,
    '--principle-source',
    'self',
    '--reference',
    'alice',
    '--bootstrap',
    '20',
    '--da-bootstrap',
    '100',
  );
  quiet('train-rm', '--dataset', SAMPLE, '--annotator', 'alice', '--out', modelDir);
  mkdirSync(exportDir, { recursive: true });
  console.log(`e2e: seeded ${SAMPLE} (alice, bilal), hostile-pairs labels and metric run, reward model in ${modelDir}`);
}

if (bench) {
  // the benchmark's generated dataset, with the dataset's own preference on every pair (as an HH-RLHF
  // import has), so the workbench's counts run over real numbers of preference rows
  const n = Number(process.env.E2E_BENCH_PAIRS);
  process.env.E2E_BENCH_FILE = join(process.env.E2E_STATE, 'bench.jsonl');
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        id: `b${i}`,
        prompt: `\n\nHuman: Question number ${i}: how should I handle situation ${i % 97}?\n\nAssistant: Can you say more?\n\nHuman: It is urgent (${i}).`,
        response_0: `**Answer ${i}/0.** ` + 'A careful, hedged response with some detail. '.repeat(8 + (i % 5)),
        response_1: `Answer ${i}/1:\n\n- point one\n- point two\n\n` + 'A direct response. '.repeat(10 + (i % 7)),
        preferred: i % 3 === 0 ? 'y0' : 'y1',
      }),
    );
  }
  writeFileSync(process.env.E2E_BENCH_FILE, lines.join('\n') + '\n');
  run(
    'import',
    'jsonl',
    process.env.E2E_BENCH_FILE,
    '--dataset',
    'bench-100k',
    ...pairsArgs,
    '--preferred',
    'preferred',
    '--preferred-annotator',
    'dataset-label',
  );
}
