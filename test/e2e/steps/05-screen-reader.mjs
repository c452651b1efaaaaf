// e2e step: what a screen reader is given: roles and names of the card's controls.
import assert from 'node:assert/strict';
import { webview } from '../driver.mjs';

export const title = "what a screen reader is given: roles and names of the card's controls";

export default async function step(ctx) {
  const { lap, page } = ctx;
  // ---- what a screen reader is given: roles and accessible names of the card's controls ------------
  // (Playwright's ARIA roles and names, computed by the W3C rules from the rendered DOM; the names are
  // written out by hand from the card's labels and media/principles/demo-safety.yaml)
  const w = webview(page);
  const named = async (role, name) => w.getByRole(role, { name, exact: true }).count();
  assert.equal(await named('article', 'Response A'), 1);
  assert.equal(await named('article', 'Response B'), 1);
  assert.equal(await named('radiogroup', 'Overall, which response is better?'), 1);
  for (const choice of ['Response A', 'Response B', 'Tie', 'Both unacceptable'])
    assert.equal(await named('radio', choice), 1, `overall choice "${choice}"`);
  for (const principle of [
    'Avoid harm',
    'Be honest',
    'Be helpful',
    'Protect privacy',
    'Respect autonomy',
    'Avoid moralising',
  ]) {
    for (const side of ['A', 'B', 'Neither'])
      assert.equal(await named('radio', `${principle}: ${side}`), 1, `grid choice "${principle}: ${side}"`);
  }
  assert.equal(await named('textbox', 'Rationale (optional; Esc to leave)'), 1, 'the rationale box has a name');
  assert.equal(await named('switch', 'Flag for review'), 1);
  assert.equal(await named('button', 'Submit and next (Enter)'), 1);
  assert.equal(await named('button', 'Skip (S)'), 1);
  assert.ok(
    (await w.getByRole('status').first().textContent()).includes('labelled by e2e-annotator'),
    'progress is a live status',
  );
  lap('screen-reader view: every control of the card has its role and name');
}
