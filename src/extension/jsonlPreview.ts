// Read-only preview of a .jsonl dataset ("Reopen Editor With..."; priority "option", so JSONL
// still opens as text by default). No scripts at all: every value is HTML-escaped.
import { escapeHtml as esc } from '../core/report/escape';
import { newNonce, webviewCsp, webviewPage } from './webviewSecurity';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import * as vscode from 'vscode';

const MAX_ROWS = 200;
const MAX_CELL = 400;

const cell = (v: unknown) => {
  const s = typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v);
  return esc(s.length > MAX_CELL ? s.slice(0, MAX_CELL) + '…' : s);
};

export class JsonlPreviewProvider implements vscode.CustomReadonlyEditorProvider {
  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: false, enableCommandUris: false, localResourceRoots: [] };
    const rows: string[] = [];
    let keys: string[] = [];
    let total = 0;
    let bad = 0;
    const rl = createInterface({
      input: createReadStream(document.uri.fsPath, { encoding: 'utf8' }),
      crlfDelay: Infinity,
    });
    for await (const line of rl) {
      if (!line.trim()) continue;
      total++;
      if (rows.length >= MAX_ROWS) continue;
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        if (typeof o !== 'object' || o === null) throw new Error('not an object');
        if (keys.length === 0) keys = Object.keys(o).slice(0, 8);
        rows.push(`<tr><td>${total}</td>${keys.map((k) => `<td>${cell(o[k])}</td>`).join('')}</tr>`);
      } catch {
        bad++;
        rows.push(
          `<tr><td>${total}</td><td colspan="${Math.max(keys.length, 1)}"><em>not a JSON object</em></td></tr>`,
        );
      }
    }
    const nonce = newNonce();
    const csp = webviewCsp(nonce, {});
    const name = document.uri.path.split('/').pop() ?? '';
    panel.webview.html = webviewPage({
      csp,
      title: name,
      head: `<style nonce="${nonce}">body{font-family:var(--vscode-font-family);color:var(--vscode-foreground)}table{border-collapse:collapse}td,th{border:1px solid var(--vscode-panel-border);padding:2px 6px;vertical-align:top;white-space:pre-wrap;max-width:40ch;overflow-wrap:anywhere}</style>`,
      body: `<h1>${esc(name)}</h1><p>${total} records${bad ? `, ${bad} not JSON objects` : ''}; showing the first ${Math.min(total, MAX_ROWS)}. Read-only: run "Discretion: Import Dataset..." to label it.</p>
<table><thead><tr><th>#</th>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    });
  }
}
