// Lint: the recommended JavaScript and TypeScript rules (less the noisy ones), the type-aware promise rules, plus the layer rules of
// docs/ARCHITECTURE.md, checked per folder with no-restricted-imports (static imports and `export ... from`)
// and no-restricted-syntax (the same patterns for `import()` and `require()`, which the first rule does not see).
// test/lint/boundaries.test.ts shows that each rule fails a forbidden import.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import { builtinModules } from 'node:module';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const anyOf = (names) => `(?:${names.map(escape).join('|')})`;
/** A relative import that climbs out of its folder into one of these top-level folders of src/. */
const into = (...layers) => `^(?:\\.\\.\\/)+(?:src\\/)?${anyOf(layers)}(?:\\/|$)`;

// Every database driver the store has used or may use (a driver switch stays covered): SQLite (native,
// built into Node, WebAssembly) and PostgreSQL.
const DATABASE_DRIVERS = [
  'sqlite3',
  'libsql',
  '@libsql/sqlite3',
  '@vscode/sqlite3',
  'better-sqlite3',
  'node:sqlite',
  'sql.js',
  '@sqlite.org/sqlite-wasm',
  'node-sqlite3-wasm',
  'wa-sqlite',
  'pg',
  'pg-copy-streams',
  'pg-pool',
  'pg-cursor',
  'pg-query-stream',
  'pg-native',
  'postgres',
];
const NODE_BUILTINS = builtinModules.filter((name) => !name.startsWith('_'));

const rule = {
  vscode: {
    regex: '^vscode$',
    message: 'Only src/extension imports vscode; other layers take what they need as arguments.',
  },
  drivers: {
    regex: `^${anyOf(DATABASE_DRIVERS)}(?:\\/|$)`,
    message: 'Only src/store imports a database driver; everything else goes through the Store port.',
  },
  onnx: { regex: '^onnxruntime-', message: 'Only src/judges imports onnxruntime.' },
  cliLibraries: {
    regex: '^(?:commander|cli-progress)(?:\\/|$)',
    message: 'Only src/cli parses arguments and draws progress bars (commander must stay out of the extension bundle).',
  },
  nodeBuiltins: {
    regex: `^(?:node:.*|${anyOf(NODE_BUILTINS)}(?:\\/.*)?)$`,
    message:
      'This layer is pure and is bundled into the webviews: no Node built-ins (no file, process, network or crypto); the caller passes the data or the function in.',
  },
  domLibraries: {
    regex: '^(?:dompurify|happy-dom|@vscode-elements\\/.*)$',
    message: 'This layer is pure TypeScript: no DOM libraries (they belong to webview/).',
  },
  coreImportsCore: {
    regex: into('store', 'importers', 'judges', 'app', 'cli', 'extension', 'shared'),
    message: 'src/core imports only src/core: pass data in instead of reaching into another layer.',
  },
  sharedImportsCore: {
    regex: into('store', 'importers', 'judges', 'app', 'cli', 'extension'),
    message: 'src/shared imports only src/core and src/shared (the webviews bundle it).',
  },
  webviewImportsPure: {
    regex: '^(?:\\.\\.\\/)+src\\/(?!(?:core|shared)(?:\\/|$))',
    message: 'webview/ imports only src/core and src/shared from src/.',
  },
  noFrontEnds: {
    regex: into('app', 'cli', 'extension'),
    message:
      'Data flows one way (files -> importers -> store -> core -> app -> front ends): this layer imports no src/app, src/cli or src/extension.',
  },
  appNoFrontEnds: {
    regex: into('cli', 'extension'),
    message: 'src/app serves both front ends: it imports neither src/cli nor src/extension.',
  },
  storeSealed: {
    // Any path into src/store other than its index (`../store`, `../store/index`), from anywhere outside it.
    regex: '^(?:\\.\\.\\/)+(?:src\\/)?store\\/(?!index(?:\\.[cm]?[jt]s)?$)',
    message:
      'Outside src/store, import the store only through src/store/index.ts (the port, its errors and helpers are re-exported there); adapters and shared SQL stay private.',
  },
  judgesNoImporters: {
    regex: into('importers'),
    message:
      'src/judges and src/importers are side by side: a judge imports no importer (what both need belongs in src/core, src/store or, for files, src/app).',
  },
  importersNoJudges: {
    regex: into('judges'),
    message: 'src/importers and src/judges are side by side: an importer imports no judge.',
  },
  extensionNoCli: {
    regex: into('cli'),
    message: 'src/extension never imports src/cli: share the code through src/app.',
  },
  cliNoExtension: {
    regex: into('extension'),
    message: 'src/cli never imports src/extension: share the code through src/app.',
  },
};

/**
 * Below the front ends a message names no CLI flag (`--dataset`): the error carries the option as data and each
 * front end names it (the CLI its flag, the extension its setting; src/core/errors.ts). A flag in a string or
 * template literal is reported, as is a template part that ends in `--` before a placeholder (`--${name}`).
 */
const noCliFlags = [
  {
    selector: 'Literal[value=/(?:^|[^\\w-])--[a-z]/]',
    message:
      'No CLI flag in a message below the front ends: throw the error with its option (UsageError(message, option)); the CLI names the flag, the extension the setting.',
  },
  {
    selector: 'TemplateElement[value.cooked=/(?:^|[^\\w-])--(?:[a-z]|$)/]',
    message:
      'No CLI flag in a message below the front ends: throw the error with its option (UsageError(message, option)); the CLI names the flag, the extension the setting.',
  },
];

