// @vitest-environment happy-dom
// A label imported from a labels file reaches the workbench card with its meaning: through the real
// importer, a real SQLite file, the workbench session the extension opens, and the card's DOM.
// (Issue 11: "both-bad" in a labels file used to show as "Tie".)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportDataset } from '../../src/app/export';
import { importDataset } from '../../src/importers/datasets';
import { importLabels } from '../../src/importers/labels';
import { importPrincipleList } from '../../src/importers/principles';
import { WorkbenchSession } from '../../src/app/workbench';
import { openStore } from '../../src/store';
import { applyState, renderCard } from '../../webview/workbench/render';
import { initialState } from '../../webview/workbench/state';
import { ROOT, tempDir } from '../support/helpers';

const SAMPLE = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl');
const LIST = join(ROOT, 'media', 'principles', 'demo-safety.yaml');
const noop = { overall() {}, grid() {}, submit() {}, skip() {}, flag() {}, advance() {} };

describe('an imported label on the workbench card', () => {
  it('shows "both-bad" as Both unacceptable and "tie" as Tie', async () => {
    const dir = tempDir();
    const store = await openStore(join(dir, 'wb.db'));
    await importDataset(store, {
      format: 'jsonl',
      file: SAMPLE,
      dataset: 'sample',
      mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' },
    });
    await importPrincipleList(store, { file: LIST, name: 'demo' });
    const labels = join(dir, 'labels-carol.jsonl');
    writeFileSync(
      labels,
      [
        {
          pair: 's03',
          overall: 'both-bad',
          principles: { 'avoid-harm': 'y0', honesty: 'neither' },
          rationale: 'both are bad',
        },
        { pair: 's04', overall: 'tie', principles: {} },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    await importLabels(store, { file: labels, dataset: 'sample', principles: 'demo', annotator: 'carol' });

    // as the extension opens the workbench (extension.ts: open, start, then a pair from the dashboard)
    const session = await WorkbenchSession.open(store, {
      dataset: 'sample',
      annotator: 'carol',
      principleList: 'demo',
    });
    await session.start();
    const pairIdx = (await store.pairSourceIds((await store.requireDataset('sample')).id)).find(
      (p) => p.sourceId === 's03',
    )!.pairIdx;
    expect(await session.goTo(pairIdx)).toBe(true);
    const card = (await session.card())!;
    expect(card.sourceId).toBe('s03');
    expect(card.existing?.overall).toBe('both_unacceptable');
    expect(card.existing?.rationale).toBe('both are bad');

    const root = document.createElement('div');
    document.body.append(root);
    renderCard(root, card, noop);
    applyState(root, initialState(card));
    const checked = root.querySelectorAll('[data-overall][aria-checked="true"]');
    expect(checked).toHaveLength(1);
    expect(checked[0]!.textContent).toBe('X Both unacceptable');

    expect(await session.move('next')).toBe(true);
    const tie = (await session.card())!;
    expect(tie.sourceId).toBe('s04');
    renderCard(root, tie, noop);
    applyState(root, initialState(tie));
    expect(root.querySelector('[data-overall][aria-checked="true"]')!.textContent).toBe('T Tie');

    // and an export keeps the two apart, in words the importers read back
    const out = join(dir, 'export.jsonl');
    await exportDataset(store, { dataset: 'sample', format: 'jsonl', out });
    const rows = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { source_id: string; preferences: Record<string, string> });
    expect(rows.find((r) => r.source_id === 's03')!.preferences.carol).toBe('both-bad');
    expect(rows.find((r) => r.source_id === 's04')!.preferences.carol).toBe('tie');
    await store.close();
  });
});
