// Every escape of dataset text (prompts, responses, names, principle labels, ids) for every output format
// lives here. Renderers never build markup from raw strings; they call these. Control and bidi characters
// become visible escapes (`\x1b`, `\u202e`) in every format but CSV and JSON, which carry the text exactly.
import { escapeControls, escapeControlsKeepingWhitespace } from '../terminalSafe';

/** Text content and attribute values in HTML, SVG and XML: & < > " ' become entities (`]]>` and `</script>` lose their `<`/`>`); control characters other than whitespace are escaped visibly. */
export function escapeHtml(text: unknown): string {
  return escapeControlsKeepingWhitespace(text).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Same rules for SVG/XML (kept as a name so call sites say what they produce). */
export const escapeXml = escapeHtml;

/**
 * JSON for an inert `<script type="application/json">` block: `<`, `>`, `&` and the JS line separators become
 * \uXXXX escapes, so no `</script>` or `<!--` can end or alter the block; JSON.parse of the text gives the value back.
 */
export function jsonForScript(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * Dataset text inside Markdown (paragraphs and table cells): HTML-escaped (Markdown passes raw HTML through),
 * then every Markdown punctuation character (and ':' against autolinks) backslash-escaped, newlines folded to spaces (a cell is one line).
 */
export function escapeMarkdown(text: unknown): string {
  // Control characters become visible first (their backslash is then escaped like any other); one pass for
  // the punctuation, so the entities it writes are never escaped again.
  return escapeControls(String(text ?? '').replace(/\r\n?|\n/g, ' ')).replace(
    /[&<>"'\\`*_{}[\]()#+\-.!|~:]/g,
    (c) => HTML_ENTITY[c] ?? '\\' + c,
  );
}

const HTML_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return) gets a leading ',
 * so it is shown as text (OWASP "CSV injection"). Every CSV we write (pairs.csv, `export --format csv`) goes through this.
 */
export function neutraliseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
}

/** A CSV field: quoted when needed (RFC 4180); text that a spreadsheet would run as a formula neutralised. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const s = neutraliseFormula(String(value));
  return /[",\r\n]/.test(s) || s !== s.trim() ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** Shortens text to at most `max` characters (code points), marking the cut with an ellipsis. */
export function truncate(text: string, max: number, from: 'start' | 'end' = 'end'): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return from === 'end' ? chars.slice(0, max - 1).join('') + '…' : '…' + chars.slice(chars.length - max + 1).join('');
}

/** A safe file/anchor slug from any text: [a-z0-9-] only. */
export function slug(text: string): string {
  return (
    String(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'x'
  );
}
