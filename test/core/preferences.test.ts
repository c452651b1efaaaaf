// The preference vocabulary: shown order, choice <-> value, label-file and dataset words, and what a
// stored label's raw record says.
import { describe, expect, it } from 'vitest';
import { fnv1a32 } from '../../src/core/hash';
import {
  LABEL_OVERALL,
  choiceToValue,
  isBothUnacceptable,
  isLabelOverallWord,
  isLabelPrincipleWord,
  parsePreferredWord,
  preferenceWord,
  principleWord,
  shownFirstFor,
  storedToOverall,
  valueToGrid,
  valueToSide,
} from '../../src/core/preferences';

describe('FNV-1a', () => {
  it('gives the published 32-bit test vectors', () => {
    // Reference values: the FNV test suite (draft-eastlake-fnv, FNV-1a 32-bit of "", "a", "foobar").
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });
});

describe('A/B order', () => {
  it('keeps the order every stored label was shown in', () => {
    // Recorded from the shown-order function before it moved out of src/shared/protocol.ts (its own
    // FNV copy): a change here would show existing labels in another order.
    expect(shownFirstFor('alice', 'safety-pairs-sample', 's01')).toBe(0);
    expect(shownFirstFor('alice', 'safety-pairs-sample', 's20')).toBe(1);
    expect(shownFirstFor('bilal', 'hh', '0')).toBe(1);
    expect(shownFirstFor('ünï', 'd', 'x\u2028')).toBe(0);
    expect(fnv1a32('alice\u0000d\u0000s01')).toBe(0x865876d1);
    const orders = Array.from({ length: 64 }, (_, i) =>
      shownFirstFor('alice', 'sample', `s${String(i + 1).padStart(2, '0')}`),
    ).join('');
    expect(orders).toBe('1010101011010101010010101010110101010100101010101101010101001010');
  });

  it('is deterministic per annotator and pair and roughly balanced', () => {
    const orders = Array.from({ length: 400 }, (_, i) => shownFirstFor('alice', 'd', `p${i}`));
    const ones = orders.filter((o) => o === 1).length;
    expect(ones).toBeGreaterThan(150);
    expect(ones).toBeLessThan(250);
    const other = Array.from({ length: 400 }, (_, i) => shownFirstFor('bob', 'd', `p${i}`));
    expect(other).not.toEqual(orders);
  });
});

describe('choices and stored values', () => {
  it('maps shown choices to stored values and back (A is y1 when shownFirst = 1)', () => {
    expect(choiceToValue('A', 0)).toBe(-1);
    expect(choiceToValue('B', 0)).toBe(1);
    expect(choiceToValue('A', 1)).toBe(1);
    expect(choiceToValue('B', 1)).toBe(-1);
    expect(choiceToValue('tie', 1)).toBe(0);
    expect(choiceToValue('both_unacceptable', 0)).toBe(0);
    expect(choiceToValue('neither', 1)).toBe(0);
    for (const sf of [0, 1] as const)
      for (const c of ['A', 'B'] as const) expect(valueToSide(choiceToValue(c, sf), sf)).toBe(c);
    expect(valueToSide(null, 0)).toBeNull();
    expect(valueToGrid(0, 1)).toBe('neither');
    expect(valueToGrid(1, 1)).toBe('A');
    expect(valueToGrid(undefined, 0)).toBeNull();
  });

  it('tells both unacceptable from a tie by the raw record, in either spelling', () => {
    // the workbench records its choice, the label importer the file's word
    expect(storedToOverall(0, '{"choice":"both_unacceptable","source":"workbench"}', 0)).toBe('both_unacceptable');
    expect(storedToOverall(0, '{"choice":"both-bad"}', 1)).toBe('both_unacceptable');
    expect(storedToOverall(0, { choice: 'both-bad' }, 1)).toBe('both_unacceptable');
    expect(storedToOverall(0, '{"choice":"tie"}', 0)).toBe('tie');
    expect(storedToOverall(0, null, 0)).toBe('tie');
    expect(storedToOverall(1, '{"choice":"y1"}', 0)).toBe('B');
    expect(storedToOverall(null, null, 0)).toBeNull();
    // judges keep free JSON in raw; text that is not a label never counts
    expect(isBothUnacceptable('{"note":"both"}')).toBe(false);
    expect(isBothUnacceptable('both-bad')).toBe(false);
    expect(isBothUnacceptable('null')).toBe(false);
  });
});

describe('file words', () => {
  it('reads the label-file words and only those', () => {
    expect(LABEL_OVERALL).toEqual({ y0: -1, y1: 1, tie: 0, 'both-bad': 0 });
    for (const w of ['y0', 'y1', 'tie', 'both-bad']) expect(isLabelOverallWord(w)).toBe(true);
    // inherited object keys are no words ("constructor" in {} is true)
    for (const w of ['constructor', 'toString', '__proto__', 'both_unacceptable', 'Y0', 1, null])
      expect(isLabelOverallWord(w)).toBe(false);
    expect(isLabelPrincipleWord('neither')).toBe(true);
    expect(isLabelPrincipleWord('tie')).toBe(false);
    expect(isLabelPrincipleWord('hasOwnProperty')).toBe(false);
  });

  it('writes words the importers read back', () => {
    expect([1, -1, 0, null].map((v) => preferenceWord(v as 1 | -1 | 0 | null))).toEqual(['y1', 'y0', 'tie', '']);
    expect(preferenceWord(0, '{"choice":"both_unacceptable"}')).toBe('both-bad');
    expect([1, -1, 0, null].map((v) => principleWord(v as 1 | -1 | 0 | null))).toEqual(['y1', 'y0', 'neither', '']);
    for (const w of ['y1', 'y0', 'tie', 'both-bad']) expect(parsePreferredWord(w)).toBe(LABEL_OVERALL[w]);
    expect(parsePreferredWord(' Response_0 ')).toBe(-1);
    expect(parsePreferredWord('+1')).toBe(1);
    expect(parsePreferredWord('')).toBeNull();
    expect(parsePreferredWord('maybe')).toBeUndefined();
    expect(parsePreferredWord('constructor')).toBeUndefined();
  });
});
