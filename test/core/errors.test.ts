// What a person is shown of an error (src/core/errors.ts userMessage): used by the CLI's one-line errors and
// by every error the extension shows (notifications, the workbench card, the dashboard and review panels).
import { describe, expect, it } from 'vitest';
import { cliMessage } from '../../src/cli/context';
import { InputError, UsageError, userMessage } from '../../src/core/errors';
import { extensionMessage } from '../../src/extension/errors';
import { UnstoredAnswersError } from '../../src/judges/llmJudge';

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

describe('an error about an option: each front end names it (issue 21)', () => {
  const taken = new UsageError('dataset "hh" already exists; choose another dataset name', 'dataset');
  const limit = new InputError('big.jsonl', 7, null, 'the line exceeds the limit of 16 MiB, which can be raised', 'maxLineBytes');
  const endpoint = new UsageError('the endpoint\'s base URL is not a URL', 'baseUrl');

  it('userMessage adds the name a front end gives the option, and nothing when it gives none', () => {
    expect(userMessage(taken)).toBe('dataset "hh" already exists; choose another dataset name');
    expect(userMessage(taken, { dataset: '--dataset' })).toBe('dataset "hh" already exists; choose another dataset name (--dataset)');
    expect(userMessage(taken, { annotator: '--annotator' })).toBe('dataset "hh" already exists; choose another dataset name');
    expect(userMessage(new Error('boom'), { dataset: '--dataset' })).toBe('unexpected error: boom');
  });

  it('the CLI names the flag', () => {
    expect(cliMessage(taken)).toBe('dataset "hh" already exists; choose another dataset name (--dataset)');
    expect(cliMessage(limit)).toBe('big.jsonl:7: the line exceeds the limit of 16 MiB, which can be raised (--max-line-size)');
  });

  it('the CLI prints the command that imports answers saved while the database was busy', () => {
    const e = new UnstoredAnswersError('database d.db is busy: x; nothing was written, try again', 2, { file: '/tmp/a.csv', format: 'oracle', dataset: 'd', annotator: 'o', principles: 'list' });
    expect(e.message).toBe('database d.db is busy: x; the 2 answers not yet stored were saved to /tmp/a.csv: store them later by importing that file as oracle answers of annotator "o" on dataset "d" with principle list "list" (or run this judge again: it resumes)');
    expect(cliMessage(e)).toBe(`${e.message}: discretion import oracle /tmp/a.csv --dataset d --annotator o --principles list`);
  });

  it('the extension names the setting where the option is one, and nothing where it asked in a prompt', () => {
    expect(extensionMessage(endpoint)).toBe('the endpoint\'s base URL is not a URL (setting discretion.judges.baseUrl)');
    expect(extensionMessage(taken)).toBe('dataset "hh" already exists; choose another dataset name');
    expect(extensionMessage(limit)).toBe('big.jsonl:7: the line exceeds the limit of 16 MiB, which can be raised');
  });
});
