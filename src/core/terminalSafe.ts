// Text from data (dataset and annotator names, ids, file contents, server answers) on its way to a
// terminal, VS Code's notifications and output channel, or report.md: every control character becomes a
// visible escape, so data can never move the cursor, recolour or clear the screen, set the window title,
// forge a line, or reorder what is shown (bidi overrides, "Trojan Source"). Pure; no I/O.

/** C0 controls, DEL, C1 controls, and the bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069). */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, less the newline: for text whose lines we composed ourselves. */
const CONTROLS_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, less tab, newline and carriage return: for HTML and XML, where they are plain whitespace. */
const CONTROLS_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw inside strings (it already writes \uXXXX for U+0000-U+001F). */
const RAW_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The visible form of one control character: \n \r \t, \xHH up to U+00FF, else \uHHHH. */
function visible(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const n = c.charCodeAt(0);
  return n <= 0xff ? '\\x' + n.toString(16).padStart(2, '0') : '\\u' + n.toString(16).padStart(4, '0');
}

/** One line of text safe for a terminal: every control character (newlines too) escaped visibly, e.g. ESC as `\x1b`, RLO as `\u202e`. */
export function escapeControls(text: unknown): string {
  return String(text ?? '').replace(CONTROLS, visible);
}

/** Text of several lines that we composed (tables, summaries): newlines kept, every other control character escaped. */
export function escapeControlsKeepingNewlines(text: unknown): string {
  return String(text ?? '').replace(CONTROLS_BUT_NEWLINE, visible);
}

/** Text for HTML or XML: tab, newline and carriage return kept (whitespace there), every other control character escaped (XML 1.0 forbids most C0 controls). */
export function escapeControlsKeepingWhitespace(text: unknown): string {
  return String(text ?? '').replace(CONTROLS_BUT_WHITESPACE, visible);
}

/**
 * JSON text that is also safe on a terminal: the same value as JSON.stringify (JSON.parse gives it back
 * unchanged), with DEL, C1 controls and bidi controls written as \uXXXX escapes instead of raw characters.
 */
export function terminalSafeJson(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  if (text === undefined) return 'null';
  return text.replace(RAW_IN_JSON, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
