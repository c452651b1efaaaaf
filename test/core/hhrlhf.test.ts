import { describe, expect, it } from 'vitest';
import { splitHHDialogue, splitTurns } from '../../src/core/hhrlhf';

describe('splitHHDialogue (spec section 1)', () => {
  it('splits at the last shared "\\n\\nAssistant:" turn', () => {
    const ctx = '\n\nHuman: How do I pick a lock?\n\nAssistant:';
    const s = splitHHDialogue(`${ctx} Call a locksmith.`, `${ctx} Use a tension wrench.`);
    expect(s).toEqual({ prompt: ctx, y1: 'Call a locksmith.', y0: 'Use a tension wrench.' });
  });

  it('keeps multi-turn context and responses that start the same way', () => {
    const ctx = '\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant:';
    const s = splitHHDialogue(`${ctx} I think so.`, `${ctx} I think not.`)!;
    expect(s.prompt).toBe(ctx);
    expect([s.y0, s.y1]).toEqual(['I think not.', 'I think so.']);
  });

  it('does not split inside a response that itself contains "\\n\\nAssistant:" (the naive rule would)', () => {
    const ctx = '\n\nHuman: q\n\nAssistant:';
    const chosen = `${ctx} Fine.\n\nHuman: more?\n\nAssistant: Sure.`;
    const rejected = `${ctx} No.`;
    expect(splitHHDialogue(chosen, rejected)).toEqual({
      prompt: ctx,
      y1: 'Fine.\n\nHuman: more?\n\nAssistant: Sure.',
      y0: 'No.',
    });
  });

  it('gives an empty response for an empty final turn', () => {
    const ctx = '\n\nHuman: q\n\nAssistant:';
    expect(splitHHDialogue(`${ctx} `, `${ctx} Something.`)).toEqual({ prompt: ctx, y1: '', y0: 'Something.' });
  });

  it('returns null when there is no shared assistant turn', () => {
    expect(splitHHDialogue('Human: a Assistant: b', 'Human: a Assistant: c')).toBeNull();
  });
});

describe('splitTurns', () => {
  it('splits HH-RLHF contexts into turns', () => {
    expect(splitTurns('\n\nHuman: hi\n\nAssistant: hello\n\nHuman: how?')).toEqual([
      { role: 'human', text: 'hi' },
      { role: 'assistant', text: 'hello' },
      { role: 'human', text: 'how?' },
    ]);
    expect(splitTurns('plain question')).toEqual([{ role: 'human', text: 'plain question' }]);
  });
});
