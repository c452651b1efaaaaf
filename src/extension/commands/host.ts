// What every extension command gets (the extension context, its log, the datasets tree, the store) and
// how commands are registered: a command's errors become one line (user errors as they are, internal
// ones with a pointer to the log), never an exception out of the command.
import * as vscode from 'vscode';
import { isUserFacingError } from '../../core/errors';
import { extensionMessage } from '../errors';
import { escapeControls } from '../../core/terminalSafe';
import type { Store } from '../../store';
import type { DiscretionTree } from '../tree';

export interface CommandHost {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  tree: DiscretionTree;
  openStore: () => Promise<Store>;
  /** Calls `listener` after another window or process wrote to the open database (Store.watchChanges). */
  onStoreChange(listener: (tables: string[] | undefined) => void): vscode.Disposable;
}

/** Runs a command body; user errors become one line, internal errors one line plus the log. */
export function guarded<A extends unknown[]>(log: vscode.LogOutputChannel, name: string, fn: (...args: A) => Promise<unknown>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      log.error(`${name}: ${(e as Error)?.stack ?? e}`);
      const message = `${extensionMessage(e)}${isUserFacingError(e) ? '' : ' (see the "Discretion" output)'}`;
      void vscode.window.showErrorMessage(escapeControls(`Discretion: ${message}`));
    }
  };
}

/** Registers a guarded command for the lifetime of the extension. */
export function registerCommand(host: CommandHost, id: string, fn: (...args: never[]) => Promise<unknown>): void {
  host.context.subscriptions.push(vscode.commands.registerCommand(id, guarded(host.log, id, fn as (...args: unknown[]) => Promise<unknown>)));
}
