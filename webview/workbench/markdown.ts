// Dataset text is hostile. Markdown is rendered with raw HTML escaped (so `<script>` shows as
// text), links and images turned into plain text (no navigation, no remote loads), and the result
// passed through DOMPurify with a small allow-list as a second line of defence.
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

import { escapeHtml } from '../../src/core/report/escape';

export { escapeHtml };

const marked = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html(token: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(token.text);
    },
    link(token: Tokens.Link) {
      const text = this.parser.parseInline(token.tokens);
      return `<span class="md-link" title="${escapeHtml(token.href)}">${text}</span>`;
    },
    image(token: Tokens.Image) {
      return `<span class="md-image">[image: ${escapeHtml(token.text)}]</span>`;
    },
  },
});

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

/** Markdown -> sanitised HTML string safe to assign to innerHTML. */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text) as string;
  return DOMPurify.sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ['class', 'title', 'type', 'checked', 'disabled'],
    ALLOW_DATA_ATTR: false,
  });
}

const cache = new Map<string, string>();
const CACHE_ENTRIES = 16;

/**
 * renderMarkdown, remembered for the last few texts: the next card's responses are rendered while
 * the annotator works (the host sends that card ahead), so showing it costs only the DOM swap.
 * Same function, same sanitiser, same output: only the work is moved earlier.
 */
export function renderMarkdownCached(text: string): string {
  let html = cache.get(text);
  if (html === undefined) {
    html = renderMarkdown(text);
    if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(text, html);
  }
  return html;
}
