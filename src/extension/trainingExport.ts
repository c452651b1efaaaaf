// "Export training data" (the export command's TRL and Hugging Face formats, and the dashboard's button): picks the
// source of the chosen response and the target, then runs src/app/training.ts's exportTrainingData under a
// cancellable progress notification. The use case and its rules live in src/app; this only asks and reports.
import * as vscode from 'vscode';
import { exportTrainingData, type TrainingFormat } from '../app/training';
import { escapeControls } from '../core/terminalSafe';
import type { Store } from '../store';

export const TRAINING_FORMAT_PICKS: { label: string; format: TrainingFormat; detail: string }[] = [
  {
    label: 'TRL preference data (JSONL)',
    format: 'trl',
    detail: 'prompt, chosen, rejected as messages, for DPOTrainer and RewardTrainer; ties left out',
  },
  {
    label: 'Hugging Face dataset folder (Parquet and card)',
    format: 'hf',
    detail: 'one row per pair with every vote, and a README.md with the discretion numbers',
  },
];

export interface TrainingExportContext {
  dataset: string;
  /** The format when already chosen (the export command asks first). */
  format?: TrainingFormat;
  /** The metric run whose numbers the card shows (the dashboard's run); default the dataset's latest. */
  run?: number;
  /** The pair categories' principle list and source (the dashboard's run, when its source is one for all). */
  principles?: string;
  principleSource?: string;
}

/** Asks for the format (unless given), the source and the target, and exports. Resolves with the message shown, or undefined when cancelled. */
export async function exportTrainingWithPicks(store: Store, c: TrainingExportContext): Promise<string | undefined> {
  const format =
    c.format ??
    (await vscode.window.showQuickPick(TRAINING_FORMAT_PICKS, { title: 'Training data format', ignoreFocusOut: true }))
      ?.format;
  if (!format) return undefined;
  const info = await store.info();
  const labelled = info.annotators
    .filter((a) => a.datasets.some((d) => d.dataset === c.dataset && d.preferences > 0))
    .map((a) => ({ label: a.name, description: a.kind, from: a.name }));
  const source = await vscode.window.showQuickPick(
    [
      {
        label: 'Adjudicated',
        description: "the lead's adjudicated label, else the human majority",
        from: 'adjudicated',
      },
      { label: 'Majority', description: 'the majority of the human labels', from: 'majority' },
      ...labelled,
    ],
    { title: 'Who chooses the response', ignoreFocusOut: true },
  );
  if (!source) return undefined;
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  let target: vscode.Uri | undefined;
  if (format === 'trl') {
    target = await vscode.window.showSaveDialog({
      title: `Export ${c.dataset} as TRL preference data`,
      filters: { 'JSON Lines': ['jsonl'] },
      defaultUri: root ? vscode.Uri.joinPath(root, `${c.dataset}-trl.jsonl`) : undefined,
    });
  } else {
    const parent = (
      await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Write the dataset folder here',
      })
    )?.[0];
    const name =
      parent &&
      (await vscode.window.showInputBox({
        title: 'Name of the dataset folder (new, or one an earlier export wrote)',
        value: `${c.dataset}-hf`,
        validateInput: (v) =>
          /^[^/\\]+$/.test(v.trim()) && v.trim() !== '.' && v.trim() !== '..' ? undefined : 'Enter a folder name',
      }));
    target = parent && name ? vscode.Uri.joinPath(parent, name.trim()) : undefined;
  }
  if (!target || target.scheme !== 'file') return undefined;
  const out = target.fsPath;
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exporting ${c.dataset}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      let last = 0;
      return exportTrainingData(store, {
        dataset: c.dataset,
        format,
        out,
        from: source.from,
        run: format === 'hf' ? c.run : undefined,
        principles: c.principleSource ? c.principles : undefined,
        principleSource: c.principles ? c.principleSource : undefined,
        signal: abort.signal,
        onProgress: (done, total) => {
          const pct = total ? (100 * done) / total : 100;
          progress.report({ increment: pct - last, message: `${done} of ${total} pairs` });
          last = pct;
        },
      });
    },
  );
  const message = escapeControls(
    `Discretion: ${r.format === 'trl' ? `${r.chosen} preference rows` : `${r.pairs} pairs (${r.chosen} with chosen and rejected)`} chosen by ${r.source} written to ${out}; left out or without a side: ${r.ties} tie, ${r.bothBad} both bad, ${r.noMajority} without a majority, ${r.unlabelled} unlabelled.${r.notes.length ? ` ${r.notes.join('; ')}.` : ''}`,
  );
  void vscode.window.showInformationMessage(message);
  return message;
}
