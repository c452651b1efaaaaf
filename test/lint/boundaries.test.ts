// The layer rules of eslint.config.mjs bite: each forbidden import, linted as if it were a file in that
// layer (a virtual path; nothing is written), is reported by the rule named, and the allowed imports of the
// same layer pass. The expectations come from the layer rules in docs/ARCHITECTURE.md, not from the config.
import { ESLint, type Linter } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers';

let eslint: ESLint;
beforeAll(() => {
  // the probes are virtual files no TypeScript project holds: the type-aware rules (test/lint/typed-rules.test.ts) are off here
  eslint = new ESLint({
    cwd: ROOT,
    overrideConfig: {
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off', '@typescript-eslint/no-misused-promises': 'off' },
    },
  });
});

async function lint(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath, warnIgnored: true });
  return result!.messages;
}

/** Lints `code` as `filePath` and expects exactly one error, from `rule`, whose message names `says`. */
async function expectForbidden(filePath: string, code: string, rule: string, says: string): Promise<void> {
  const messages = await lint(filePath, code);
  expect(messages.map((m) => `${m.ruleId}: ${m.message}`)).toEqual([expect.stringContaining(says)]);
  expect(messages[0]!.ruleId).toBe(rule);
  expect(messages[0]!.severity).toBe(2);
}

async function expectAllowed(filePath: string, code: string): Promise<void> {
  expect((await lint(filePath, code)).map((m) => `${m.ruleId}: ${m.message}`)).toEqual([]);
}

const STATIC = '@typescript-eslint/no-restricted-imports';
const DYNAMIC = 'no-restricted-syntax';
const use = (names: string) => `\nexport const used = [${names}];\n`;

describe('src/core: pure TypeScript', () => {
  const file = 'src/core/metrics/lint-probe.ts';
  it.each([
    ["import * as vscode from 'vscode';" + use('vscode'), 'src/extension imports vscode'],
    ["import { readFileSync } from 'node:fs';" + use('readFileSync'), 'no Node built-ins'],
    ["import { readFileSync } from 'fs';" + use('readFileSync'), 'no Node built-ins'],
    ["import { createHash } from 'node:crypto';" + use('createHash'), 'no Node built-ins'],
    ["import { execFile } from 'node:child_process';" + use('execFile'), 'no Node built-ins'],
    ["import { request } from 'node:http';" + use('request'), 'no Node built-ins'],
    ["import { Store } from '../../store/store';" + use('Store'), 'src/core imports only src/core'],
    [
      "import { parseMessage } from '../../shared/workbenchProtocol';" + use('parseMessage'),
      'src/core imports only src/core',
    ],
    [
      "import { importDataset } from '../../importers/datasets';" + use('importDataset'),
      'src/core imports only src/core',
    ],
    ["import DOMPurify from 'dompurify';" + use('DOMPurify'), 'no DOM libraries'],
  ])('%s is an error', async (code, says) => {
    await expectForbidden(file, code, STATIC, says);
  });

  it('a dynamic import() of a Node built-in is an error too', async () => {
    await expectForbidden(file, "export const load = () => import('node:fs');", DYNAMIC, 'no Node built-ins');
  });

  it.each([['document.title'], ['process.env.HOME'], ['window.name'], ['fetch']])(
    'the global %s is an error',
    async (expr) => {
      await expectForbidden(
        'src/core/lint-probe.ts',
        `export const g = ${expr};`,
        'no-restricted-globals',
        'no host, DOM or I/O globals',
      );
    },
  );

  it('imports inside src/core and of a pure package are allowed', async () => {
    await expectAllowed(
      file,
      "import { parse } from 'yaml';\nimport { CoreError } from '../errors';\nimport * as stats from './stats';" +
        use('parse, CoreError, stats'),
    );
  });
});

describe('webview/: only src/core and src/shared from src/', () => {
  const file = 'webview/workbench/lint-probe.ts';
  it.each([
    ["import { Store } from '../../src/store/store';" + use('Store'), 'webview/ imports only src/core and src/shared'],
    [
      "import { prepareReport } from '../../src/app/report';" + use('prepareReport'),
      'webview/ imports only src/core and src/shared',
    ],
    [
      "import { WorkbenchPanel } from '../../src/extension/workbenchPanel';" + use('WorkbenchPanel'),
      'webview/ imports only src/core and src/shared',
    ],
    ["import * as vscode from 'vscode';" + use('vscode'), 'src/extension imports vscode'],
    ["import { join } from 'node:path';" + use('join'), 'no Node built-ins'],
  ])('%s is an error', async (code, says) => {
    await expectForbidden(file, code, STATIC, says);
  });

  it('src/core, src/shared, its own folder and browser packages are allowed', async () => {
    await expectAllowed(
      file,
      "import { escapeHtml } from '../../src/core/report/escape';\nimport { parseMessage } from '../../src/shared/workbenchProtocol';\n" +
        "import { render } from './render';\nimport DOMPurify from 'dompurify';" +
        use('escapeHtml, parseMessage, render, DOMPurify'),
    );
  });
});

