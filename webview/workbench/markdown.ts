// Dataset text is hostile. A response's Markdown reaches the card as HTML rendered by the host
// (src/core/responseMarkdown.ts: raw HTML escaped, links and images as plain text), and that HTML is
// passed through DOMPurify with a small allow-list here, the second line of defence, before it is
// assigned to innerHTML: the webview never inserts the host's HTML as it comes.
import DOMPurify from 'dompurify';

const ALLOWED_TAGS = [
  'p',
  'br',
  'em',
  'strong',
  'del',
  'code',
  'pre',
  'ul',
  'ol',
  'li',
  'blockquote',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'table',
  'thead',
  'tbody',
  'tr',
  'th',
  'td',
  'span',
  'input',
];

/** The host's HTML of a response -> sanitised HTML string safe to assign to innerHTML. */
export function sanitizeResponse(html: string): string {
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['class', 'title', 'type', 'checked', 'disabled'],
    ALLOW_DATA_ATTR: false,
  });
}

const cache = new Map<string, string>();
/** The responses of the card shown and the cards read ahead (READ_AHEAD, src/app/workbench/cards.ts), and some. */
const CACHE_ENTRIES = 32;

/**
 * sanitizeResponse, remembered for the last few responses: the next cards' responses are sanitised
 * while the annotator works (the host sends those cards ahead), so showing one costs only the DOM swap.
 * Same function, same sanitiser, same output: only the work is moved earlier.
 */
export function sanitizeResponseCached(html: string): string {
  let safe = cache.get(html);
  if (safe === undefined) {
    safe = sanitizeResponse(html);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(html, safe);
  }
  return safe;
}
