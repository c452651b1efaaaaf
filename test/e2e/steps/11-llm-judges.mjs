// e2e step: "Run Model Judgments" with the LLM judge and oracle over the fake endpoint.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputBox, notifications, quickPick, runCommand, waitForNotification } from '../driver.mjs';
import { judgeCategory, judgeExpectation, oracleExpectation } from '../fake-llm.mjs';

export const title = '"Run Model Judgments" with the LLM judge and oracle over the fake endpoint';

export default async function step(ctx) {
  const { db, lap, llm, page, query, samplePairs, ws } = ctx;
  // ---- "Run Model Judgments..." with the LLM judge and the oracle over the fake endpoint ----------
  // Expectations come from the dataset file and fake-llm.mjs's stated behaviour, not from the extension.
  const KEY = 'e2e-test-key',
    MODEL = 'e2e-fake-model';
  /** Polls the database until `count()` reaches `want`; stops early on an error notification. */
  const waitStored = async (what, count, want, timeout = 180_000) => {
    const end = Date.now() + timeout;
    for (;;) {
      const err = (await notifications(page)).find(
        (t) =>
          /^Discretion: /.test(t.trim()) && !/^Discretion: (stored|scored|cancelled|Asking|Scoring)/.test(t.trim()),
      );
      if (err) throw new Error(`${what} failed: ${err}`);
      const n = await count();
      if (n === want) return;
      if (Date.now() > end)
        throw new Error(
          `${what}: ${n} of ${want} stored after ${timeout / 1000} s; notifications: ${JSON.stringify(await notifications(page))}; fake endpoint requests: ${llm.requests.length}`,
        );
      await page.waitForTimeout(500);
    }
  };
  const noErrors = (texts) =>
    assert.ok(
      !texts.some((t) => /^Discretion: (?!stored|scored|cancelled|Asking|Scoring)/.test(t.trim())),
      `no error notifications: ${JSON.stringify(texts)}`,
    );

  // judge mode: endpoint, model, API key (asked once, kept in secret storage) and name from input boxes
  const JUDGE = 'judge-e2e';
  await runCommand(page, 'Discretion: Run Model Judgments', {
    after: () => quickPick(page, 'LLM judge', { title: 'run model judgments', timeout: 10_000 }),
  });
  await quickPick(page, 'safety-pairs-sample', { title: 'dataset to judge' });
  assert.equal(await inputBox(page, 'endpoint base URL', llm.baseUrl), 'http://127.0.0.1:8000/v1', 'default base URL');
  await inputBox(page, 'model name at the endpoint', MODEL);
  // the key is asked for this endpoint's origin (scheme, host, port) and sent only there
  await inputBox(page, `API key for ${new URL(llm.baseUrl).origin}`, KEY);
  assert.equal(
    await inputBox(page, 'annotator name for these judgments', JUDGE),
    `judge-${MODEL}`,
    'default judge name from the model',
  );
  const judgeRows = (name) =>
    query(
      `SELECT p.source_id AS sid, pr.value, pr.raw FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id
    JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id WHERE a.name = ? AND d.name = 'safety-pairs-sample' ORDER BY p.idx`,
      [name],
    );
  await waitStored('LLM judge', async () => (await judgeRows(JUDGE)).length, 30);
  const judgeTexts = await waitForNotification(page, new RegExp(`stored 30 judgments as "${JUDGE}" \\(60 requests`));
  noErrors(judgeTexts);
  const [judgeAnn] = await query('SELECT kind, provenance FROM annotators WHERE name = ?', [JUDGE]);
  assert.equal(judgeAnn.kind, 'llm-judge');
  assert.equal(JSON.parse(judgeAnn.provenance).model, MODEL);
  const jrows = await judgeRows(JUDGE);
  assert.deepEqual(
    jrows.map((r) => r.sid).sort(),
    [...samplePairs.keys()].sort(),
    'every sample pair has a judge preference',
  );
  const judgeReqs = llm.requests.filter((r) => r.principle === undefined);
  assert.equal(judgeReqs.length, 60, 'two requests a pair');
  const cats = {};
  for (const r of jrows) {
    const pair = samplePairs.get(r.sid);
    const cat = judgeCategory(pair.prompt);
    cats[cat] = (cats[cat] ?? 0) + 1;
    assert.equal(r.value, judgeExpectation(pair), `judge value of ${r.sid} (${cat})`);
    // both orders were asked: order 0 shows y1 as A, order 1 shows y0 as A
    const asked = judgeReqs.filter((q) => q.prompt === pair.prompt);
    assert.equal(asked.length, 2, `two requests for ${r.sid}`);
    assert.ok(
      asked.some((q) => q.a === pair.y1 && q.b === pair.y0) && asked.some((q) => q.a === pair.y0 && q.b === pair.y1),
      `both orders asked for ${r.sid}`,
    );
    const raw = JSON.parse(r.raw);
    assert.ok(raw.order0 && raw.order1, `raw probabilities of both orders for ${r.sid}`);
  }
  assert.equal(Object.keys(cats).length, 4, `all four fake behaviours occur (${JSON.stringify(cats)})`);
  assert.ok(
    judgeReqs.every((q) => q.auth === `Bearer ${KEY}` && q.model === MODEL && q.logprobs === true && q.maxTokens === 1),
    'key, model, logprobs and max_tokens sent',
  );
  const values = jrows.map((r) => r.value);
  lap(
    `LLM judge: 30/30 pairs as ${JUDGE} (${values.filter((v) => v === 1).length} y1, ${values.filter((v) => v === -1).length} y0, ${values.filter((v) => v === 0).length} ties, ${values.filter((v) => v === null).length} missing), 60 requests in both orders`,
  );

  // oracle mode on demo-safety: the key comes from secret storage (no prompt this time)
  const ORACLE = 'oracle-e2e';
  const principles = await query(
    `SELECT pl.position AS pos, pl.text FROM principles pl JOIN principle_lists l ON l.id = pl.list_id WHERE l.name = 'demo-safety' ORDER BY pl.position`,
  );
  assert.equal(principles.length, 6);
  const before = llm.requests.length;
  await runCommand(page, 'Discretion: Run Model Judgments', {
    after: () => quickPick(page, 'LLM oracle', { title: 'run model judgments', timeout: 10_000 }),
  });
  await quickPick(page, 'safety-pairs-sample', { title: 'dataset to judge' });
  await quickPick(page, 'demo-safety', { title: 'principle list for the oracle' });
  await inputBox(page, 'endpoint base URL', llm.baseUrl);
  await inputBox(page, 'model name at the endpoint', MODEL);
  assert.equal(
    await inputBox(page, /annotator name for these judgments|API key/, ORACLE, {
      expect: 'annotator name for these judgments',
    }),
    `oracle-${MODEL}`,
    'no key prompt; default oracle name',
  );
  const oracleRows = () =>
    query(
      `SELECT p.source_id AS sid, pl.position AS pos, pp.value, pp.shown_first AS shown, pp.prob_a AS pa, pp.prob_b AS pb, pp.prob_na AS pna
    FROM principle_preferences pp JOIN annotators a ON a.id = pp.annotator_id JOIN pairs p ON p.id = pp.pair_id
    JOIN principles pl ON pl.id = pp.principle_id WHERE a.name = ? ORDER BY p.idx, pl.position`,
      [ORACLE],
    );
  await waitStored('LLM oracle', async () => (await oracleRows()).length, 180);
  const oracleTexts = await waitForNotification(
    page,
    new RegExp(`stored 180 judgments as "${ORACLE}" \\(180 requests`),
  );
  noErrors(oracleTexts);
  assert.equal((await query('SELECT kind FROM annotators WHERE name = ?', [ORACLE]))[0].kind, 'oracle');
  const oracleReqs = llm.requests.slice(before);
  assert.equal(oracleReqs.length, 180);
  assert.ok(
    oracleReqs.every((q) => q.principle !== undefined && q.auth === `Bearer ${KEY}` && q.model === MODEL),
    'oracle requests name a principle and carry the stored key',
  );
  const orows = await oracleRows();
  const orders = [0, 0];
  for (const r of orows) {
    const pair = samplePairs.get(r.sid);
    const principle = principles[r.pos].text;
    assert.ok(r.shown === 0 || r.shown === 1, `shown first stored for ${r.sid}/${r.pos}`);
    const order = 1 - r.shown; // the judge's order: 0 asked with y1 as A
    orders[order]++;
    const asked = oracleReqs.filter((q) => q.prompt === pair.prompt && q.principle === principle);
    assert.equal(asked.length, 1, `one request for ${r.sid}/${r.pos}`);
    assert.deepEqual(
      [asked[0].a, asked[0].b],
      r.shown === 1 ? [pair.y1, pair.y0] : [pair.y0, pair.y1],
      `stored shown first of ${r.sid}/${r.pos} is the order asked`,
    );
    assert.equal(r.value, oracleExpectation(pair, principle, order), `oracle value of ${r.sid}/${r.pos}`);
    assert.ok(Math.abs(r.pa + r.pb + r.pna - 0.95) < 1e-9, `probabilities stored for ${r.sid}/${r.pos}`);
  }
  assert.ok(orders[0] > 0 && orders[1] > 0, `both orders used by the oracle (${orders})`);

  // the API key went over HTTP only: not in the database file (nor its journal), nor the settings
  for (const f of [db, `${db}-wal`, `${db}-journal`, join(ws, '.vscode', 'settings.json')]) {
    if (existsSync(f)) assert.equal(readFileSync(f).indexOf(Buffer.from(KEY)), -1, `the API key is not in ${f}`);
  }
  lap(
    `LLM oracle: 180/180 judgments as ${ORACLE} on demo-safety (orders ${orders.join('/')}), key from secret storage; the key is in no database file`,
  );
}