describe('the front ends do not import each other', () => {
  it.each([
    ['src/extension/dashboard.ts', "import { prepareReport } from '../cli/commands/report';" + use('prepareReport')],
    ['src/extension/commands/lint-probe.ts', "import { openContext } from '../../cli/context';" + use('openContext')],
  ])('%s importing src/cli is an error', async (file, code) => {
    await expectForbidden(file, code, STATIC, 'src/extension never imports src/cli');
  });

  it('src/cli importing src/extension is an error', async () => {
    await expectForbidden(
      'src/cli/commands/lint-probe.ts',
      "import { WorkbenchPanel } from '../../extension/workbenchPanel';" + use('WorkbenchPanel'),
      STATIC,
      'src/cli never imports src/extension',
    );
  });

  it('commander in src/extension is an error (it must stay out of the extension bundle)', async () => {
    await expectForbidden(
      'src/extension/lint-probe.ts',
      "import { Command } from 'commander';" + use('Command'),
      STATIC,
      'Only src/cli parses arguments',
    );
  });

  it('src/app importing a front end is an error', async () => {
    await expectForbidden(
      'src/app/lint-probe.ts',
      "import { main } from '../cli/main';" + use('main'),
      STATIC,
      'src/app serves both front ends',
    );
  });

  it('both front ends may import src/app, and src/cli may import commander', async () => {
    await expectAllowed(
      'src/extension/commands/lint-probe.ts',
      "import { prepareReport } from '../../app/report';" + use('prepareReport'),
    );
    await expectAllowed(
      'src/cli/commands/lint-probe.ts',
      "import { prepareReport } from '../../app/report';\nimport { Command } from 'commander';" +
        use('prepareReport, Command'),
    );
  });
});

describe('only src/store imports a database driver', () => {
  // The drivers named in issues 11 and 18 (the current one, the candidates for the switch, and PostgreSQL's).
  const drivers = [
    'libsql',
    '@libsql/sqlite3',
    'sqlite3',
    '@vscode/sqlite3',
    'better-sqlite3',
    'node:sqlite',
    'pg',
    'pg-copy-streams',
  ];
  it.each(drivers)('%s outside src/store is an error', async (driver) => {
    for (const file of [
      'src/importers/lint-probe.ts',
      'src/app/lint-probe.ts',
      'src/extension/lint-probe.ts',
      'src/cli/lint-probe.ts',
    ]) {
      await expectForbidden(
        file,
        `import * as driver from '${driver}';` + use('driver'),
        STATIC,
        'Only src/store imports a database driver',
      );
    }
  });

  it.each(drivers)('%s inside src/store is allowed', async (driver) => {
    await expectAllowed('src/store/sqlite/lint-probe.ts', `import * as driver from '${driver}';` + use('driver'));
  });

  it('require() and import() of a driver outside src/store are errors too', async () => {
    // (require() is also reported by typescript-eslint's no-require-imports; only the layer rule is looked at here)
    const required = (await lint('src/importers/lint-probe.ts', "export const d = require('sqlite3');")).filter(
      (m) => m.ruleId === DYNAMIC,
    );
    expect(required.map((m) => m.message)).toEqual([
      expect.stringContaining('Only src/store imports a database driver'),
    ]);
    await expectForbidden(
      'src/app/lint-probe.ts',
      "export const d = () => import('node:sqlite');",
      DYNAMIC,
      'Only src/store imports a database driver',
    );
  });
});

describe('only src/judges imports onnxruntime', () => {
  it.each([
    'src/app/lint-probe.ts',
    'src/extension/lint-probe.ts',
    'src/store/lint-probe.ts',
    'src/core/lint-probe.ts',
  ])('%s: an error', async (file) => {
    await expectForbidden(
      file,
      "import * as ort from 'onnxruntime-node';" + use('ort'),
      STATIC,
      'Only src/judges imports onnxruntime',
    );
  });

  it('src/judges: allowed', async () => {
    await expectAllowed('src/judges/lint-probe.ts', "import * as ort from 'onnxruntime-node';" + use('ort'));
  });
});

