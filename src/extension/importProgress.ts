// A cancellable progress notification around one import: the percentage of the file read, and a
// Cancel button that aborts the import (its transaction rolls back: nothing is written).
import * as vscode from 'vscode';
import { ImportCancelled, type ImportSummary, type ReadOptions } from '../importers/common';

/** Runs `run` under the notification; undefined when the user cancelled (after saying so). */
export async function withImportProgress(
  title: string,
  run: (read: ReadOptions) => Promise<ImportSummary>,
): Promise<ImportSummary | undefined> {
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let shown = 0;
        return run({
          signal: abort.signal,
          onProgress: (p) => {
            const percent = p.totalBytes > 0 ? Math.floor((100 * p.bytesRead) / p.totalBytes) : 0;
            if (percent > shown) {
              progress.report({ increment: percent - shown, message: `${percent}%` });
              shown = percent;
            }
          },
        });
      },
    );
  } catch (e) {
    if (!(e instanceof ImportCancelled)) throw e;
    void vscode.window.showInformationMessage(`Discretion: ${e.message}.`);
    return undefined;
  }
}
