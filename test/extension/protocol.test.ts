import { describe, expect, it } from 'vitest';
import { choiceToValue, LIMITS, parseWebviewMessage, shownFirstFor, splitTurns, valueToSide } from '../../src/shared/protocol';

const submit = { type: 'submit', seq: 3, pairIdx: 7, overall: 'A', grid: ['A', 'B', 'neither', null], rationale: 'why', flagged: false };

describe('parseWebviewMessage', () => {
  it('accepts every well-formed message', () => {
    for (const m of [
      { type: 'ready', restore: null },
      { type: 'ready', restore: { dataset: 'd', pairIdx: 0 } },
      submit,
      { type: 'skip', pairIdx: 1 },
      { type: 'navigate', direction: 'previous' },
      { type: 'undo' },
      { type: 'advance' },
      { type: 'painted', seq: 1, ms: 12.5 },
    ]) {
      const r = parseWebviewMessage(m);
      expect(r, JSON.stringify(m)).toEqual({ ok: true, message: m });
    }
  });

  it('rejects unknown types, wrong shapes and extra fields', () => {
    const bad: unknown[] = [
      null, 42, 'submit', [], {},
      { type: 'executeCommand', command: 'workbench.action.terminal.new' },
      { type: '__proto__' },
      { ...submit, overall: 'C' },
      { ...submit, overall: 'a' },
      { ...submit, grid: ['A', 'maybe'] },
      { ...submit, grid: 'A' },
      { ...submit, pairIdx: -1 },
      { ...submit, pairIdx: 1.5 },
      { ...submit, seq: '3' },
      { ...submit, flagged: 'yes' },
      { ...submit, rationale: 5 },
      { ...submit, extra: 1 },
      { type: 'submit', seq: 1, pairIdx: 1, overall: 'A', grid: [], rationale: '' },
      { type: 'navigate', direction: 'sideways' },
      { type: 'undo', pairIdx: 1 },
      { type: 'ready', restore: { dataset: 1, pairIdx: 0 } },
      { type: 'painted', seq: 1, ms: Number.NaN },
    ];
    for (const m of bad) expect(parseWebviewMessage(m).ok, JSON.stringify(m)).toBe(false);
  });

  it('rejects oversized payloads and long rationales before looking at them', () => {
    const big = parseWebviewMessage({ ...submit, rationale: 'x'.repeat(LIMITS.maxMessageChars) });
    expect(big).toMatchObject({ ok: false, reason: expect.stringContaining('oversized') });
    const long = parseWebviewMessage({ ...submit, rationale: 'x'.repeat(LIMITS.maxRationaleChars + 1) });
    expect(long).toMatchObject({ ok: false, reason: expect.stringContaining('rationale') });
    expect(parseWebviewMessage({ ...submit, grid: new Array(LIMITS.maxGridRows + 1).fill(null) }).ok).toBe(false);
  });

  it('never throws, even on cyclic objects', () => {
    const cyclic: Record<string, unknown> = { type: 'undo' };
    cyclic.self = cyclic;
    expect(parseWebviewMessage(cyclic)).toMatchObject({ ok: false });
  });
});

describe('A/B order and value mapping', () => {
  it('is deterministic per annotator and pair and roughly balanced', () => {
    expect(shownFirstFor('alice', 'd', 's01')).toBe(shownFirstFor('alice', 'd', 's01'));
    const orders = Array.from({ length: 400 }, (_, i) => shownFirstFor('alice', 'd', `p${i}`));
    const ones = orders.filter((o) => o === 1).length;
    expect(ones).toBeGreaterThan(150);
    expect(ones).toBeLessThan(250);
    const other = Array.from({ length: 400 }, (_, i) => shownFirstFor('bob', 'd', `p${i}`));
    expect(other).not.toEqual(orders);
  });

  it('maps shown choices to stored values and back', () => {
    expect(choiceToValue('A', 0)).toBe(-1);
    expect(choiceToValue('B', 0)).toBe(1);
    expect(choiceToValue('A', 1)).toBe(1);
    expect(choiceToValue('B', 1)).toBe(-1);
    expect(choiceToValue('tie', 1)).toBe(0);
    expect(choiceToValue('both_unacceptable', 0)).toBe(0);
    for (const sf of [0, 1] as const) for (const c of ['A', 'B'] as const) expect(valueToSide(choiceToValue(c, sf), sf)).toBe(c);
    expect(valueToSide(null, 0)).toBeNull();
  });

  it('splits HH-RLHF contexts into turns', () => {
    expect(splitTurns('\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?')).toEqual([
      { role: 'human', text: 'hi' }, { role: 'assistant', text: 'hello' }, { role: 'human', text: 'how?' }]);
    expect(splitTurns('plain question')).toEqual([{ role: 'human', text: 'plain question' }]);
  });
});
