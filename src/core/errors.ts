// One error type for every bad input a user can hand us: it names the file, the line (or row)
// and the field, so the CLI and the extension can print one clear line instead of a stack trace.
// The message is terminal-safe: control and bidi characters from the data in it are escaped visibly.
// Below the front ends a message names no CLI flag: an error about an option or setting carries it as
// data (`option`), and each front end names it its own way when it shows the message (userMessage).
import { escapeControls } from './terminalSafe';

/**
 * What a request's option or setting is about, as a concept: the CLI names each one's flag (src/cli/context.ts),
 * the extension its setting where it has one (src/extension/errors.ts).
 */
export type RequestOption =
  | 'dataset'
  | 'annotator'
  | 'name'
  | 'principles'
  | 'principleSource'
  | 'reference'
  | 'psAnnotator'
  | 'run'
  | 'metricsRun'
  | 'fieldMapping'
  | 'ignoreUnknownRows'
  | 'maxLineBytes'
  | 'maxDecompressedBytes'
  | 'maxCompressionRatio'
  | 'maxJsonDepth'
  | 'out'
  | 'holdout'
  | 'seed'
  | 'provider'
  | 'baseUrl'
  | 'concurrency'
  | 'label'
  | 'method'
  | 'lambda'
  | 'members'
  | 'group'
  | 'trainingSource'
  | 'ties'
  | 'split'
  | 'config'
  | 'engine'
  | 'engineUrl'
  | 'model'
  | 'tokenizer'
  | 'batchSize'
  | 'directUrl';

/** Where an input record is: errors about it name the file and the line (or row). */
export interface RecordContext {
  file: string;
  /** 1-based line (JSONL) or row (CSV, Parquet) number, for messages. */
  line: number;
  /** 0-based pair index assigned to this record. */
  index: number;
}

export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly field: string | null,
    readonly problem: string,
    /** The option that would change the outcome (a limit that can be raised, rows that can be skipped). */
    readonly option?: RequestOption,
    /** What `line` counts: a line of a text file, or a row of a columnar file (Parquet), 1-based. */
    readonly unit: LocationUnit = 'line',
  ) {
    super(escapeControls(formatLocation(file, line, field, unit) + problem));
    this.name = 'InputError';
  }
}

export type LocationUnit = 'line' | 'row';

/** `file:line: field "x": `, or `file: row N: field "x": ` for a row (each part only when known). */
export function formatLocation(
  file: string,
  line: number | null,
  field: string | null,
  unit: LocationUnit = 'line',
): string {
  let where = file;
  if (line !== null) where += unit === 'row' ? `: row ${line}` : `:${line}`;
  where += ': ';
  if (field !== null) where += `field "${field}": `;
  return where;
}

/** An error in the user's request itself (unknown dataset, annotator, ...), not in a file. */
export class UsageError extends Error {
  /** `option`: the option or setting the request got wrong or should change; the message does not name it. */
  constructor(
    message: string,
    readonly option?: RequestOption,
  ) {
    super(escapeControls(message));
    this.name = 'UsageError';
  }
}

export function isUserFacingError(e: unknown): e is InputError | UsageError {
  return e instanceof InputError || e instanceof UsageError;
}

/** How a front end names each option to a person: a CLI flag, a setting; an option it does not name is left out. */
export type OptionNames = Partial<Record<RequestOption, string>>;

/** `message (name)`: the message followed by the option's name in this front end, when it has one. */
export function withOptionName(message: string, option: RequestOption | undefined, names: OptionNames): string {
  const name = option === undefined ? undefined : names[option];
  return name === undefined ? message : `${message} (${escapeControls(name)})`;
}

/**
 * What a person is shown of an error, in one line: the message of an error that is theirs to act on (bad
 * input, a refused request), followed by the option it is about as the front end names it (`names`), else
 * "unexpected error: " and the first line of what went wrong, escaped.
 */
export function userMessage(e: unknown, names: OptionNames = {}): string {
  if (isUserFacingError(e)) return withOptionName(e.message, e.option, names);
  const message = e instanceof Error ? e.message : String(e);
  return `unexpected error: ${escapeControls((message ?? '').split('\n')[0])}`;
}
