// "Discretion: Set Annotator Group...": the lead puts annotators in a group (region, expertise,
// "reward-models") for the inconsistency between groups (`discretion consistency`), or clears it.
// The same operation as `discretion annotators set-group` (src/app/consistency.ts).
import * as vscode from 'vscode';
import { setAnnotatorGroup } from '../app/consistency';
import { extensionMessage } from './errors';
import type { Store } from '../store';

export function registerGroupCommand(context: vscode.ExtensionContext, deps: { openStore: () => Promise<Store> }): void {
  const run = async () => {
    const store = await deps.openStore();
    const annotators = await store.listAnnotators();
    if (annotators.length === 0) {
      void vscode.window.showInformationMessage('Discretion: the database holds no annotators yet.');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      annotators.map((a) => ({ label: a.name, description: a.kind, detail: a.group ? `group: ${a.group}` : 'no group' })),
      { title: 'Discretion: annotators to put in a group', canPickMany: true, ignoreFocusOut: true });
    if (!picked || picked.length === 0) return;
    const known = [...new Set(annotators.map((a) => a.group).filter((g): g is string => !!g))];
    const group = await vscode.window.showInputBox({
      title: 'Discretion: group name', prompt: `Empty clears the group${known.length ? `; existing groups: ${known.join(', ')}` : ''}`, ignoreFocusOut: true,
    });
    if (group === undefined) return;
    const rows = await setAnnotatorGroup(store, picked.map((p) => p.label), group.trim() === '' ? null : group);
    void vscode.window.showInformationMessage(`Discretion: ${rows.map((r) => r.name).join(', ')} ${group.trim() ? `now in group "${group.trim()}"` : 'in no group'}.`);
  };
  context.subscriptions.push(vscode.commands.registerCommand('discretion.setAnnotatorGroup', async () => {
    try {
      await run();
    } catch (e) {
      void vscode.window.showErrorMessage(`Discretion: ${extensionMessage(e)}`);
    }
  }));
}
