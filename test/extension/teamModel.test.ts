// The Team view's rows (src/extension/teamModel.ts) from a teamStatus document written out by hand.
import { describe, expect, it } from 'vitest';
import type { TeamStatus } from '../../src/app/team';
import { kappaRows, labelCountsRow, memberRow, teamDatasetRow } from '../../src/extension/teamModel';

const status: TeamStatus = {
  schema: 'discretion-team-status/1',
  dataset: '<b>hh</b>\u001b[31m',
  split: { overlap: 2, assignment: 'random', seed: 7 },
  pairs: 30,
  label_counts: [18, 0, 12],
  annotators: [
    { name: 'alice', claimed: 1, labelled: 7, labels_per_hour: 42.04, da: 0.2, da_n: 5 },
    { name: 'bob', claimed: 0, labelled: 5, labels_per_hour: null, da: null, da_n: 0 },
  ],
  da_principles: 'demo@1',
  kappa: {
    annotators: ['alice', 'bob'],
    matrix: [
      [1, 7 / 11],
      [7 / 11, 1],
    ],
    shared: [
      [7, 4],
      [4, 5],
    ],
  },
};

describe('Team view rows', () => {
  it('dataset: k and labels (12 pairs x 2 = 24) against pairs x k = 60; names kept as plain text', () => {
    expect(teamDatasetRow(status)).toMatchObject({ label: '<b>hh</b>\u001b[31m', description: 'k=2 · 24/60 labels' });
  });
  it('pairs by labels held', () => {
    expect(labelCountsRow(status)).toEqual({ label: 'Pairs by labels held', description: '0: 18 · 1: 0 · 2: 12' });
  });
  it('annotators: claims, labels, labels per hour, DA so far with its decisive consensus pairs', () => {
    expect(memberRow(status.annotators[0]).description).toBe('claimed 1 · labelled 7 · 42.0/h · DA 0.20 (5)');
    expect(memberRow(status.annotators[1]).description).toBe('claimed 0 · labelled 5 · –/h · DA –');
  });
  it("Cohen's kappa of every two annotators, once each", () => {
    expect(kappaRows(status)).toEqual([{ label: 'alice · bob', description: 'κ 0.64 on 4 pairs' }]);
  });
});
