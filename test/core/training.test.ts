// The rules of the training export (src/core/training.ts), worked by hand on small vote lists: which response each
// source chooses, the agreement margin, the two TRL styles and the prompt's messages.
import { describe, expect, it } from 'vitest';
import {
  agreementMargin,
  decide,
  humanMajority,
  parseTrainingSource,
  promptMessages,
  trlRow,
  type PairForTraining,
  type Vote,
} from '../../src/core/training';

const v = (annotator: string, label: string | null, kind = 'human'): Vote => ({
  annotator,
  kind,
  label,
  principle_labels: [],
  rationale: null,
});
const adj = (label: string) => v('adjudicated', label, 'adjudicator');

describe('the source of the chosen response', () => {
  it('an annotator: its own label, whatever the others say; no label of it = unlabelled', () => {
    const votes = [v('alice', 'y0'), v('bilal', 'y1'), v('carol', 'y1')];
    expect(decide(votes, parseTrainingSource('alice'))).toEqual({ outcome: 'y0', by: 'annotator' });
    expect(decide(votes, parseTrainingSource('dora'))).toEqual({ outcome: 'unlabelled', by: null });
    expect(decide([v('rm', 'y1', 'reward-model')], parseTrainingSource('rm'))).toEqual({
      outcome: 'y1',
      by: 'annotator',
    });
    // principle labels only: no overall label
    expect(decide([v('alice', null)], parseTrainingSource('alice'))).toEqual({ outcome: 'unlabelled', by: null });
  });

  it('majority: the most frequent word among the human labels; a shared top count is no majority', () => {
    expect(humanMajority([v('a', 'y1'), v('b', 'y1'), v('c', 'y0')])).toBe('y1');
    expect(humanMajority([v('a', 'y0'), v('b', 'y1')])).toBe('no-majority');
    expect(humanMajority([v('a', 'y0'), v('b', 'y1'), v('c', 'tie')])).toBe('no-majority');
    expect(humanMajority([v('a', 'tie'), v('b', 'tie'), v('c', 'y1')])).toBe('tie');
    expect(humanMajority([v('a', 'both-bad'), v('b', 'both-bad'), v('c', 'tie')])).toBe('both-bad');
    // models and the adjudicator are not human labels
    expect(humanMajority([v('a', 'y0'), v('rm', 'y1', 'reward-model'), adj('y1')])).toBe('y0');
    expect(humanMajority([v('rm', 'y1', 'reward-model')])).toBe('unlabelled');
    expect(decide([v('a', 'y1'), v('b', 'y1'), v('c', 'y0')], { kind: 'majority' })).toEqual({
      outcome: 'y1',
      by: 'majority',
    });
  });

  it('adjudicated: the adjudicated label where there is one (over the majority), else the human majority', () => {
    const split = [v('a', 'y0'), v('b', 'y1')];
    expect(decide([...split, adj('y0')], { kind: 'adjudicated' })).toEqual({ outcome: 'y0', by: 'adjudicated' });
    expect(decide(split, { kind: 'adjudicated' })).toEqual({ outcome: 'no-majority', by: 'majority' });
    const majority = [v('a', 'y0'), v('b', 'y0'), v('c', 'y1')];
    expect(decide([...majority, adj('y1')], { kind: 'adjudicated' })).toEqual({ outcome: 'y1', by: 'adjudicated' });
    expect(decide(majority, { kind: 'adjudicated' })).toEqual({ outcome: 'y0', by: 'majority' });
    // an adjudicated tie is a tie: the pair gets no side
    expect(decide([...majority, adj('tie')], { kind: 'adjudicated' })).toEqual({ outcome: 'tie', by: 'adjudicated' });
    // a human annotator who happens to be called "adjudicated" is not the adjudicator
    expect(decide([v('adjudicated', 'y1'), v('b', 'y0'), v('c', 'y0')], { kind: 'adjudicated' })).toEqual({
      outcome: 'y0',
      by: 'majority',
    });
    expect(decide([], { kind: 'adjudicated' })).toEqual({ outcome: 'unlabelled', by: null });
  });

  it('ties and both-bad are outcomes of their own (left out by the export)', () => {
    expect(decide([v('a', 'tie')], parseTrainingSource('a')).outcome).toBe('tie');
    expect(decide([v('a', 'both-bad')], parseTrainingSource('a')).outcome).toBe('both-bad');
  });
});

describe('the agreement margin', () => {
  it('is the share of human labels that are the chosen word; null without human labels', () => {
    const votes = [v('a', 'y1'), v('b', 'y1'), v('c', 'y0'), v('rm', 'y0', 'reward-model'), adj('y0')];
    expect(agreementMargin(votes, 'y1')).toBeCloseTo(2 / 3, 12);
    expect(agreementMargin(votes, 'y0')).toBeCloseTo(1 / 3, 12);
    expect(agreementMargin([v('a', 'y1'), v('b', 'tie')], 'y1')).toBe(0.5); // a tie label counts, as disagreement
    expect(agreementMargin([v('rm', 'y1', 'reward-model')], 'y1')).toBeNull();
  });
});

describe('TRL rows', () => {
  const pair: PairForTraining = {
    idx: 4,
    sourceId: 'q5',
    prompt: '\n\nHuman: Can you help?\n\nAssistant: With what?\n\nHuman: My \u0007 homework\n\nAssistant:',
    y0: 'No.',
    y1: 'Sure, here is how.',
    votes: [v('a', 'y1'), v('b', 'y0'), v('c', 'y1')],
    category: 'conflict',
  };
  const d = decide(pair.votes, { kind: 'majority' });

  it('conversational (default): the prompt as messages, chosen and rejected as one assistant message each', () => {
    const row = trlRow(pair, d, 'conversational', true);
    expect(row).toEqual({
      prompt: [
        { role: 'user', content: 'Can you help?' },
        { role: 'assistant', content: 'With what?' },
        { role: 'user', content: 'My \u0007 homework' },
      ],
      chosen: [{ role: 'assistant', content: 'Sure, here is how.' }],
      rejected: [{ role: 'assistant', content: 'No.' }],
      margin: 2 / 3,
      discretion: {
        idx: 4,
        source_id: 'q5',
        label: 'y1',
        decided_by: 'majority',
        category: 'conflict',
        votes: pair.votes,
      },
    });
    // JSON keeps the control character escaped, as JSON does
    expect(JSON.stringify(row)).toContain('My \\u0007 homework');
  });

  it('standard: the stored prompt and responses as plain strings, no margin unless asked', () => {
    const row = trlRow(pair, { outcome: 'y0', by: 'annotator' }, 'standard', false);
    expect(row.prompt).toBe(pair.prompt);
    expect(row.chosen).toBe('No.');
    expect(row.rejected).toBe('Sure, here is how.');
    expect(row).not.toHaveProperty('margin');
    expect(Object.keys(row)).toEqual(['prompt', 'chosen', 'rejected', 'discretion']);
  });

  it('a prompt without turn markers is one user message; text before the first turn is a system message', () => {
    expect(promptMessages('Write a poem.')).toEqual([{ role: 'user', content: 'Write a poem.' }]);
    expect(promptMessages('Be brief.\n\nHuman: Hi\n\nAssistant:')).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
    ]);
  });
});
