// The team end-to-end suite (issue 12): two VS Code windows as two annotators on one real PostgreSQL, k = 2
// on the sample dataset (media/sample/safety-pairs.jsonl, 30 pairs), labelling at the same time.
//
// Each window is its own VS Code server with its own user-data folder (user settings: annotator name,
// database URL, claim TTL), extensions folder (the VSIX installed there), workspace and extension host, and
// its own browser context. The database is a PostgreSQL server started for this run (test/support/postgres.ts),
// set up as the README's team section says: the DBA's part (a lead login with CREATEROLE that owns the
// database, one login per annotator, nothing granted), then the real CLI as the lead (team init, team add for
// ana, ben and alice, the sample, the principle list, a work split with overlap 2). Each window signs in with
// its annotator's own login, which has only its membership of the team: the database's row-level policies
// hold for everything the extension does there, and the card says who is signed in. The password reaches
// the CLI and both servers only through PGPASSWORD; the setting holds the URL without it.
//
// With two annotators and k = 2 each annotator labels every pair, and no claim can keep one from a pair: a
// pair only becomes contested when it needs one label more. So a third annotator, alice, has labelled the
// second half (s16-s30) beforehand (her bundled labels, imported with the CLI): those 15 pairs want one label
// each, from whichever window claims them first. What is checked:
//   1. both windows open the workbench on s01 (both claims fit: k = 2) and each tree reads
//      `15/60 team labels · 0 mine` (the description of CONTRACT.md);
//   2. each tree follows the other window's labels without a reload: ana labels two pairs while ben's
//      window is left alone, ben's tree counts them; then the other way round;
//   3. both label at the same time: s01-s15 each, then the contested half, where a pair claimed by one never
//      shows up in the other window;
//   4. ben stops in the middle of a claim (a contested pair P on his card, not submitted); ana labels until
//      nothing is left to claim; past one TTL with ben's window open, P is still his (the open card renews
//      the claim); then ben's window is closed and its extension host killed (no clean release: only the
//      TTL can free the pair); ana, asking for the next pair (Alt+N: the end of her queue does not claim by
//      itself, since an expiring claim writes nothing that would tell her window), is told there is none
//      while ben's claim lives and gets P once it has expired, then labels it;
//   5. the database at the end: every pair exactly 2 human labels from 2 different annotators, each label
//      submitted once (the label history: one submit per stored label, nothing undone); ana's tree reads
//      60/60 and her window had no uncaught errors.
// Run by scripts/e2e-team-run.sh (part of npm run test:e2e); writes test-results/team-*.png and
// test-results/team-e2e.json (the run's figures).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { launchBrowser, openWorkbench, runCommand, webview } from './driver.mjs';
import { prepareServer, removeServer, startServer } from './host.mjs';
import { startPostgres } from './postgres.mjs';
import { assertBackground, assertDrawn, boxOf, decodePng, dominant, THEME } from './pixels.mjs';
import { assertAllGone, snapshot } from './processes.mjs';

const root = process.env.E2E_ROOT;
const hostDir = process.env.E2E_HOST_DIR;
const vsix = process.env.E2E_VSIX;
assert.ok(root && hostDir && vsix, 'run by scripts/e2e-team-run.sh (E2E_ROOT, E2E_HOST_DIR, E2E_VSIX)');
const out = join(root, 'test-results');
mkdirSync(out, { recursive: true });
for (const f of [
  'team-failure-ana.png',
  'team-failure-ben.png',
  'team-ana-end.png',
  'team-ben-holding-claim.png',
  'team-e2e.json',
])
  rmSync(join(out, f), { force: true });