describe('src/cli prints only through src/cli/context.ts', () => {
  // The CLI's output escapes control and bidi characters (test/cli/terminal-safe.test.ts) because every line goes
  // through context.ts's helpers; a console call or a raw write anywhere else in src/cli would bypass them.
  const file = 'src/cli/commands/lint-probe.ts';
  it.each([["console.log('x');"], ["console.error('x');"]])('%s is an error', async (code) => {
    await expectForbidden(file, code, 'no-console', 'Unexpected console statement');
  });

  it.each([["process.stdout.write('x\\n');"], ["process.stderr.write('x\\n');"]])('%s is an error', async (code) => {
    await expectForbidden(file, code, DYNAMIC, 'src/cli prints only through the helpers of src/cli/context.ts');
  });

  it("the src/cli layer's import rules still hold in the same files", async () => {
    await expectForbidden(file, "export const load = () => import('vscode');", DYNAMIC, 'src/extension imports vscode');
  });

  it('context.ts itself writes to the streams; elsewhere other write() calls and the streams themselves are allowed', async () => {
    await expectAllowed('src/cli/context.ts', "process.stdout.write('x\\n');\nprocess.stderr.write('x\\n');");
    await expectAllowed(
      file,
      'export const tty = process.stderr.isTTY;\nexport const save = (s: { write(f: () => void): void }) => s.write(() => undefined);',
    );
  });
});

describe('outside src/store, the store is imported only through src/store/index.ts', () => {
  const SEALED = 'import the store only through src/store/index.ts';
  it.each([
    ['src/app/lint-probe.ts', "import type { Store } from '../store/port';" + use('0 as unknown as Store')],
    ['src/app/workbench/lint-probe.ts', "import { json } from '../../store/common';" + use('json')],
    [
      'src/cli/commands/lint-probe.ts',
      "import { openSqliteStore } from '../../store/sqlite/adapter';" + use('openSqliteStore'),
    ],
    ['src/extension/lint-probe.ts', "import { PG_MIGRATIONS } from '../store/postgres/schema';" + use('PG_MIGRATIONS')],
    ['src/judges/lint-probe.ts', "import { isDatabaseUrl } from '../store/location';" + use('isDatabaseUrl')],
    ['src/importers/lint-probe.ts', "import { insertPairs } from '../store/sql/datasets';" + use('insertPairs')],
  ])('%s importing a file inside src/store is an error', async (file, code) => {
    await expectForbidden(file, code, STATIC, SEALED);
  });

  it('a dynamic import() of a file inside src/store is an error too', async () => {
    await expectForbidden(
      'src/app/lint-probe.ts',
      "export const load = () => import('../store/sqlite/adapter');",
      DYNAMIC,
      SEALED,
    );
  });

  it('the index itself is allowed outside, and any file of src/store inside it', async () => {
    await expectAllowed(
      'src/app/lint-probe.ts',
      "import { openStore, type Store } from '../store';\nimport { now } from '../store/index';" +
        use('openStore, now, 0 as unknown as Store'),
    );
    await expectAllowed(
      'src/store/sqlite/lint-probe.ts',
      "import type { Store } from '../port';\nimport { json } from '../common';" + use('json, 0 as unknown as Store'),
    );
  });
});

describe('src/importers and src/judges do not import each other', () => {
  it('a judge importing an importer is an error', async () => {
    await expectForbidden(
      'src/judges/lint-probe.ts',
      "import { importDataset } from '../importers/datasets';" + use('importDataset'),
      STATIC,
      'a judge imports no importer',
    );
  });

  it('an importer importing a judge is an error', async () => {
    await expectForbidden(
      'src/importers/lint-probe.ts',
      "import { runLlmJudge } from '../judges/llmJudge';" + use('runLlmJudge'),
      STATIC,
      'an importer imports no judge',
    );
  });
});

describe('no CLI flag in a message below the front ends', () => {
  const FLAG = 'No CLI flag in a message below the front ends';
  it.each([
    [
      'src/store/sql/lint-probe.ts',
      'export const f = (name: string) => { throw new Error(`dataset "${name}" already exists; choose another --dataset name`); };',
    ],
    [
      'src/importers/lint-probe.ts',
      "export const f = () => { throw new Error('import oracle needs --principles NAME'); };",
    ],
    ['src/judges/lint-probe.ts', "export const m = '--base-url is not a URL';"],
    ['src/app/lint-probe.ts', 'export const m = (k: string) => `--${k} is required`;'],
  ])('%s: a flag in a message is an error', async (file, code) => {
    await expectForbidden(file, code, DYNAMIC, FLAG);
  });

  it('the front ends may name their flags; SQL comments and a plain dash are no flags', async () => {
    await expectAllowed('src/cli/commands/lint-probe.ts', "export const m = 'choose another --dataset name';");
    await expectAllowed(
      'src/store/sql/lint-probe.ts',
      "export const q = 'SELECT 1 -- one row\\n';\nexport const d = 'a - b, x--y';",
    );
  });
});
