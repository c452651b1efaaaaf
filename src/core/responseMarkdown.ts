// A response's Markdown as HTML for the workbench card, rendered where the card is built (the extension
// host), so that the webview bundles no Markdown parser and a card costs it only the sanitiser and the DOM.
// Dataset text is hostile: raw HTML in it is escaped (so `<script>` shows as text), links and images become
// plain text (no navigation, no remote loads). The result is NOT safe to insert as it is: the webview passes
// it through DOMPurify with a small allow-list (webview/workbench/markdown.ts), the second line of defence.
import { Marked, type Tokens } from 'marked';
import { escapeHtml } from './report/escape';

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

/** Markdown -> HTML, raw HTML escaped and links and images as text; to be sanitised before use. */
export function responseHtml(text: string): string {
  return marked.parse(text) as string;
}