/** One layer's rules: the same patterns for static imports, `import()` and `require()`; `syntax`: more no-restricted-syntax entries. */
function layer(files, restrictions, syntax = []) {
  const asSelectorRegex = (regex) => `/${regex}/`;
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: restrictions.map(({ regex, message }) => ({ regex, message, caseSensitive: true })) },
      ],
      'no-restricted-syntax': [
        'error',
        ...restrictions.flatMap(({ regex, message }) => [
          { selector: `ImportExpression[source.value=${asSelectorRegex(regex)}]`, message },
          { selector: `CallExpression[callee.name='require'][arguments.0.value=${asSelectorRegex(regex)}]`, message },
        ]),
        ...syntax,
      ],
    },
  };
}

// Globs do not overlap: in flat config a later block's options replace an earlier block's for the same rule.
const pureGlobals = [
  'process',
  'Buffer',
  'require',
  '__dirname',
  '__filename',
  'fetch',
  'crypto',
  'window',
  'document',
  'navigator',
  'self',
  'location',
  'localStorage',
  'sessionStorage',
  'XMLHttpRequest',
  'WebSocket',
  'customElements',
].map((name) => ({
  name,
  message:
    'src/core and src/shared are pure: no host, DOM or I/O globals; the caller passes the data or the function in.',
}));
const { drivers, onnx, vscode, cliLibraries, storeSealed } = rule;
const layers = [
  layer(
    ['src/core/**'],
    [rule.coreImportsCore, rule.nodeBuiltins, rule.domLibraries, vscode, drivers, onnx, cliLibraries],
  ),
  layer(
    ['src/shared/**'],
    [rule.sharedImportsCore, rule.nodeBuiltins, rule.domLibraries, vscode, drivers, onnx, cliLibraries],
  ),
  layer(['webview/**'], [rule.webviewImportsPure, rule.nodeBuiltins, vscode, drivers, onnx, cliLibraries]),
  layer(['src/store/**'], [rule.noFrontEnds, vscode, onnx, cliLibraries], noCliFlags),
  layer(
    ['src/judges/**'],
    [rule.noFrontEnds, rule.judgesNoImporters, storeSealed, vscode, drivers, cliLibraries],
    noCliFlags,
  ),
  layer(
    ['src/importers/**'],
    [rule.noFrontEnds, rule.importersNoJudges, storeSealed, vscode, drivers, onnx, cliLibraries],
    noCliFlags,
  ),
  layer(['src/app/**'], [rule.appNoFrontEnds, storeSealed, vscode, drivers, onnx, cliLibraries], noCliFlags),
  layer(['src/cli/**'], [rule.cliNoExtension, storeSealed, vscode, drivers, onnx]),
  layer(['src/extension/**'], [rule.extensionNoCli, storeSealed, drivers, onnx, cliLibraries]),
];

// src/cli prints only through the helpers of src/cli/context.ts, which escape control and bidi characters (a
// hostile dataset name never reaches the terminal raw): no console and no process.stdout/stderr.write elsewhere
// in src/cli. Its own block after the layers, so it repeats the src/cli layer's no-restricted-syntax patterns
// (a later block's options for a rule replace the earlier ones). test/lint/boundaries.test.ts shows it.
const cliLayer = layers.find((l) => l.files.includes('src/cli/**'));
const cliOutput = {
  files: ['src/cli/**'],
  ignores: ['src/cli/context.ts'],
  rules: {
    'no-console': 'error',
    'no-restricted-syntax': [
      ...cliLayer.rules['no-restricted-syntax'],
      {
        selector: "CallExpression[callee.property.name='write'][callee.object.property.name=/^(?:stdout|stderr)$/]",
        message:
          'src/cli prints only through the helpers of src/cli/context.ts (say, sayLines, note, printJson), which escape control characters.',
      },
    ],
  },
};

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'out/**',
      'node_modules/**',
      'coverage/**',
      '.e2e-host/**',
      '.vscode-test/**',
      '.device/**',
      '.tmp/**',
      'discretion-report/**',
      'test-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Noisy for this code base without finding bugs: `_` prefixed names are deliberately unused.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'no-control-regex': 'off',
    },
  },
  // CommonJS: the CLI's launcher and the empty-webview extension that bench:e2e loads into VS Code as is.
  {
    files: ['**/*.cjs', 'bin/**/*.js', 'test/e2e/empty-webview/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['webview/**'], languageOptions: { globals: { ...globals.browser } } },
  // The end-to-end driver and the browser benchmarks pass functions to Playwright that run in the page.
  { files: ['test/e2e/**', 'scripts/e2e-*.mjs'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['src/core/**', 'src/shared/**'], rules: { 'no-restricted-globals': ['error', ...pureGlobals] } },
  // Type-aware: a promise nobody awaits loses its error (an unacknowledged label, an unhandled rejection
  // that ends the process); one passed where a callback's return is ignored does too.
  {
    files: ['src/**/*.ts', 'webview/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error', '@typescript-eslint/no-misused-promises': 'error' },
  },
  ...layers,
  cliOutput,
);
