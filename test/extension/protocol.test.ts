import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/shared/messageChecks';
import { parseWorkbenchMessage } from '../../src/shared/workbenchProtocol';

const submit = { type: 'submit', seq: 3, pairIdx: 7, overall: 'A', grid: ['A', 'B', 'neither', null], rationale: 'why', flagged: false, ahead: null };

describe('parseWorkbenchMessage', () => {
  it('accepts every well-formed message', () => {
    for (const m of [
      { type: 'ready', restore: null },
      { type: 'ready', restore: { dataset: 'd', pairIdx: 0 } },
      submit,
      { ...submit, ahead: 12 },
      { type: 'skip', pairIdx: 1 },
      { type: 'navigate', direction: 'previous' },
      { type: 'undo' },
      { type: 'advance' },
      { type: 'painted', seq: 1, ms: 12.5 },
    ]) {
      const r = parseWorkbenchMessage(m);
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
      { ...submit, ahead: -1 },
      { ...submit, ahead: '12' },
      { type: 'submit', seq: 1, pairIdx: 1, overall: 'A', grid: [], rationale: '' },
      { type: 'navigate', direction: 'sideways' },
      { type: 'undo', pairIdx: 1 },
      { type: 'ready', restore: { dataset: 1, pairIdx: 0 } },
      { type: 'painted', seq: 1, ms: Number.NaN },
    ];
    for (const m of bad) expect(parseWorkbenchMessage(m).ok, JSON.stringify(m)).toBe(false);
  });

  it('rejects oversized payloads and long rationales before looking at them', () => {
    const big = parseWorkbenchMessage({ ...submit, rationale: 'x'.repeat(LIMITS.maxMessageChars) });
    expect(big).toMatchObject({ ok: false, reason: expect.stringContaining('oversized') });
    const long = parseWorkbenchMessage({ ...submit, rationale: 'x'.repeat(LIMITS.maxRationaleChars + 1) });
    expect(long).toMatchObject({ ok: false, reason: expect.stringContaining('rationale') });
    expect(parseWorkbenchMessage({ ...submit, grid: new Array(LIMITS.maxGridRows + 1).fill(null) }).ok).toBe(false);
  });

  it('never throws, even on cyclic objects', () => {
    const cyclic: Record<string, unknown> = { type: 'undo' };
    cyclic.self = cyclic;
    expect(parseWorkbenchMessage(cyclic)).toMatchObject({ ok: false });
  });
});
