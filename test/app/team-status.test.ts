// teamStatus's DA so far (src/app/team.ts), on a real SQLite file and the run's real PostgreSQL server:
// values worked out by hand from the labels each test puts in.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { teamStatus } from '../../src/app/team';
import { openStore, type Store } from '../../src/store';
import { tempDir } from '../support/helpers';
import { freshPostgresDatabase } from '../support/postgres';

const server = inject('postgres');
const adapters = [
  { name: 'SQLite', skip: undefined, location: async () => join(tempDir(), 'status.db') },
  {
    name: 'PostgreSQL',
    skip: 'skip' in server ? server.skip : undefined,
    location: () => freshPostgresDatabase('url' in server ? server.url : ''),
  },
];

for (const adapter of adapters) {
  describe.skipIf(adapter.skip)(`teamStatus DA so far: ${adapter.name}`, () => {
    const open: Store[] = [];
    afterAll(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
    });

    it('measures each annotator against its own principle labels of the list with the most human principle labels', async () => {
      const store = await openStore(await adapter.location());
      open.push(store);
      await store.write(async (tx) => {
        const d = await tx.createDataset('d', 'jsonl', null);
        const first = await tx.nextPairRowId();
        await tx.insertPairs(
          d,
          [0, 1, 2, 3].map((i) => ({ idx: i, sourceId: `s${i}`, prompt: 'p', y0: 'a', y1: 'b' })),
          [0, 1, 2, 3].map((i) => first + i),
        );
        const row = (pairIdx: number) => first + pairIdx;
        await tx.setWorkSplit(d, { overlap: 2, assignment: 'fixed', seed: 0 });
        const { list: two } = await tx.savePrincipleList(
          'two',
          [
            { id: 'h', short: 'harmless', text: 'Harmless' },
            { id: 'x', short: 'honest', text: 'Honest' },
          ],
          null,
        );
        const { list: other } = await tx.savePrincipleList('other', [{ id: 'o', short: 'o', text: 'O' }], null);
        const twoRows = await tx.principleRowIds(two.id);
        const otherRows = await tx.principleRowIds(other.id);
        const alice = await tx.ensureAnnotator('alice', 'human', null);
        const bob = await tx.ensureAnnotator('bob', 'human', null);
        const carol = await tx.ensureAnnotator('carol', 'human', null);
        const rm = await tx.ensureAnnotator('rm', 'reward-model', null);
        // alice: pair 0 y1 with principles (+1, none): consensus y1, agrees; pair 1 y1 with (-1, none): consensus y0,
        // disagrees; pair 2 y0 with (+1, -1): conflict, not counted; pair 3 tie with (+1, none): not decisive.
        // DA = 1 / (1 + 1) = 0.5 over 2 decisive consensus pairs.
        await tx.insertPreferences(
          alice.id,
          [
            { pairIdx: 0, value: 1 },
            { pairIdx: 1, value: 1 },
            { pairIdx: 2, value: -1 },
            { pairIdx: 3, value: 0 },
          ],
          row,
        );
        await tx.insertPrinciplePreferences(
          alice.id,
          [
            { pairIdx: 0, principleIndex: 0, value: 1 },
            { pairIdx: 1, principleIndex: 0, value: -1 },
            { pairIdx: 2, principleIndex: 0, value: 1 },
            { pairIdx: 2, principleIndex: 1, value: -1 },
            { pairIdx: 3, principleIndex: 0, value: 1 },
          ],
          row,
          twoRows,
        );
        // bob: pair 0 y0 with (-1, -1): consensus y0, agrees. DA = 0 / 1 = 0.
        await tx.insertPreferences(bob.id, [{ pairIdx: 0, value: -1 }], row);
        await tx.insertPrinciplePreferences(
          bob.id,
          [
            { pairIdx: 0, principleIndex: 0, value: -1 },
            { pairIdx: 0, principleIndex: 1, value: -1 },
          ],
          row,
          twoRows,
        );
        // carol labels overall only (on pair 1, against the list "other" once): no consensus pair of "two": DA undefined
        await tx.insertPreferences(carol.id, [{ pairIdx: 1, value: -1 }], row);
        await tx.insertPrinciplePreferences(carol.id, [{ pairIdx: 1, principleIndex: 0, value: 1 }], row, otherRows);
        // a model's principle labels do not choose the list, nor count
        await tx.insertPrinciplePreferences(
          rm.id,
          [0, 1, 2, 3].flatMap((p) => [{ pairIdx: p, principleIndex: 0, value: 1 as const }]),
          row,
          otherRows,
        );
      });
      const s = await teamStatus(store, 'd');
      expect(s.schema).toBe('discretion-team-status/1');
      expect(s.da_principles).toBe('two@1'); // 7 human principle labels against 1 on "other"
      expect(s.annotators.map((a) => [a.name, a.labelled, a.da, a.da_n])).toEqual([
        ['alice', 4, 0.5, 2],
        ['bob', 1, 0, 1],
        ['carol', 1, null, 0],
      ]);
      // by hand: pair 0 holds alice's and bob's labels, 1 alice's and carol's, 2 and 3 alice's only: none with 0, two with 1, two with 2
      expect(s.label_counts).toEqual([0, 2, 2]);
    });
  });
}
