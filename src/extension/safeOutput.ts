// The extension's output channel made safe like the CLI's output (src/core/terminalSafe.ts): control and
// bidi characters in everything logged to it are escaped (newlines kept), whatever the call site logs.
// Notifications escape their text where they are shown (escapeControls: one line). No runtime vscode
// import, so it is testable as is.
import type * as vscode from 'vscode';
import { escapeControlsKeepingNewlines } from '../core/terminalSafe';

const LOGGING = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace']);

/** The channel, with every message (and string argument) escaped on its way in; an Error logs as its escaped stack. */
export function escapingLogChannel<T extends Pick<vscode.LogOutputChannel, 'info'>>(channel: T): T {
  return new Proxy(channel, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (typeof prop !== 'string' || !LOGGING.has(prop)) return value.bind(target);
      return (message: unknown, ...args: unknown[]) => {
        const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
        const rest = args.map((a) => (typeof a === 'string' ? escapeControlsKeepingNewlines(a) : a));
        return value.call(target, escapeControlsKeepingNewlines(text), ...rest);
      };
    },
  });
}
