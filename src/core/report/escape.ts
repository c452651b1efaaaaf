// Every escape of dataset text (prompts, responses, names, principle labels, ids) for every output format
// lives here. Renderers never build markup from raw strings; they call these.

/** Text content and attribute values in HTML, SVG and XML: & < > " ' become entities (`]]>` and `</script>` lose their `<`/`>`). */
export function escapeHtml(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
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
  // One pass, so the entities it writes are never escaped again.
  return String(text ?? '').replace(/\r\n?|\n/g, ' ').replace(/[&<>"'\\`*_{}[\]()#+\-.!|~:]/g, (c) => HTML_ENTITY[c] ?? '\\' + c);
}

const HTML_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A CSV field: quoted when needed (RFC 4180); text that a spreadsheet would run as a formula gets a leading '. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
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
  return String(text).toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'x';
}
