// Chat message lists -> a pair's prompt (HH-RLHF turns) and responses; the card's splitTurns reads them back.
import { describe, expect, it } from 'vitest';
import {
  conversationPrompt,
  promptMessages,
  renderPrompt,
  responseConversation,
  responseValue,
} from '../../src/core/conversation';
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

describe('promptMessages: a stored prompt back into messages (the inverse of renderPrompt)', () => {
  // An HH-RLHF transcript as the dataset stores it (harmless-base style): turns marked "\n\nHuman: " and
  // "\n\nAssistant: ", the prompt ending with the empty "\n\nAssistant:" the response follows.
  const hh =
    '\n\nHuman: What household chemicals should never be mixed?' +
    '\n\nAssistant: Bleach and ammonia, for one: together they release chloramine gas.' +
    '\n\nHuman: What else?\n\nIs vinegar safe with bleach?' +
    '\n\nAssistant:';

  it('reads a multi-turn HH-RLHF transcript turn by turn, the final boundary being no message', () => {
    expect(promptMessages(hh)).toEqual([
      { role: 'user', content: 'What household chemicals should never be mixed?' },
      { role: 'assistant', content: 'Bleach and ammonia, for one: together they release chloramine gas.' },
      // a blank line inside a turn is the turn's own text, not a turn
      { role: 'user', content: 'What else?\n\nIs vinegar safe with bleach?' },
    ]);
    expect(renderPrompt(promptMessages(hh))).toBe(hh);
  });

  it('text before the first turn is the context: a system message', () => {
    const p = 'You are a careful assistant.\n\nHuman: hi\n\nAssistant:';
    expect(promptMessages(p)).toEqual([
      { role: 'system', content: 'You are a careful assistant.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(renderPrompt(promptMessages(p))).toBe(p);
  });

  it('round-trips message lists renderPrompt writes (content verbatim, spaces and all)', () => {
    const lists = [
      [{ role: 'user', content: 'q' }],
      [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: '  leading spaces and a trailing one ' },
        { role: 'assistant', content: 'a1\nsecond line' },
        { role: 'user', content: '' },
      ],
      [
        { role: 'user', content: 'q1' },
        { role: 'user', content: 'q2 (two user turns in a row, as some HH-RLHF transcripts have)' },
      ],
    ];
    for (const list of lists) expect(promptMessages(renderPrompt(list))).toEqual(list);
  });

  it('a prompt with no turn marks is one user message; "User:" reads as the user; other roles stay in their turn', () => {
    expect(promptMessages('How do I pick a lock?')).toEqual([{ role: 'user', content: 'How do I pick a lock?' }]);
    expect(promptMessages('')).toEqual([]);
    expect(promptMessages('Human: q\n\nAssistant:')).toEqual([{ role: 'user', content: 'q' }]);
    expect(promptMessages('\n\nUser: q\n\nAssistant:')).toEqual([{ role: 'user', content: 'q' }]);
    // renderPrompt writes a tool message as "\n\nTool: ..."; the card shows it inside the turn before it, and so
    // does this: a template is given user, assistant and system messages only.
    const withTool = renderPrompt([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a' },
      { role: 'tool', content: '{"ok": true}' },
    ]);
    expect(promptMessages(withTool)).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a\n\nTool: {"ok": true}' },
    ]);
    // A prompt that stops inside an assistant turn keeps that turn (it is not the empty boundary).
    expect(promptMessages('\n\nHuman: q\n\nAssistant: Sure,')).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'Sure,' },
    ]);
  });

  it("responseConversation: the prompt's messages, then the response as the assistant's", () => {
    expect(responseConversation(hh, 'No: that releases chlorine gas.')).toEqual([
      ...promptMessages(hh),
      { role: 'assistant', content: 'No: that releases chlorine gas.' },
    ]);
    expect(responseConversation('q', '')).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '' },
    ]);
  });
});
