// What a person is shown of an error (src/core/errors.ts userMessage): used by the CLI's one-line errors and
// by every error the extension shows (notifications, the workbench card, the dashboard and review panels).
import { describe, expect, it } from 'vitest';
import { InputError, UsageError, userMessage } from '../../src/core/errors';

describe('userMessage', () => {
  it('shows a user-facing error as it is: file, line and field, or the refused request', () => {
    expect(userMessage(new InputError('a.jsonl', 3, 'prompt', 'missing'))).toBe('a.jsonl:3: field "prompt": missing');
    expect(userMessage(new UsageError('unknown dataset "x"'))).toBe('unknown dataset "x"');
  });

  it('shows anything else as "unexpected error" and its first line, with control characters escaped', () => {
    expect(userMessage(new Error('boom\n    at f (x.js:1:1)'))).toBe('unexpected error: boom');
    expect(userMessage(new TypeError('bad \u001b[2J value'))).toBe('unexpected error: bad \\x1b[2J value');
    expect(userMessage('a string thrown')).toBe('unexpected error: a string thrown');
    expect(userMessage(undefined)).toBe('unexpected error: undefined');
  });
});
