// The judge runs' progress arithmetic shared by the CLI's bar and the extension's notification.
// Expected values are hand-computed from the clock readings given.
import { describe, expect, it } from 'vitest';
import { formatEta, judgeUnit, progressMeter, type JudgeProgress } from '../../src/app/judges';

describe('progressMeter', () => {
  it('counts the rate from the first report (a resumed run starts past 0) and derives the time left', () => {
    const times = [1000, 1000, 3000, 5000];
    const seen: JudgeProgress[] = [];
    const report = progressMeter(
      (p) => seen.push(p),
      () => times.shift()!,
    );
    report({ done: 40, total: 100 }); // at t=1000: nothing done in this run yet
    report({ done: 50, total: 100 }); // t=3000: 10 units in 2 s = 5/s, 50 left = 10 s
    report({ done: 70, total: 100 }); // t=5000: 30 units in 4 s = 7.5/s, 30 left = 4 s
    expect(seen).toEqual([
      { done: 40, total: 100, rate: undefined, etaSeconds: undefined },
      { done: 50, total: 100, rate: 5, etaSeconds: 10 },
      { done: 70, total: 100, rate: 7.5, etaSeconds: 4 },
    ]);
  });
});

describe('formatEta', () => {
  it('writes seconds, minutes and hours', () => {
    expect(formatEta(42)).toBe('42s');
    expect(formatEta(187)).toBe('3m07s');
    expect(formatEta(3900)).toBe('1h05m');
  });
});

describe('judgeUnit', () => {
  it('counts pairs, or judgments for an oracle', () => {
    expect(judgeUnit({ kind: 'onnx', dataset: 'd', modelDir: 'm', annotator: 'a' })).toBe('pairs');
    expect(judgeUnit({ kind: 'llm', dataset: 'd', baseUrl: 'u', model: 'm', annotator: 'a' })).toBe('pairs');
    expect(judgeUnit({ kind: 'llm', dataset: 'd', baseUrl: 'u', model: 'm', annotator: 'a', oracle: true })).toBe(
      'judgments',
    );
  });
});
