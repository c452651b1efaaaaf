import { describe, expect, it } from 'vitest';
import {
  datasetDescription,
  datasetTooltip,
  teamViewShows,
  treeShows,
  withLabelled,
} from '../../src/extension/treeProgress';
import { openTempStore } from '../support/helpers';

describe('withLabelled (the tree after a workbench label)', () => {
  const progress = [
    {
      id: 1,
      name: 'hh',
      total: 10,
      annotators: [
        { name: 'alice', labelled: 3 },
        { name: 'carol', labelled: 1 },
      ],
    },
    { id: 2, name: 'other', total: 5, annotators: [{ name: 'bob', labelled: 2 }] },
  ];

  it('replaces one count, adds a new annotator in name order, drops one back at zero, leaves other datasets', () => {
    expect(withLabelled(progress, 'hh', 'alice', 4)[0].annotators).toEqual([
      { name: 'alice', labelled: 4 },
      { name: 'carol', labelled: 1 },
    ]);
    expect(withLabelled(progress, 'hh', 'bob', 1)[0].annotators.map((a) => a.name)).toEqual(['alice', 'bob', 'carol']);
    expect(withLabelled(progress, 'hh', 'carol', 0)[0].annotators).toEqual([{ name: 'alice', labelled: 3 }]);
    expect(withLabelled(progress, 'hh', 'alice', 4)[1]).toBe(progress[1]);
    expect(progress[0].annotators[0].labelled).toBe(3); // the input is not changed
  });

  it('agrees with what the store reads after the same labels', async () => {
    const { store } = await openTempStore();
    await store.write(async (tx) => {
      const id = await tx.createDataset('hh', 'jsonl', null);
      await tx.insertPairs(
        id,
        [0, 1, 2].map((i) => ({ idx: i, sourceId: String(i), prompt: 'p', y0: 'a', y1: 'b' })),
        [1, 2, 3],
      );
      const carol = await tx.ensureAnnotator('carol', 'human', null);
      await tx.insertPreferences(carol.id, [{ pairIdx: 0, value: 1 }], (pairIdx) => pairIdx + 1);
    });
    const before = await store.datasetProgress();
    await store.write(async (tx) => {
      const bob = await tx.ensureAnnotator('bob', 'human', null);
      await tx.insertPreferences(
        bob.id,
        [
          { pairIdx: 0, value: 1 },
          { pairIdx: 2, value: -1 },
        ],
        (pairIdx) => pairIdx + 1,
      );
    });
    expect(withLabelled(before, 'hh', 'bob', 2)).toEqual(await store.datasetProgress());
    await store.close();
  });
});

describe("datasetDescription (the tree's dataset item)", () => {
  const d = {
    id: 1,
    name: 'sample',
    total: 30,
    annotators: [
      { name: 'alice', labelled: 7 },
      { name: 'bob', labelled: 5 },
    ],
  };
  it('a team dataset: every human label against pairs * k, and mine', () => {
    // by hand: 7 + 5 = 12 labels of 30 * 2 = 60 wanted; alice's 7
    expect(datasetDescription(d, 2, 'alice')).toBe('12/60 team labels · 7 mine');
    expect(datasetDescription(d, 1, 'carol')).toBe('12/30 team labels · 0 mine');
  });
  it('without a split: the pair count, as before', () => {
    expect(datasetDescription(d, null, 'alice')).toBe('30 pairs');
  });
  it('the tooltip says the same in full (a narrow sidebar cuts the description short)', () => {
    expect(datasetTooltip(d, 2, 'alice')).toBe(
      'sample: 30 pairs, split among a team with 2 labels per pair; 12 of the 60 labels wanted are in, 7 of them yours. Click to label the next pair handed to you.',
    );
    expect(datasetTooltip(d, null, 'alice')).toBe('sample: 30 pairs. Click to label.');
  });
});

describe('which notifications refresh which view', () => {
  it('the tree: labels and imports, not claims, positions or claim floors alone; anything when the tables are unknown', () => {
    expect(treeShows(['label_history', 'preferences', 'principle_preferences'])).toBe(true);
    expect(treeShows(['claims'])).toBe(false);
    expect(treeShows(['claims', 'workbench_positions'])).toBe(false);
    expect(treeShows(['claims', 'claim_floors'])).toBe(false);
    expect(treeShows(undefined)).toBe(true);
  });
  it('the Team view: claims too, not positions or claim floors alone', () => {
    expect(teamViewShows(['claims'])).toBe(true);
    expect(teamViewShows(['workbench_positions'])).toBe(false);
    expect(teamViewShows(['claim_floors', 'workbench_positions'])).toBe(false);
    expect(teamViewShows(['claims', 'claim_floors'])).toBe(true);
    expect(teamViewShows(undefined)).toBe(true);
  });
});
