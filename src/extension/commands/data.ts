// Data commands: import a dataset, load a principle list, open the bundled sample, export a dataset,
// import model judgments, show the database contents, refresh the tree.
import { basename, extname } from 'node:path';
import * as vscode from 'vscode';
import { exportDataset } from '../../app/export';
import { importSample } from '../../app/media';
import { UsageError } from '../../core/errors';
import { type DatasetFormat, importDataset } from '../../importers/datasets';
import { type JudgmentFormat, importJudgments } from '../../importers/judgments';
import { importPrincipleList } from '../../importers/principles';
import { escapeControls } from '../../core/terminalSafe';
import { withImportProgress } from '../importProgress';
import { markDone } from '../walkthrough';
import { exportTrainingWithPicks, TRAINING_FORMAT_PICKS } from '../trainingExport';
import { registerCommand, type CommandHost } from './host';
import type { WorkbenchCommands } from './workbench';

const SAMPLE_DATASET = 'safety-pairs-sample';
const SAMPLE_LIST = 'demo-safety';

export function registerDataCommands(host: CommandHost, workbench: WorkbenchCommands): void {
  const { context, log, tree } = host;
  const { openWorkbench, pickList } = workbench;
  const importDatasetCmd = async (uri?: vscode.Uri) => {
    const file =
      uri instanceof vscode.Uri
        ? uri
        : (
            await vscode.window.showOpenDialog({
              title: 'Import a dataset of preference pairs',
              canSelectMany: false,
              filters: { Datasets: ['jsonl', 'json', 'csv'] },
            })
          )?.[0];
    if (!file) return;
    const ext = extname(file.fsPath).toLowerCase();
    const formats: { label: string; format: DatasetFormat; detail: string }[] =
      ext === '.csv'
        ? [{ label: 'CSV', format: 'csv', detail: 'columns prompt, response_0, response_1 (optional id, preferred)' }]
        : [
            {
              label: 'Generic JSONL',
              format: 'jsonl',
              detail: 'fields prompt, response_0, response_1 (optional id, preferred)',
            },
            { label: 'HH-RLHF', format: 'hh-rlhf', detail: 'fields chosen, rejected' },
            {
              label: 'PKU-SafeRLHF',
              format: 'pku-saferlhf',
              detail: 'fields prompt, response_0, response_1, better_response_id, safer_response_id',
            },
          ];
    const picked =
      formats.length === 1 ? formats[0] : await vscode.window.showQuickPick(formats, { title: 'Dataset format' });
    if (!picked) return;
    const name = await vscode.window.showInputBox({
      title: 'Dataset name',
      value: basename(file.fsPath).replace(/\.[^.]+$/, ''),
      validateInput: (v) => (v.trim() ? undefined : 'Enter a name'),
    });
    if (!name) return;
    const s = await host.openStore();
    const mapping =
      picked.format === 'jsonl' || picked.format === 'csv'
        ? { prompt: 'prompt', response0: 'response_0', response1: 'response_1' }
        : undefined;
    const summary = await withImportProgress(`Importing ${basename(file.fsPath)}`, (read) =>
      importDataset(s, {
        format: picked.format,
        file: file.fsPath,
        dataset: name.trim(),
        mapping,
        onError: 'skip',
        ...read,
      }),
    );
    if (!summary) return;
    // the walkthrough's first step offers your own dataset as well as the sample
    if (summary.imported > 0) markDone(context, 'sample');
    tree.refresh();
    void vscode.window.showInformationMessage(
      escapeControls(
        `Discretion: imported ${summary.imported} pairs into "${name.trim()}"${summary.skipped.length ? `; skipped ${summary.skipped.length} bad records (first: ${summary.skipped[0].message})` : ''}.`,
      ),
    );
  };

  const loadListCmd = async (uri?: vscode.Uri) => {
    const file =
      uri instanceof vscode.Uri
        ? uri
        : (
            await vscode.window.showOpenDialog({
              title: 'Load a principle list',
              canSelectMany: false,
              filters: { 'Principle lists': ['yaml', 'yml', 'json', 'txt'] },
            })
          )?.[0];
    if (!file) return;
    const name = await vscode.window.showInputBox({
      title: 'Principle list name',
      value: basename(file.fsPath).replace(/\.[^.]+$/, ''),
      validateInput: (v) => (v.trim() ? undefined : 'Enter a name'),
    });
    if (!name) return;
    const store = await host.openStore();
    const summary = await withImportProgress(`Loading ${basename(file.fsPath)}`, (read) =>
      importPrincipleList(store, { file: file.fsPath, name: name.trim(), ...read }),
    );
    if (!summary) return;
    tree.refresh();
    void vscode.window.showInformationMessage(
      escapeControls(`Discretion: ${summary.counts.principles} principles; ${summary.notes.join('; ')}.`),
    );
  };

  const openSample = async () => {
    await importSample(
      await host.openStore(),
      { dataset: SAMPLE_DATASET, list: SAMPLE_LIST },
      vscode.Uri.joinPath(context.extensionUri, 'media').fsPath,
    );
    await context.workspaceState.update(`list:${SAMPLE_DATASET}`, SAMPLE_LIST);
    markDone(context, 'sample');
    tree.refresh();
    await openWorkbench(SAMPLE_DATASET);
  };

  const exportCmd = async () => {
    const s = await host.openStore();
    const ds = await s.datasetProgress();
    if (ds.length === 0) throw new UsageError('the database holds no datasets yet');
    const dataset =
      ds.length === 1
        ? ds[0].name
        : await vscode.window.showQuickPick(
            ds.map((d) => d.name),
            { title: 'Dataset to export' },
          );
    if (!dataset) return;
    const format = await vscode.window.showQuickPick(
      [
        {
          label: 'All labels (JSONL or CSV)',
          format: 'labels' as const,
          detail: "every annotator's labels; re-importable",
        },
        ...TRAINING_FORMAT_PICKS,
      ],
      { title: 'Export format' },
    );
    if (!format) return;
    if (format.format !== 'labels') {
      await exportTrainingWithPicks(s, { dataset, format: format.format });
      return;
    }
    const target = await vscode.window.showSaveDialog({
      title: `Export ${dataset}`,
      filters: { 'JSON Lines': ['jsonl'], CSV: ['csv'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]
        ? vscode.Uri.joinPath(vscode.workspace.workspaceFolders[0].uri, `${dataset}-labels.jsonl`)
        : undefined,
    });
    if (!target) return;
    const r = await exportDataset(s, {
      dataset,
      format: target.fsPath.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl',
      out: target.fsPath,
    });
    void vscode.window.showInformationMessage(
      escapeControls(
        `Discretion: exported ${r.pairs} pairs with labels from ${r.annotators.length} annotators to ${basename(target.fsPath)}.`,
      ),
    );
  };

  const importJudgmentsCmd = async () => {
    const file = (
      await vscode.window.showOpenDialog({
        title: 'Import model judgments (CSV)',
        canSelectMany: false,
        filters: { CSV: ['csv'] },
      })
    )?.[0];
    if (!file) return;
    const format = (await vscode.window.showQuickPick(['rewards', 'judge', 'loglik', 'oracle'] as JudgmentFormat[], {
      title: 'Judgment format',
    })) as JudgmentFormat | undefined;
    if (!format) return;
    const s = await host.openStore();
    const ds = await s.datasetProgress();
    const dataset =
      ds.length === 1
        ? ds[0].name
        : await vscode.window.showQuickPick(
            ds.map((d) => d.name),
            { title: 'Dataset the judgments are about' },
          );
    if (!dataset) return;
    const annotator = await vscode.window.showInputBox({
      title: 'Model name (annotator)',
      value: basename(file.fsPath).replace(/\.[^.]+$/, ''),
    });
    if (!annotator) return;
    const principles = format === 'oracle' ? await pickList(s, dataset) : undefined;
    const summary = await withImportProgress(`Importing ${basename(file.fsPath)}`, (read) =>
      importJudgments(s, { format, file: file.fsPath, dataset, annotator, principles, onError: 'skip', ...read }),
    );
    if (!summary) return;
    tree.refresh();
    void vscode.window.showInformationMessage(
      escapeControls(`Discretion: imported ${summary.imported} judgments from ${annotator}.`),
    );
  };

  const showInfo = async () => {
    const info = await (await host.openStore()).info();
    log.info(JSON.stringify(info, null, 2));
    log.show(true);
  };

  const reg = (id: string, fn: (...args: never[]) => Promise<unknown>) => registerCommand(host, id, fn);
  reg('discretion.openSample', openSample);
  reg('discretion.importDataset', importDatasetCmd as (...args: never[]) => Promise<unknown>);
  reg('discretion.loadPrincipleList', loadListCmd as (...args: never[]) => Promise<unknown>);
  reg('discretion.export', exportCmd);
  reg('discretion.importJudgments', importJudgmentsCmd);
  reg('discretion.showInfo', showInfo);
  reg('discretion.refresh', async () => tree.refresh());
}
