// The reference for the workbench's open time (npm run bench:e2e): a webview panel with an empty
// page, created the way the workbench creates its panel. The page records, by the same clock and
// the same rule as the pair card (the frame after the first render), when it was first painted.
const vscode = require('vscode');
const { randomBytes } = require('node:crypto');

exports.activate = (context) => {
  context.subscriptions.push(
    vscode.commands.registerCommand('emptyWebview.open', () => {
      const panel = vscode.window.createWebviewPanel('emptyWebview', 'Empty webview', vscode.ViewColumn.Active, {
        enableScripts: true,
        localResourceRoots: [],
      });
      const nonce = randomBytes(16).toString('base64');
      panel.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}'">
<title>Empty webview</title></head><body><p id="empty">empty</p>
<script nonce="${nonce}">requestAnimationFrame(() => setTimeout(() => { window.__emptyFirstPaint = performance.timeOrigin + performance.now(); }, 0));</script>
</body></html>`;
    }),
  );
};
exports.deactivate = () => undefined;
