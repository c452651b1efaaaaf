// @vitest-environment happy-dom
// The workbench page built with its first card (the host had it before VS Code asked for the page): the
// card is in the page as JSON, read and shown by the page's own script as it starts, with no message
// from the host; hostile dataset text in it stays text (it cannot end the JSON element or become markup).
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { responseHtml } from '../../src/core/responseMarkdown';
import type { CardView, WorkbenchHostMessage, WorkbenchWebviewMessage } from '../../src/shared/workbenchProtocol';

// happy-dom has no ElementInternals, which @vscode-elements' button and textarea need (see labels.test.ts)
vi.mock('@vscode-elements/elements/dist/vscode-button/index.js', () => ({}));
vi.mock('@vscode-elements/elements/dist/vscode-textarea/index.js', () => ({}));

const HOSTILE = '</script><img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script> <!-- &amp;';
const first: CardView = {
  seq: 7,
  dataset: 'd',
  annotator: 'alice',
  signedIn: null,
  pairIdx: 3,
  sourceId: `s3 ${HOSTILE}`,
  turns: [{ role: 'human', text: `question ${HOSTILE}` }],
  responseAHtml: responseHtml(`a ${HOSTILE}`),
  responseBHtml: responseHtml('**b**'),
  shownFirst: 0,
  principleList: 'demo@1',
  principles: [{ short: 'Harm', text: 'Avoid harm.' }],
  existing: null,
  models: null,
  judged: false,
  progress: { labelled: 0, total: 10 },
  filter: 'all pairs',
  hasPrevious: false,
  hasNext: true,
};
const posted: WorkbenchWebviewMessage[] = [];

describe('the workbench page built with its first card', () => {
  beforeAll(async () => {
    const { jsonForScript } = await import('../../src/extension/webviewSecurity');
    const message: WorkbenchHostMessage = { type: 'card', card: first };
    // as the page builder writes it (PageContext.data, test/extension/webviewPages.test.ts)
    const json = `<script type="application/json" id="first-card" nonce="n0nce">${jsonForScript(message)}</script>`;
    expect(json.match(/<\/script/g)).toHaveLength(1); // its own end tag only
    expect(json).not.toMatch(/<img|<!--|&amp;/);
    document.body.innerHTML = `<main><div id="status"></div><div id="card" tabindex="-1" hidden></div></main>${json}`;
    (globalThis as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
      postMessage: (m: WorkbenchWebviewMessage) => posted.push(m),
      getState: () => undefined,
      setState: () => undefined,
    });
    await import('../../webview/workbench/main');
  });

  it('shows the card as the script starts, with no message from the host, and dataset text as text', () => {
    const root = document.getElementById('card')!;
    expect(root.hidden).toBe(false);
    expect(root.dataset.pairIdx).toBe('3');
    expect(root.dataset.sourceId).toBe(`s3 ${HOSTILE}`);
    expect(root.textContent).toContain(`question ${HOSTILE}`);
    // (Markdown reads the entity `&amp;` as `&`)
    expect(root.querySelector('#response-A .markdown')!.textContent).toContain(`a ${HOSTILE.replace('&amp;', '&')}`);
    expect(root.querySelector('#response-B .markdown strong')!.textContent).toBe('b');
    expect(document.querySelector('img')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    // the JSON is read once and removed; the page then says it is ready, as without a first card
    expect(document.getElementById('first-card')).toBeNull();
    expect(posted.map((m) => m.type)).toEqual(['ready']);
  });
});
