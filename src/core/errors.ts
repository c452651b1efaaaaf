// One error type for every bad input a user can hand us: it names the file, the line (or row)
// and the field, so the CLI and the extension can print one clear line instead of a stack trace.
// The message is terminal-safe: control and bidi characters from the data in it are escaped visibly.
import { escapeControls } from './terminalSafe';

export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
    readonly problem: string,
  ) {
    super(escapeControls(formatLocation(file, line, field) + problem));
    this.name = 'InputError';
  }
}

/** `file:line: field "x": ` (each part only when known). */
export function formatLocation(file: string, line: number | null, field: string | null): string {
  let where = file;
  if (line !== null) where += `:${line}`;
  where += ': ';
  if (field !== null) where += `field "${field}": `;
  return where;
}

/** An error in the user's request itself (unknown dataset, annotator, ...), not in a file. */
export class UsageError extends Error {
  constructor(message: string) {
    super(escapeControls(message));
    this.name = 'UsageError';
  }
}

export function isUserFacingError(e: unknown): e is InputError | UsageError {
  return e instanceof InputError || e instanceof UsageError;
}

/**
 * What a person is shown of an error, in one line: the message of an error that is theirs to act on (bad
 * input, a refused request), else "unexpected error: " and the first line of what went wrong, escaped.
 */
export function userMessage(e: unknown): string {
  if (isUserFacingError(e)) return e.message;
  const message = e instanceof Error ? e.message : String(e);
  return `unexpected error: ${escapeControls((message ?? '').split('\n')[0])}`;
}
