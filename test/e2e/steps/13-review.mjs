// e2e step: the lead's review queue: the hostile pairs whose human labels disagree, every label side by side,
// hostile text inert, a key that stores the adjudicated label (annotator "adjudicated", kind 'adjudicator')
// and leaves every original label as it was.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { frameWith, runCommand } from '../driver.mjs';
import { assertBackground, assertDrawn, boxOf, decodePng, THEME } from '../pixels.mjs';

export const title = 'the review queue: disagreements side by side, hostile text inert, an adjudicated label stored';

export default async function step(ctx) {
  const { dialogs, lap, out, page, probeConsole, query } = ctx;
  const labelsOf = () =>
    query(`SELECT p.source_id AS sid, a.name AS annotator, a.kind AS kind, pr.value AS value, pr.rationale AS rationale
    FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id JOIN datasets d ON d.id = p.dataset_id
    WHERE d.name = 'hostile-pairs' AND a.kind IN ('human', 'adjudicator') ORDER BY p.idx, a.name`);
  const before = await labelsOf();

  /** @type {import('playwright-core').Frame | undefined} */
  let review;
  await runCommand(page, 'Discretion: Review Disagreements', {
    after: async () => {
      review = await frameWith(page, 'main#items[aria-label^="Pairs whose human labels"]', 30_000);
    },
  });
  assert.ok(review, 'Discretion: Review Disagreements: no review frame');
  await probeConsole(review, 'review');
  const status = review.locator('#status');
  // prepare.mjs's labels of the hostile pairs, by hand: alice and bilal both pick y0 on the odd pairs and y1 on
  // the even ones, except that alice overrules h06 and bilal h01, h02 and h05: those four disagree
  // the panel opens on the first dataset's queue: once it is shown, pick the hostile pairs
  await status.filter({ hasText: /pairs where the human overall labels disagree/ }).waitFor({ timeout: 30_000 });
  await review.locator('#dataset').selectOption('hostile-pairs');
  await status
    .filter({ hasText: /^hostile-pairs: 4 of 6 pairs where the human overall labels disagree; 0 adjudicated$/ })
    .waitFor({ timeout: 30_000 });
  const pairs = await review.locator('section.item').evaluateAll((xs) => xs.map((x) => x.getAttribute('data-pair')));
  assert.deepEqual(pairs, ['h01', 'h02', 'h05', 'h06']);
  // each pair shows both annotators' labels and rationales; the rationale's markup and the hostile pair texts as text
  const h06 = review.locator('section.item[data-pair="h06"]');
  const rows = await h06
    .locator('tr')
    .evaluateAll((trs) => trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  assert.deepEqual(
    rows.map((r) => r.slice(0, 2)),
    [
      ['alice', 'y0'],
      ['bilal', 'y1'],
    ],
    'h06: alice y0 (her overrule), bilal y1',
  );
  assert.ok(
    rows.every((r) => r[2].includes('<img src=x onerror="window.__pwned=1"> <script>window.__pwned=1</script> note 6')),
    'the rationales shown as text',
  );
  assert.ok(
    (await review.locator('main').textContent()).includes('<script>window.__pwned=1</script>'),
    'the hostile pair text shown as text',
  );
  assert.equal(
    await review
      .locator(
        'main script, main img, main iframe, main object, main embed, main a, main [onerror], main [onload], main [onclick]',
      )
      .count(),
    0,
    'no active elements in the review list',
  );
  assert.equal(await review.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  // the lead adjudicates h06 as y1 with the keyboard (focus the pair, type a rationale, then 1 from the pair)
  await h06.locator('input.rationale').fill('bilal is right: the privacy principle decides');
  await h06.focus();
  await page.keyboard.press('1');
  await status.filter({ hasText: /^pair h06: adjudicated y1$/ }).waitFor({ timeout: 30_000 });
  assert.equal(
    (await h06.locator('p.adjudicated').textContent()).trim(),
    'Adjudicated: y1 (bilal is right: the privacy principle decides)',
  );
  const after = await labelsOf();
  const adjudicated = after.filter((r) => r.kind === 'adjudicator');
  assert.deepEqual(
    adjudicated,
    [
      {
        sid: 'h06',
        annotator: 'adjudicated',
        kind: 'adjudicator',
        value: 1,
        rationale: 'bilal is right: the privacy principle decides',
      },
    ],
    'one adjudicated label, y1 (value 1)',
  );
  assert.deepEqual(
    after.filter((r) => r.kind === 'human'),
    before.filter((r) => r.kind === 'human'),
    'every original label as it was',
  );
  // "Pending only" now leaves h06 out (the counts are of the whole queue)
  await review.locator('#pending').check();
  await review.locator('#reload').click();
  await status
    .filter({ hasText: /^hostile-pairs: 4 of 6 pairs where the human overall labels disagree; 1 adjudicated$/ })
    .waitFor({ timeout: 30_000 });
  assert.deepEqual(
    await review.locator('section.item').evaluateAll((xs) => xs.map((x) => x.getAttribute('data-pair'))),
    ['h01', 'h02', 'h05'],
  );
  assert.equal(await review.locator('#status.error').count(), 0);
  assert.deepEqual(dialogs, [], 'no dialogs opened');
  // the picture: the status line and the first pending pair drawn as text on the light theme's background
  const shot = decodePng(await page.screenshot({ path: join(out, 'review.png') }));
  const statusBox = await boxOf(status, 'the review status line');
  assertBackground(shot, statusBox, THEME.light.editor, 'review.png: behind the status line');
  assertDrawn(shot, statusBox, THEME.light.editor, { min: 300, ratio: 4.5, what: 'review.png: the status line' });
  assertDrawn(shot, await boxOf(review.locator('section.item[data-pair="h01"]'), 'h01'), THEME.light.editor, {
    min: 1000,
    ratio: 4.5,
    what: 'review.png: the pair h01',
  });
  lap(
    'review: 4 disagreeing hostile pairs side by side, text inert; h06 adjudicated y1 by key, originals unchanged, pending list 3',
  );
}