const t0 = Date.now();
const lap = (m) => console.log(`[team-e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);

const DATASET = 'safety-pairs-sample';
const LIST = 'demo-safety';
const K = 2;
const TTL_S = 12; // discretion.team.claimTtlSeconds in both windows (renewed every TTL/3 while a card is open)
const N = 30;
const id = (i) => `s${String(i).padStart(2, '0')}`;
const ALL = Array.from({ length: N }, (_, i) => id(i + 1));
const SEEDED = ALL.slice(15); // alice's labels: these want one label more
const isSeeded = (sid) => SEEDED.includes(sid);
const BEN_SEEDED_BEFORE_STOP = 2; // ben labels this many contested pairs, then stops with the next on his card

const figures = { ttl_s: TTL_S, k: K, pairs: N };
let pgServer;
let pgFolder; // the PostgreSQL server's folder (its data folder's parent): gone once the server is stopped
let db;
const servers = []; // prepared (folders, VSIX installed)
const running = []; // started: each with its process group and stop()
let browser;
let stopping; // stopAll()'s promise: run once, from the end or from a signal
let ok = false;
let current = 'setup';
const windows = {};
// Ctrl-C or a kill: the same cleanup as at the end, then out
/** @type {[NodeJS.Signals, number][]} */
const SIGNALS = [
  ['SIGINT', 130],
  ['SIGTERM', 143],
];
for (const [sig, code] of SIGNALS) {
  process.once(sig, () => {
    console.error(`team e2e: ${sig}, stopping what it started`);
    void stopAll().finally(() => process.exit(code));
  });
}

try {
  // ---- the database: a real PostgreSQL, filled with the real CLI ----------------------------------------
  try {
    pgServer = await startPostgres();
  } catch (e) {
    // as the vitest PostgreSQL tests: without the server binaries (and no root to apt-get them) the suite is
    // skipped with the reason printed; under CI=true that fails the run instead
    if (process.env.CI === 'true' || !/binaries not found/.test(e.message)) throw e;
    console.log(`team e2e skipped: ${e.message}`);
    process.exit(0);
  }
  const dbUrlWithPassword = await pgServer.createDatabase('team'); // the superuser's: for this script's own checks only
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  pgFolder = dirname((await admin.query('SHOW data_directory')).rows[0].data_directory);
  // the DBA's part: logins (one password for all, in PGPASSWORD), the lead's may create roles and owns the database
  await admin.query(`CREATE ROLE team_lead LOGIN CREATEROLE PASSWORD '${pgServer.password}'`);
  for (const name of ['ana', 'ben', 'alice'])
    await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD '${pgServer.password}'`);
  await admin.query('ALTER DATABASE team OWNER TO team_lead');
  await admin.end();
  /** A login's URL to the team's database, without the password (PGPASSWORD). */
  const urlOf = (login) => `postgres://${login}@127.0.0.1:${pgServer.port}/team`;
  const dbUrl = urlOf('team_lead');
  const pgEnv = { PGPASSWORD: pgServer.password };
  lap(`PostgreSQL on port ${pgServer.port}: ${dbUrl}`);
  const cliAs = (login, ...args) =>
    execFileSync(process.execPath, [join(root, 'bin', 'discretion.js'), ...args, '--db', urlOf(login)], {
      encoding: 'utf8',
      env: { ...process.env, ...pgEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const cli = (...args) => cliAs('team_lead', ...args);
  cli('team', 'init');
  for (const name of ['ana', 'ben', 'alice']) cli('team', 'add', name, '--annotator', name);
  const pairsArgs = ['--prompt', 'prompt', '--response-0', 'response_0', '--response-1', 'response_1', '--id', 'id'];
  cli('import', 'jsonl', join(root, 'media', 'sample', 'safety-pairs.jsonl'), '--dataset', DATASET, ...pairsArgs);
  cli('import', 'principles', join(root, 'media', 'principles', 'demo-safety.yaml'), '--name', LIST);
  const aliceFile = join(out, 'team-e2e-alice-s16-s30.jsonl');
  const aliceLines = readFileSync(join(root, 'media', 'sample', 'labels-alice.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => isSeeded(JSON.parse(l).pair));
  assert.equal(aliceLines.length, SEEDED.length);
  writeFileSync(aliceFile, aliceLines.join('\n') + '\n');
  cli('team', 'split', '--dataset', DATASET, '--overlap', String(K));
  cliAs('alice', 'import', 'labels', aliceFile, '--dataset', DATASET, '--principles', LIST, '--annotator', 'alice');
  lap(
    "team init, members ana, ben and alice, the sample, split with overlap 2 (CLI, the lead); alice's labels on s16-s30 (CLI, alice)",
  );

  db = new pg.Pool({ connectionString: dbUrlWithPassword, max: 2 });
  const q = async (sql, params = []) => (await db.query(sql, params)).rows;
  /** Human labels per pair, as "sid:annotator,annotator" sorted. */
  const labelsByPair = async () =>
    new Map(
      (
        await q(
          `SELECT p.source_id AS sid, string_agg(a.name, ',' ORDER BY a.name) AS who, COUNT(*)::int AS n FROM pairs p
     JOIN datasets d ON d.id = p.dataset_id LEFT JOIN preferences pr ON pr.pair_id = p.id
     LEFT JOIN annotators a ON a.id = pr.annotator_id AND a.kind = 'human'
     WHERE d.name = $1 GROUP BY p.source_id ORDER BY p.source_id`,
          [DATASET],
        )
      ).map((r) => [r.sid, r.who ? r.who.split(',') : []]),
    );
  const humanLabels = async () =>
    Number(
      (
        await q(
          `SELECT COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id
     JOIN annotators a ON a.id = pr.annotator_id WHERE d.name = $1 AND a.kind = 'human'`,
          [DATASET],
        )
      )[0].n,
    );
  const labelsOf = async (name) =>
    (
      await q(
        `SELECT p.source_id AS sid FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id
     JOIN annotators a ON a.id = pr.annotator_id WHERE d.name = $1 AND a.name = $2 ORDER BY p.idx`,
        [DATASET, name],
      )
    ).map((r) => r.sid);
  /** Live claims (not expired, on a pair the claimer has not labelled): sid -> [{annotator, expiresAt}]. */
  const liveClaims = async () => {
    const rows = await q(
      `SELECT p.source_id AS sid, a.name AS who, cl.expires_at::bigint AS exp FROM claims cl JOIN pairs p ON p.id = cl.pair_id
       JOIN datasets d ON d.id = p.dataset_id JOIN annotators a ON a.id = cl.annotator_id
       WHERE d.name = $1 AND cl.expires_at > $2
       AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = cl.pair_id AND x.annotator_id = cl.annotator_id) ORDER BY p.idx, a.name`,
      [DATASET, Date.now()],
    );
    return rows.map((r) => ({ sid: r.sid, who: r.who, expiresAt: Number(r.exp) }));
  };
  const split = (await q('SELECT overlap FROM datasets WHERE name = $1', [DATASET]))[0];
  assert.equal(split.overlap, K, 'the CLI stored the split');
  assert.equal(await humanLabels(), SEEDED.length);

  // ---- two windows: two servers with their own profiles, one browser context each -----------------------
  current = 'starting two VS Code windows';
  const settingsFor = (name) => ({
    'discretion.annotator': name,
    'discretion.databasePath': urlOf(name), // the window signs in as the annotator's own login
    'discretion.team.claimTtlSeconds': TTL_S,
    'discretion.team.refreshSeconds': 1,
    'workbench.colorTheme': 'Default Dark Modern',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'chat.disableAIFeatures': true,
  });
  for (const name of ['ana', 'ben'])
    servers.push(prepareServer({ name, hostDir, vsix, userSettings: settingsFor(name) }));
  lap('VSIX installed into two extensions folders');
  const started = await Promise.all(
    servers.map(async (s) => {
      const r = await startServer(s, { env: pgEnv, log: lap });
      running.push(r);
      return r;
    }),
  );
  browser = await launchBrowser();
  for (const s of started) {
    const { page } = await browser.newWindow();
    const errors = [];
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    windows[s.name] = makeWindow(s.name, page, s, errors);
  }
  const { ana, ben } = windows;
  await Promise.all([ana, ben].map((w) => openWorkbench(w.page, w.server.url)));
  lap('both windows up');

  // ---- 1. both trees, both workbenches on s01 ------------------------------------------------------------
  current = 'step 1: the trees and the first claims';
  for (const w of [ana, ben]) {
    await runCommand(w.page, 'Discretion: Focus on Datasets View', {
      after: () => w.datasetRow().waitFor({ timeout: 15_000 }),
    });
    await w.expectTree(15, 0, 30_000);
  }
  for (const w of [ana, ben]) {
    await runCommand(w.page, 'Discretion: Open Workbench', {
      after: () => w.card().and(webview(w.page).locator('[data-source-id]')).waitFor({ timeout: 60_000 }),
    });
  }
  for (const w of [ana, ben]) {
    // signed in as the window's own login, in the annotator role: the card says so
    await webview(w.page)
      .locator('#progress', { hasText: `labelled by ${w.name} (login ${w.name} · annotator)` })
      .waitFor({ timeout: 15_000 });
  }
  assert.equal(await ana.sourceId(), 's01', 'ana starts on s01');
  assert.equal(await ben.sourceId(), 's01', 'ben starts on s01 too: two claims fit a pair that wants two labels');
  assert.deepEqual(
    (await liveClaims()).map((c) => `${c.sid}:${c.who}`),
    ['s01:ana', 's01:ben'],
  );
  lap('both workbenches open on s01, both claims stored');

  // ---- 2. each tree follows the other's labels without a reload ------------------------------------------
  current = 'step 2: live progress in the other window';
  await ana.label(2);
  let tLive = Date.now();
  await ben.expectTree(17, 0, 20_000);
  figures.live_tree_ms_ben = Date.now() - tLive;
  await ben.label(1);
  tLive = Date.now();
  await ana.expectTree(18, 2, 20_000);
  figures.live_tree_ms_ana = Date.now() - tLive;
  await ben.expectTree(18, 1, 20_000);
  lap(
    `trees follow the other window (ben saw ana's labels after ${figures.live_tree_ms_ben} ms, ana ben's after ${figures.live_tree_ms_ana} ms)`,
  );

  // ---- 3. both label at the same time ---------------------------------------------------------------------
  current = 'step 3: labelling at the same time';
  const tConc = Date.now();
  // each labels its uncontested pairs (s01-s15) until a contested pair is on its card
  await Promise.all([ana.labelWhile((sid) => !isSeeded(sid)), ben.labelWhile((sid) => !isSeeded(sid))]);
  const [aFirst, bFirst] = [await ana.sourceId(), await ben.sourceId()];
  assert.ok(isSeeded(aFirst) && isSeeded(bFirst), `both reached the contested half: ${aFirst}, ${bFirst}`);
  assert.notEqual(aFirst, bFirst, 'a contested pair claimed by one window is not shown in the other');
  assert.deepEqual(await labelsOf('ana'), ALL.slice(0, 15));
  assert.deepEqual(await labelsOf('ben'), ALL.slice(0, 15));
  // the contested half at the same time: ben labels a few and stops with the next on his card (a claim in
  // the middle), ana labels until nothing is left to claim
  const benRun = (async () => {
    let n = 0;
    await ben.labelWhile(() => n++ < BEN_SEEDED_BEFORE_STOP);
  })();
  await Promise.all([benRun, ana.labelUntilEmpty()]);
  figures.concurrent_s = (Date.now() - tConc) / 1000;
  const P = await ben.sourceId();
  assert.ok(P && isSeeded(P), `ben holds a contested pair on his card: ${P}`);
  const benLabels = await labelsOf('ben');
  const anaLabels = await labelsOf('ana');
  assert.equal(benLabels.length, 15 + BEN_SEEDED_BEFORE_STOP, `ben's labels: ${benLabels}`);
  for (const sid of benLabels.filter(isSeeded)) assert.ok(!anaLabels.includes(sid), `${sid} went to one window only`);
  assert.ok(!anaLabels.includes(P), `ana was not given ${P} while ben holds it`);
  assert.equal(
    anaLabels.length,
    15 + SEEDED.length - BEN_SEEDED_BEFORE_STOP - 1,
    `ana labelled every other pair: ${anaLabels}`,
  );
  const claimsNow = await liveClaims();
  assert.deepEqual(
    claimsNow.map((c) => `${c.sid}:${c.who}`),
    [`${P}:ben`],
    "the only live claim is ben's, on his card",
  );
  assert.equal(await humanLabels(), N * K - 1);
  await ana.expectTree(N * K - 1, anaLabels.length, 20_000);
  await ben.expectTree(N * K - 1, benLabels.length, 20_000);
  lap(
    `labelled at the same time (${figures.concurrent_s.toFixed(1)} s): ana ${anaLabels.length}, ben ${benLabels.length}, alice ${SEEDED.length}; ben holds ${P}, ana has nothing to claim`,
  );

  // ---- 4. a window closed in the middle of a claim ---------------------------------------------------------
  current = 'step 4: a window closed in the middle of a claim';
  // past one TTL with ben's card open: his claim is renewed, and P is still not ana's
  const firstExpiry = claimsNow[0].expiresAt;
  await ana.page.waitForTimeout(Math.max(0, firstExpiry - Date.now()) + 1500);
  const renewed = await liveClaims();
  assert.deepEqual(
    renewed.map((c) => `${c.sid}:${c.who}`),
    [`${P}:ben`],
    "ben's open card renewed its claim past the first TTL",
  );
  assert.ok(renewed[0].expiresAt > firstExpiry);
  assert.equal(await ana.askNext(), null, `ana asks for a pair: nothing, ${P} is ben's (his card open)`);
  await ana.page.waitForTimeout(1500);
  await ana.expectNoCard(`${P} (claimed by ben, his card open)`);
  assert.ok(
    (await liveClaims()).some((c) => c.sid === P && c.who === 'ben' && c.expiresAt > Date.now()),
    "ben's claim still lives",
  );
  // ben closes his window; his extension host is killed with it (the server would keep it for a reconnection)
  assert.deepEqual(ben.errors, [], "no uncaught errors in ben's window");
  // the picture: ben's card holding P, drawn as text on the dark theme's background
  const benShot = decodePng(await ben.page.screenshot({ path: join(out, 'team-ben-holding-claim.png') }));
  const benCard = await boxOf(ben.card(), `ben's card`);
  assertBackground(
    benShot,
    { ...benCard, height: Math.min(benCard.height, 30) },
    THEME.dark.editor,
    "team-ben-holding-claim.png: the card's heading",
  );
  assertDrawn(benShot, benCard, THEME.dark.editor, {
    min: 3000,
    ratio: 4.5,
    what: `team-ben-holding-claim.png: the card of ${P}`,
  });
  await ben.page.context().close();
  const benServer = started.find((s) => s.name === 'ben');
  await benServer.stop('SIGKILL');
  const lastClaim = (await liveClaims()).find((c) => c.sid === P && c.who === 'ben');
  assert.ok(lastClaim, `ben's claim on ${P} outlives his window`);
  const expiresAt = lastClaim.expiresAt;
  lap(`ben's window closed holding ${P}; his claim expires in ${((expiresAt - Date.now()) / 1000).toFixed(1)} s`);
  const got = await ana.waitForPair(P, expiresAt, TTL_S * 1000 + 30_000);
  // she asked while ben's claim lived and was told there is nothing for her (else "not before" proves nothing)
  assert.ok(got.asksBefore >= 1, `ana asked for a pair at least once before ben's claim expired (${got.asksBefore})`);
  // and the claim she holds now was taken after ben's expired (its expiry is one TTL after it was taken or renewed)
  const anaClaim = (await liveClaims()).find((c) => c.sid === P && c.who === 'ana');
  assert.ok(
    anaClaim && anaClaim.expiresAt - TTL_S * 1000 >= expiresAt,
    `ana's claim on ${P} was taken after ben's expired`,
  );
  figures.pickup_after_expiry_ms = got.at - expiresAt;
  figures.asks_before_expiry = got.asksBefore;
  await ana.label(1);
  await ana.labelUntilEmpty();
  lap(`${P} went to ana ${figures.pickup_after_expiry_ms} ms after ben's claim expired`);

  // ---- 5. the database at the end --------------------------------------------------------------------------
  current = 'step 5: the database at the end';
  const byPair = await labelsByPair();
  assert.equal(byPair.size, N);
  for (const [sid, who] of byPair) {
    assert.equal(who.length, K, `${sid} has exactly ${K} labels: ${who}`);
    assert.equal(new Set(who).size, K, `${sid}: from ${K} different annotators`);
    assert.deepEqual(
      who,
      isSeeded(sid) ? [who.includes('ana') ? 'ana' : 'ben', 'alice'].sort() : ['ana', 'ben'],
      `${sid}: by ${who}`,
    );
  }
  const finalAna = await labelsOf('ana'),
    finalBen = await labelsOf('ben');
  assert.equal(finalAna.length + finalBen.length + SEEDED.length, N * K);
  assert.ok(finalAna.includes(P));
  // every label submitted once: one submit in the history per stored label, none undone, nothing else
  const hist = await q(
    `SELECT a.name AS who, p.source_id AS sid, h.action, h.undone FROM label_history h JOIN annotators a ON a.id = h.annotator_id
    JOIN pairs p ON p.id = h.pair_id JOIN datasets d ON d.id = p.dataset_id WHERE d.name = $1 AND a.name IN ('ana', 'ben') ORDER BY a.name, p.idx`,
    [DATASET],
  );
  assert.deepEqual(
    hist.map((h) => `${h.who}:${h.sid}:${h.action}:${h.undone}`),
    [...finalAna.map((sid) => `ana:${sid}:submit:0`), ...finalBen.map((sid) => `ben:${sid}:submit:0`)],
  );
  await ana.expectTree(N * K, finalAna.length, 20_000);
  Object.assign(figures, {
    labels_ana: finalAna.length,
    labels_ben: finalBen.length,
    labels_alice: SEEDED.length,
    contested_pair: P,
  });
  assert.deepEqual(ana.errors, [], "no uncaught errors in ana's window");
  // the picture: ana's window says there is nothing left to claim, and her tree reads 60/60, legibly
  const anaShot = decodePng(await ana.page.screenshot({ path: join(out, 'team-ana-end.png') }));
  const anaStatus = await boxOf(webview(ana.page).locator('#status'), "ana's status line");
  assertBackground(anaShot, anaStatus, THEME.dark.editor, 'team-ana-end.png: behind the end-of-queue line');
  assertDrawn(anaShot, anaStatus, THEME.dark.editor, {
    min: 300,
    ratio: 4.5,
    what: 'team-ana-end.png: the end-of-queue line',
  });
  const anaRow = await boxOf(ana.datasetRow(), "ana's dataset row");
  assertDrawn(anaShot, anaRow, dominant(anaShot, anaRow), {
    min: 300,
    ratio: 4.5,
    what: "team-ana-end.png: the Datasets view's row",
  });
  ok = true;
} catch (e) {
  console.error(`TEAM E2E FAILED in ${current}:`, e?.stack ?? e);
  for (const [name, w] of Object.entries(windows)) {
    if (!w.page.isClosed())
      await w.page.screenshot({ path: join(out, `team-failure-${name}.png`) }).catch(() => undefined);
  }
} finally {
  if (!(await stopAll())) ok = false;
}
figures.wall_s = (Date.now() - t0) / 1000;
writeFileSync(join(out, 'team-e2e.json'), JSON.stringify({ ok, ...figures }, null, 2) + '\n');
lap(ok ? `PASS (${figures.wall_s.toFixed(1)} s)` : 'FAIL');
process.exit(ok ? 0 : 1);

/**
 * Stops everything this run started, pass or fail (also on Ctrl-C, below): the browser, both VS Code servers
 * (their process groups), the PostgreSQL server; then checks that none of those processes is left and that
 * the PostgreSQL folder is gone. False (with the reason printed) when something is left.
 */
function stopAll() {
  stopping ??= stopEverything();
  return stopping;
}
async function stopEverything() {
  const markers = [...servers.map((s) => s.state), pgFolder];
  const taken = snapshot({ pgids: running.map((s) => s.pgid), markers });
  await db?.end().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  for (const s of running) await s.stop('SIGKILL');
  for (const s of servers) {
    try {
      writeFileSync(join(out, `team-e2e-server-${s.name}.log`), readFileSync(join(s.state, 'server.log')));
    } catch {
      /* none */
    }
    // the extension's "Discretion" output channel of that window
    try {
      const channel = readdirSync(s.state, { recursive: true }).find((f) => /Discretion\.log$/.test(String(f)));
      if (channel)
        writeFileSync(join(out, `team-e2e-discretion-${s.name}.log`), readFileSync(join(s.state, String(channel))));
    } catch {
      /* none */
    }
    if (!process.env.E2E_KEEP) removeServer(s);
  }
  pgServer?.stop();
  const left = [];
  await assertAllGone(taken, { pgids: running.map((s) => s.pgid), markers, what: 'the team suite' }).catch((e) =>
    left.push(e.message),
  );
  if (pgFolder && existsSync(pgFolder)) left.push(`the team suite left the PostgreSQL folder ${pgFolder}`);
  for (const l of left) console.error(`TEAM E2E FAILED: ${l}`);
  return left.length === 0;
}

/** One annotator's window: its card, its tree, labelling with the keyboard. */
function makeWindow(name, page, server, errors) {
  const wv = () => webview(page);
  const card = () => wv().locator('#card');
  const sourceId = async () =>
    (await wv().locator('#card:not([hidden])[data-source-id]').count())
      ? wv().locator('#card').getAttribute('data-source-id')
      : null;
  const datasetRow = () =>
    page.locator('.part.sidebar .monaco-list-row', { has: page.locator('.label-name', { hasText: DATASET }) }).first();
  /**
   * The description of the dataset's item in the Datasets view: the one of the sidebar's items named DATASET
   * that reads "... team labels ..." (the Team view beside it lists the dataset too, as "k=2 · N/60 labels");
   * when none does, what they all read.
   */
  const treeText = async () => {
    const descs = await page
      .locator('.part.sidebar .monaco-list-row')
      .evaluateAll(
        (rows, name) =>
          rows
            .filter((r) => r.querySelector('.label-name')?.textContent?.trim() === name)
            .map((r) => r.querySelector('.label-description')?.textContent?.trim() ?? ''),
        DATASET,
      );
    const team = descs.filter((d) => d.includes('team labels'));
    return team.length === 1 ? team[0] : JSON.stringify(descs);
  };
  const w = {
    name,
    page,
    server,
    errors,
    card,
    sourceId,
    datasetRow,
    /** Waits until the tree's dataset item reads `<labels>/60 team labels · <mine> mine` (CONTRACT.md). */
    async expectTree(labels, mine, timeout) {
      const want = `${labels}/${N * K} team labels · ${mine} mine`;
      const end = Date.now() + timeout;
      let seen;
      while ((seen = await treeText()) !== want) {
        if (Date.now() > end) throw new Error(`${name}'s tree: expected "${want}", it reads "${seen}"`);
        await page.waitForTimeout(200);
      }
    },
    /** Labels the card shown (overall: A) and waits for the card after it (another pair, or none). */
    async labelOne() {
      const sid = await sourceId();
      assert.ok(sid, `${name} has a card to label`);
      await page.keyboard.press('a');
      await wv().locator('[data-overall="A"][aria-checked="true"]').waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      const end = Date.now() + 30_000;
      while ((await sourceId()) === sid) {
        if (Date.now() > end) throw new Error(`${name}: the card stayed on ${sid} after the submit`);
        await page.waitForTimeout(50);
      }
      return sid;
    },
    async label(n) {
      for (let i = 0; i < n; i++) await w.labelOne();
    },
    /** Labels while `cond(sourceId)` holds for the card shown; stops with a card (or none) shown. */
    async labelWhile(cond) {
      for (;;) {
        const sid = await w.waitForCardOrEmpty();
        if (sid === null || !cond(sid)) return;
        await w.labelOne();
      }
    },
    async labelUntilEmpty() {
      await w.labelWhile(() => true);
      assert.equal(await sourceId(), null);
    },
    /** The card's pair once a card or the nothing-to-claim state is shown (null for the latter). */
    async waitForCardOrEmpty(timeout = 30_000) {
      const end = Date.now() + timeout;
      for (;;) {
        const sid = await sourceId();
        if (sid) return sid;
        if (await wv().locator('#status:not([hidden])').count()) return null;
        if (Date.now() > end) throw new Error(`${name}: neither a card nor the end of the queue is shown`);
        await page.waitForTimeout(100);
      }
    },
    /** The window shows no card (the nothing-to-claim state); `why` names what it must not show. */
    async expectNoCard(why) {
      assert.equal(await sourceId(), null, `${name} shows no card: not ${why}`);
      assert.ok(await wv().locator('#status:not([hidden])').count(), `${name} says there is nothing to claim`);
    },
    /** Alt+N at the end of the queue (asks for a claim); the card's pair after the host answered, or null. */
    async askNext() {
      // the status line's text node now: the host's answer (the end of the queue again) replaces it
      await wv()
        .locator('#status')
        .evaluate((el) => {
          window.e2eStatusNode = el.firstChild;
        });
      await page.keyboard.press('Alt+n');
      const end = Date.now() + 15_000;
      for (;;) {
        const sid = await sourceId();
        if (sid) return sid;
        // a new end-of-queue text, still shown (a card arriving meanwhile also replaces the text, but hides it)
        if (
          await wv()
            .locator('#status')
            .evaluate((el) => !el.hidden && el.firstChild !== window.e2eStatusNode)
        )
          return null;
        if (Date.now() > end) throw new Error(`${name}: no answer to Alt+N`);
        await page.waitForTimeout(100);
      }
    },
    /**
     * Asks for the next pair (Alt+N, as a user at the end of the queue would) about once a second until the
     * card shows `sid`; counts the answers "nothing for you" that came before `notBefore`. Returns when `sid`
     * appeared. (Whether the claim came after `notBefore` is the database's to say: an answer can arrive late.)
     */
    async waitForPair(sid, notBefore, timeout) {
      const end = Date.now() + timeout;
      let asksBefore = 0;
      for (;;) {
        const shown = await w.askNext();
        const answeredAt = Date.now();
        if (shown === sid) return { at: answeredAt, asksBefore };
        if (shown !== null) throw new Error(`${name} was given ${shown}, expected ${sid}`);
        if (answeredAt < notBefore) asksBefore++;
        if (Date.now() > end) throw new Error(`${name} was not given ${sid}`);
        await page.waitForTimeout(500);
      }
    },
  };
  return w;
}
