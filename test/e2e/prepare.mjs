// Workspace settings for the e2e run, and the hostile dataset imported with the CLI (the sample
// dataset is imported by the extension itself, from its bundled copy).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const { E2E_WS: ws, E2E_DB: db, E2E_ROOT: root } = process.env;
writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify({
  'discretion.databasePath': db,
  'discretion.annotator': 'e2e-annotator',
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
}, null, 2));
writeFileSync(join(ws, 'README.txt'), 'Discretion e2e workspace\n');
const cli = join(root, 'bin', 'discretion.js');
execFileSync(process.execPath, [cli, 'import', 'jsonl', join(root, 'test', 'fixtures', 'hostile', 'hostile-pairs.jsonl'), '--db', db, '--dataset', 'hostile-pairs',
  '--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'], { stdio: 'inherit' });
if (process.env.E2E_BENCH_PAIRS) {
  // the benchmark's generated dataset
  const n = Number(process.env.E2E_BENCH_PAIRS);
  process.env.E2E_BENCH_FILE = join(process.env.E2E_STATE, 'bench.jsonl');
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(JSON.stringify({ id: `b${i}`, prompt: `\n\nHuman: Question number ${i}: how should I handle situation ${i % 97}?\n\nAssistant: Can you say more?\n\nHuman: It is urgent (${i}).`,
      response_0: `**Answer ${i}/0.** ` + 'A careful, hedged response with some detail. '.repeat(8 + (i % 5)), response_1: `Answer ${i}/1:\n\n- point one\n- point two\n\n` + 'A direct response. '.repeat(10 + (i % 7)) }));
  }
  writeFileSync(process.env.E2E_BENCH_FILE, lines.join('\n') + '\n');
  execFileSync(process.execPath, [cli, 'import', 'principles', join(root, 'media', 'principles', 'demo-safety.yaml'), '--db', db, '--name', 'demo-safety'], { stdio: 'inherit' });
  execFileSync(process.execPath, [cli, 'import', 'jsonl', process.env.E2E_BENCH_FILE, '--db', db, '--dataset', 'bench-100k',
    '--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'], { stdio: 'inherit' });
}
