// The dashboard webview: renders the report model with the same section and chart code as report.html.
// All markup comes from the report renderers, which escape every dataset string (src/core/report/escape.ts).
import { escapeHtml, renderReportBody, type ReportModel } from '../../src/core/report';
import type { DashboardHostMessage, DashboardWebviewMessage } from '../../src/shared/dashboardProtocol';

declare function acquireVsCodeApi(): {
  postMessage(m: DashboardWebviewMessage): void;
  getState(): unknown;
  setState(s: unknown): void;
};
const vscode = acquireVsCodeApi();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const runSel = $<HTMLSelectElement>('run');
const psSel = $<HTMLSelectElement>('ps');
const status = $<HTMLSpanElement>('status');
const report = $<HTMLDivElement>('report');
let model: ReportModel | null = null;

function setStatus(text: string, error = false): void {
  status.textContent = text;
  status.classList.toggle('error', error);
}

function options(sel: HTMLSelectElement, items: { value: string; label: string }[], current: string | null): void {
  sel.innerHTML = items
    .map(
      (i) =>
        `<option value="${escapeHtml(i.value)}"${i.value === current ? ' selected' : ''}>${escapeHtml(i.label)}</option>`,
    )
    .join('');
}

function render(): void {
  if (!model) return;
  const ps = psSel.value || model.psAnnotator;
  report.innerHTML = renderReportBody(model, { mode: 'dashboard', psAnnotator: ps });
}

window.addEventListener('message', (e: MessageEvent<DashboardHostMessage>) => {
  const m = e.data;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'runs') {
    options(
      runSel,
      [
        { value: '', label: m.runs.length ? '(choose a run)' : '(no stored runs)' },
        ...m.runs.map((r) => ({ value: String(r.id), label: r.label })),
      ],
      m.current === null ? '' : String(m.current),
    );
  } else if (m.type === 'model') {
    model = m.model;
    runSel.value = m.run !== null ? String(m.run) : ''; // a report computed now is no stored run
    options(
      psSel,
      model.metrics.annotators.map((a) => ({ value: a.name, label: a.name })),
      model.psAnnotator,
    );
    render();
    setStatus(
      `${model.provenance.dataset.name}: ${model.metrics.annotators.length} annotators${m.run !== null ? `, run #${m.run}` : ''}`,
    );
  } else if (m.type === 'status') setStatus(m.text, !!m.error);
});

runSel.addEventListener('change', () => {
  const id = Number(runSel.value);
  if (runSel.value && Number.isInteger(id)) vscode.postMessage({ type: 'loadRun', id });
});
psSel.addEventListener('change', render);
$('compute').addEventListener('click', () => vscode.postMessage({ type: 'compute' }));
$('export').addEventListener('click', () => {
  const formats = Array.from(document.querySelectorAll<HTMLInputElement>('#formats input:checked')).map(
    (i) => i.value,
  ) as ('html' | 'md' | 'json' | 'csv')[];
  if (formats.length === 0) return setStatus('Choose at least one format to export.', true);
  vscode.postMessage({ type: 'export', formats, psAnnotator: psSel.value || null });
});
$('exportTraining').addEventListener('click', () => vscode.postMessage({ type: 'exportTraining' }));
report.addEventListener('click', (e) => {
  const b = (e.target as HTMLElement).closest<HTMLButtonElement>('button.open-pair');
  if (!b) return;
  const pairIdx = Number(b.dataset.pair);
  if (Number.isInteger(pairIdx) && pairIdx >= 0) vscode.postMessage({ type: 'openPair', pairIdx });
});

vscode.postMessage({ type: 'ready' });
