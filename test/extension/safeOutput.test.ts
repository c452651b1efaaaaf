// The extension's output channel escapes what is logged to it (src/extension/safeOutput.ts); a plain object
// with the channel's logging methods records what would reach VS Code. Expected strings by hand.
import { describe, expect, it } from 'vitest';
import { escapingLogChannel } from '../../src/extension/safeOutput';

describe('escapingLogChannel', () => {
  it('escapes control and bidi characters in messages, string arguments and Error stacks; newlines kept', () => {
    const seen: unknown[][] = [];
    const channel = {
      name: 'Discretion',
      info: (...a: unknown[]) => {
        seen.push(['info', ...a]);
      },
      error: (...a: unknown[]) => {
        seen.push(['error', ...a]);
      },
      appendLine: (...a: unknown[]) => {
        seen.push(['appendLine', ...a]);
      },
      show() {
        seen.push(['show']);
        return this.name;
      },
    };
    const log = escapingLogChannel(channel);
    log.info('database: /tmp/\x1b[2Jx.db', 'arg\u202e', 3);
    log.appendLine('line one\nline two\x07');
    const e = new Error('bad \x1b]0;title\x07');
    log.error(e);
    expect(log.show()).toBe('Discretion');
    expect(log.name).toBe('Discretion');
    expect(seen[0]).toEqual(['info', 'database: /tmp/\\x1b[2Jx.db', 'arg\\u202e', 3]);
    expect(seen[1]).toEqual(['appendLine', 'line one\nline two\\x07']);
    expect(seen[2]![0]).toBe('error');
    expect(seen[2]![1]).toMatch(/^Error: bad \\x1b\]0;title\\x07\n {4}at /);
    expect(seen[3]).toEqual(['show']);
  });
});
