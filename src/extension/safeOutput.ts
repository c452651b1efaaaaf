// What the extension shows the user, made safe like the CLI's output (src/core/terminalSafe.ts): the
// output channel escapes control and bidi characters in everything logged to it (newlines kept), and
// notifications are one line with them escaped. Data (names, file text, server answers) reaches these.
import * as vscode from 'vscode';
import { escapeControls, escapeControlsKeepingNewlines } from '../core/terminalSafe';

const LOGGING = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace']);

/** The channel, with every message escaped on its way in (an Error logs as its escaped stack). */
export function safeLogChannel(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
  return new Proxy(channel, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string' || !LOGGING.has(prop) || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return (message: unknown, ...args: unknown[]) => {
        const text = message instanceof Error ? message.stack ?? message.message : String(message);
        const rest = args.map((a) => (typeof a === 'string' ? escapeControlsKeepingNewlines(a) : a));
        return (value as (...a: unknown[]) => unknown).call(target, escapeControlsKeepingNewlines(text), ...rest);
      };
    },
  });
}

export function showInfo<T extends string>(text: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showInformationMessage(escapeControls(text), ...items);
}

export function showWarning<T extends string>(text: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showWarningMessage(escapeControls(text), ...items);
}

export function showError<T extends string>(text: string, ...items: T[]): Thenable<T | undefined> {
  return vscode.window.showErrorMessage(escapeControls(text), ...items);
}
