// "Discretion: Run Model Judgments": a reward model folder (ONNX, scored in a worker process) or an
// LLM judge / oracle over an OpenAI-compatible endpoint, on a dataset of the database; progress
// notification with cancel (what is stored stays; running again resumes). The API key lives in
// SecretStorage only, one per endpoint origin (src/judges/apiKeys.ts): a base URL on an origin without a
// key asks for one, so a workspace setting cannot send the user's key elsewhere. In Restricted Mode, model folders, endpoints and prompt folders named by
// workspace settings are ignored (only user settings or an explicit pick are used).
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { UsageError } from '../../core/errors';
import { escapeControls } from '../../core/terminalSafe';
import { judgeUnit, runJudge, type JudgeRun, type JudgeSummary } from '../../app/judges';
import { apiKeyForEndpoint, endpointOrigin, LEGACY_SECRET_KEY, setApiKeyForEndpoint } from '../../judges/apiKeys';
import { PROVIDER_CHOICES, type ProviderChoice } from '../../judges/modelFolder';
import type { Store } from '../../store';
import { registerCommand, type CommandHost } from './host';

/** A judges setting; workspace-level values only in a trusted workspace. */
function setting<T>(key: string): T | undefined {
  const info = vscode.workspace.getConfiguration('discretion').inspect<T>(key);
  if (!info) return undefined;
  if (vscode.workspace.isTrusted) return info.workspaceFolderValue ?? info.workspaceValue ?? info.globalValue ?? info.defaultValue;
  return info.globalValue ?? info.defaultValue;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() ? v.trim() : undefined;
}

async function pickDataset(store: Store): Promise<string | undefined> {
  const info = await store.info();
  if (info.datasets.length === 0) throw new UsageError('the database holds no datasets yet; import one first');
  const pick = await vscode.window.showQuickPick(info.datasets.map((d) => ({ label: d.name, description: `${d.pairs} pairs` })), { title: 'Discretion: dataset to judge', ignoreFocusOut: true });
  return pick?.label;
}

async function pickModelFolder(): Promise<string | undefined> {
  const configured = nonEmpty(setting<string>('judges.modelPath'));
  if (configured) return configured;
  if (!vscode.workspace.isTrusted && nonEmpty(vscode.workspace.getConfiguration('discretion').inspect<string>('judges.modelPath')?.workspaceValue)) {
    void vscode.window.showWarningMessage('Discretion: this workspace is in Restricted Mode, so the model folder named by its settings is not loaded. Pick a folder yourself or trust the workspace.');
  }
  const uri = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title: 'Reward model folder (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx)' });
  return uri?.[0]?.fsPath;
}

/** Asks for the key of one origin (undefined: cancelled). */
function askKey(origin: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `Discretion: API key for ${origin}`,
    prompt: `Sent only to ${origin} and kept in VS Code's secret storage for it; leave empty for a server without a key`,
    password: true,
    ignoreFocusOut: true,
  });
}

