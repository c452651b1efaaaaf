// The published judgment files' `order` column (0: A was y1; the discretion paper's convention) is stored as
// the response shown first, the one encoding of the store (0: A was y0, 1: A was y1): the other way round.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { importJudgments } from '../../src/importers/judgments';
import { openTempStore, tempDir } from '../support/helpers';

it('stores an oracle row of order 0 as shown first 1 (y1 was A) and of order 1 as shown first 0, with its value', async () => {
  const { store } = await openTempStore();
  try {
    await store.write(async (tx) => {
      const id = await tx.createDataset('base', 'jsonl', null);
      await tx.insertPairs(
        id,
        [0, 1].map((i) => ({ idx: i, sourceId: `s${i}`, prompt: `q${i}`, y0: 'x', y1: 'y' })),
        [1, 2],
      );
      await tx.savePrincipleList('one', [{ id: 'p0', short: 'A', text: 'Be kind.' }], null);
    });
    const file = join(tempDir(), 'oracle.csv');
    // both rows: P(A) > P(B), so A wins; pair 0 asked with A = y1 (order 0), pair 1 with A = y0 (order 1, "1,0")
    writeFileSync(file, 'row_id,principle_id,order,prob_A,prob_B,prob_NA\n0,0,0,0.7,0.2,0.1\n1,0,"1,0",0.6,0.3,0.1\n');
    await importJudgments(store, { format: 'oracle', file, dataset: 'base', annotator: 'o', principles: 'one' });
    expect(
      await store.db.all('SELECT pair_id, value, shown_first FROM principle_preferences ORDER BY pair_id'),
    ).toEqual([
      { pair_id: 1, value: 1, shown_first: 1 },
      { pair_id: 2, value: -1, shown_first: 0 },
    ]);
  } finally {
    await store.close();
  }
});
