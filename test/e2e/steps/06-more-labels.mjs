// e2e step: more labels in y0/y1 terms; revealed judgments flag disagreements.
import assert from 'node:assert/strict';

export const title = 'more labels in y0/y1 terms; revealed judgments flag disagreements';

export default async function step(ctx) {
  const { annot, assertBlind, assertRevealed, judgedBy, lap, other, page, prefs, query, sideOfY0, waitFor, y0SideOf } =
    ctx;
  // ---- more labels, in terms of the sample's y0/y1 (the key is the side the card shows it on) ----
  const plan2 = [
    { id: 's03', overall: 'y0', grid: { 0: 'y0', 1: 'y1' } }, //      no model judged s03; principles conflict
    { id: 's04', overall: 'y0', grid: { 0: 'y0', 2: 'neither' } }, // rm agrees, judge disagrees
    { id: 's05', overall: 'tie', grid: { 1: 'y1', 3: 'y1' } }, //     rm (y1) disagrees, judge (tie) agrees
    { id: 's06', overall: 'y0', grid: { 0: 'y1', 4: 'y0' } }, //      rm (y1) disagrees; principles conflict
    { id: 's07', overall: 'y1', grid: {} }, //                       rm: no judgment (equal rewards)
  ];
  const keyOf = (y, y0Side) => (y === 'tie' ? 't' : (y === 'y0' ? y0Side : other(y0Side)).toLowerCase());
  for (const [i, step] of plan2.entries()) {
    await waitFor(step.id);
    const y0Side = (y0SideOf[step.id] = await sideOfY0(step.id));
    await assertBlind(step.id);
    await page.keyboard.press(keyOf(step.overall, y0Side));
    for (const [pos, y] of Object.entries(step.grid)) {
      await page.keyboard.press(String(Number(pos) + 1));
      await page.keyboard.press(y === 'neither' ? 'n' : keyOf(y, y0Side));
    }
    await page.keyboard.press('Enter');
    if (judgedBy(step.id).length > 0) {
      await assertRevealed(step.id, step.overall, y0Side);
      await page.keyboard.press('Enter');
    }
    await waitFor(`s0${i + 4}`);
  }
  await assertBlind('s08');
  const yValue = { y0: -1, y1: 1, tie: 0, neither: 0 };
  const prefs2 = await query(
    `SELECT p.source_id AS sid, pr.value, pr.shown_first AS sf FROM preferences pr JOIN pairs p ON p.id = pr.pair_id
    WHERE pr.annotator_id = ? ORDER BY p.idx`,
    [annot[0].id],
  );
  assert.deepEqual(
    prefs2,
    [
      ...prefs.map((r) => ({ sid: r.sid, value: r.value, sf: r.sf })),
      ...plan2.map((s) => ({ sid: s.id, value: yValue[s.overall], sf: y0SideOf[s.id] === 'B' ? 1 : 0 })),
    ],
    'overall labels in y terms',
  );
  const pp2 = await query(
    `SELECT p.source_id AS sid, pl.position AS pos, pp.value FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id
    JOIN principles pl ON pl.id = pp.principle_id WHERE pp.annotator_id = ? AND p.idx >= 2 ORDER BY p.idx, pl.position`,
    [annot[0].id],
  );
  assert.deepEqual(
    pp2,
    plan2.flatMap((s) => Object.entries(s.grid).map(([pos, y]) => ({ sid: s.id, pos: Number(pos), value: yValue[y] }))),
    'principle labels in y terms',
  );
  lap('five more pairs labelled; revealed judgments flag the disagreements');
  Object.assign(ctx, { plan2 });
}