export function registerJudgeCommands(host: CommandHost): void {
  const { context } = host;
  const run = async () => {
    const store = await host.openStore();
    const mode = await vscode.window.showQuickPick([
      { label: 'Reward model (ONNX folder)', id: 'onnx' as const, detail: 'Scores y0 and y1 with a Hugging Face-layout ONNX model in a separate process' },
      { label: 'LLM judge (OpenAI-compatible endpoint)', id: 'llm' as const, detail: 'Overall "which is better", asked in both orders' },
      { label: 'LLM oracle, principle by principle', id: 'oracle' as const, detail: 'One question per pair and principle of a list' },
    ], { title: 'Discretion: run model judgments', ignoreFocusOut: true });
    if (!mode) return;
    const dataset = await pickDataset(store);
    if (!dataset) return;

    if (mode.id === 'onnx') {
      const modelDir = await pickModelFolder();
      if (!modelDir) return;
      const annotator = await vscode.window.showInputBox({ title: 'Discretion: annotator name for these rewards', value: `rm-${basename(modelDir)}`, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'Enter a name') });
      if (!annotator) return;
      const provider = (setting<string>('judges.provider') ?? 'auto') as ProviderChoice;
      if (!PROVIDER_CHOICES.includes(provider)) throw new UsageError(`setting discretion.judges.provider must be one of ${PROVIDER_CHOICES.join(', ')}`);
      const s = await withCancellableProgress(store, `Scoring "${dataset}" with ${basename(modelDir)}`, {
        kind: 'onnx', dataset, modelDir, annotator: annotator.trim(), provider,
        workerPath: join(context.extensionUri.fsPath, 'dist', 'judge-worker.js'),
      });
      void vscode.window.showInformationMessage(escapeControls(`Discretion: ${s.cancelled ? 'cancelled after storing' : 'scored'} ${s.scored} pairs as "${s.annotator}" on ${s.provider ?? '-'} (${s.pairsPerSecond.toFixed(1)} pairs/s, ${s.truncatedInputs} inputs truncated, ${s.alreadyScored} already scored).`));
    } else {
      let principles: string | undefined;
      if (mode.id === 'oracle') {
        const lists = (await store.info()).principleLists;
        if (lists.length === 0) throw new UsageError('the database holds no principle lists yet; load one first');
        const pick = await vscode.window.showQuickPick(lists.map((l) => ({ label: `${l.name}@${l.version}`, description: `${l.size} principles` })), { title: 'Discretion: principle list for the oracle', ignoreFocusOut: true });
        if (!pick) return;
        principles = pick.label;
      }
      const baseUrl = nonEmpty(setting<string>('judges.baseUrl')) ?? nonEmpty(await vscode.window.showInputBox({ title: 'Discretion: endpoint base URL', value: 'http://127.0.0.1:8000/v1', prompt: 'OpenAI-compatible; POST {base}/chat/completions must support logprobs', ignoreFocusOut: true }));
      if (!baseUrl) return;
      const model = nonEmpty(setting<string>('judges.model')) ?? nonEmpty(await vscode.window.showInputBox({ title: 'Discretion: model name at the endpoint', ignoreFocusOut: true }));
      if (!model) return;
      const key = await apiKeyForEndpoint(context.secrets, baseUrl, askKey);
      if (key === undefined) return;
      const annotator = await vscode.window.showInputBox({ title: 'Discretion: annotator name for these judgments', value: `${mode.id === 'oracle' ? 'oracle' : 'judge'}-${model}`, ignoreFocusOut: true, validateInput: (v) => (v.trim() ? undefined : 'Enter a name') });
      if (!annotator) return;
      const promptDir = nonEmpty(setting<string>('judges.promptsPath')) ?? join(context.extensionUri.fsPath, 'media', 'prompts');
      const s = await withCancellableProgress(store, `Asking ${model} about "${dataset}"`, {
        kind: 'llm', dataset, baseUrl, model, annotator: annotator.trim(), apiKey: key || undefined, oracle: mode.id === 'oracle', principles, promptDir,
        concurrency: setting<number>('judges.concurrency') ?? 4,
      });
      void vscode.window.showInformationMessage(escapeControls(`Discretion: ${s.cancelled ? 'cancelled after storing' : 'stored'} ${s.stored} judgments as "${s.annotator}" (${s.requests} requests, ${s.promptTokens + s.completionTokens} tokens, ${s.missing} missing).`));
    }
    void vscode.commands.executeCommand('discretion.refresh').then(undefined, () => undefined);
  };

  const setKey = async () => {
    const baseUrl = nonEmpty(await vscode.window.showInputBox({ title: 'Discretion: endpoint the key is for', value: nonEmpty(setting<string>('judges.baseUrl')) ?? 'http://127.0.0.1:8000/v1', prompt: 'The key is sent only to this URL\'s origin (scheme, host and port)', ignoreFocusOut: true }));
    if (!baseUrl) return;
    const origin = endpointOrigin(baseUrl);
    const entered = await vscode.window.showInputBox({ title: `Discretion: API key for ${origin}`, prompt: 'Kept in VS Code\'s secret storage for this origin only; empty removes it', password: true, ignoreFocusOut: true });
    if (entered === undefined) return;
    await setApiKeyForEndpoint(context.secrets, baseUrl, entered);
  };
  // A key stored before keys were kept per origin is tied to no host: it is dropped, never sent.
  void Promise.resolve(context.secrets.delete(LEGACY_SECRET_KEY)).catch(() => undefined);

  registerCommand(host, 'discretion.runModelJudgments', run);
  registerCommand(host, 'discretion.setJudgeApiKey', setKey);
}

/** One judge run (src/app/judges.ts) under a cancellable progress notification. */
function withCancellableProgress<R extends JudgeRun>(store: Store, title: string, run: R): Thenable<JudgeSummary<R>> {
  const unit = judgeUnit(run);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Discretion: ${title}`, cancellable: true }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    let last = 0;
    return runJudge(store, run, {
      signal: controller.signal,
      onProgress: ({ done, total, rate, etaSeconds }) => {
        progress.report({ increment: total > 0 ? ((done - last) / total) * 100 : 0, message: `${done}/${total} ${unit}${rate !== undefined ? `, ${rate.toFixed(1)}/s` : ''}${etaSeconds !== undefined ? `, about ${etaSeconds} s left` : ''}` });
        last = done;
      },
    });
  });
}
