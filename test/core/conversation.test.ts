// Chat message lists -> a pair's prompt (HH-RLHF turns) and responses; the card's splitTurns reads them back.
import { describe, expect, it } from 'vitest';
import { conversationPrompt, renderPrompt, responseValue } from '../../src/core/conversation';
import { InputError } from '../../src/core/errors';
import { splitTurns } from '../../src/core/hhrlhf';

const ctx = { file: 'f.parquet', line: 4, index: 3 };
const m = (role: string, content: unknown) => ({ role, content });
const fields = { response0: 'rejected', response1: 'chosen' };

describe('message lists', () => {
  it('render as HH-RLHF turns ending with the assistant boundary; system messages first are the context', () => {
    const prompt = renderPrompt([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'a1' },
      { role: 'tool', content: '{"ok": true}' },
      { role: 'User', content: 'q2' },
    ]);
    expect(prompt).toBe('Be brief.\n\nHuman: q1\n\nAssistant: a1\n\nTool: {"ok": true}\n\nHuman: q2\n\nAssistant:');
    expect(splitTurns(prompt)).toEqual([
      { role: 'context', text: 'Be brief.' },
      { role: 'human', text: 'q1' },
      { role: 'assistant', text: 'a1\n\nTool: {"ok": true}' },
      { role: 'human', text: 'q2' },
      { role: 'assistant', text: '' },
    ]);
  });

  it('a response list is its last, assistant message; text parts are joined', () => {
    expect(
      responseValue(ctx, 'chosen', [
        m('user', 'q'),
        m('assistant', [
          { type: 'text', text: 'a' },
          { type: 'text', text: 'b' },
        ]),
      ]),
    ).toEqual({
      text: 'a\n\nb',
      before: [{ role: 'user', content: 'q' }],
    });
    expect(responseValue(ctx, 'chosen', 'plain')).toEqual({ text: 'plain', before: [] });
  });

  it('each bad shape is one InputError naming the file, the row, the field and the message', () => {
    const cases: [unknown, RegExp][] = [
      [[], /the message list is empty/],
      [[m('assistant', null)], /message 1 of 1 has no text content \(content must be a string, not null\)/],
      [[{ content: 'x' }], /message 1 of 1 has no role/],
      [['text'], /message 1 of 1 must be an object \{role, content\}, not string/],
      [[m('assistant', [{ type: 'image_url', image_url: 'x' }])], /a content part that is not text/],
      [[m('user', 'q')], /the last message is the "user"'s, not the assistant's response/],
      [42, /must be a string or a message list, not number/],
    ];
    for (const [value, message] of cases) {
      const e = (() => {
        try {
          responseValue(ctx, 'chosen', value);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(InputError);
      expect((e as InputError).message).toMatch(/^f\.parquet:4: field "chosen": /);
      expect((e as InputError).message).toMatch(message);
    }
  });

  it('the prompt: the earlier turns, the prompt field, or the prompt followed by the turns when they do not repeat it', () => {
    const r = (before: { role: string; content: string }[], text = 'x') => ({ text, before });
    const q = [{ role: 'user', content: 'q' }];
    expect(conversationPrompt(ctx, fields, undefined, r(q), r(q))).toBe('\n\nHuman: q\n\nAssistant:');
    expect(conversationPrompt(ctx, { ...fields, prompt: 'prompt' }, 'q', r(q), r(q))).toBe(
      '\n\nHuman: q\n\nAssistant:',
    );
    expect(conversationPrompt(ctx, { ...fields, prompt: 'prompt' }, 'ctx', r(q), r(q))).toBe(
      '\n\nHuman: ctx\n\nHuman: q\n\nAssistant:',
    );
    expect(conversationPrompt(ctx, { ...fields, prompt: 'prompt' }, 'raw text', r([]), r([]))).toBe('raw text');
    expect(
      conversationPrompt(ctx, { ...fields, prompt: 'prompt' }, [m('system', 's'), m('user', 'q')], r([]), r([])),
    ).toBe('s\n\nHuman: q\n\nAssistant:');
    expect(() => conversationPrompt(ctx, fields, undefined, r(q), r([]))).toThrow(
      /field "chosen": the messages before the response differ from those of "rejected" \(from message 1 on\)/,
    );
    expect(() => conversationPrompt(ctx, { ...fields, prompt: 'prompt' }, null, r([]), r([]))).toThrow(
      /field "prompt": missing/,
    );
  });
});
