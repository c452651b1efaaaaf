// How the extension words a person's error: the message, and the setting it is about where the extension
// reads that option from a setting (the layers below name none; the CLI names its flags, src/cli/context.ts).
// Options the extension asks for in a prompt or a pick are not named: the message already says what to change.
import { type OptionNames, userMessage } from '../core/errors';

export const EXTENSION_SETTINGS: OptionNames = {
  provider: 'setting discretion.judges.provider',
  baseUrl: 'setting discretion.judges.baseUrl',
  concurrency: 'setting discretion.judges.concurrency',
  directUrl: 'setting discretion.databaseDirectUrl',
};

/** userMessage with the extension's setting names. */
export function extensionMessage(e: unknown): string {
  return userMessage(e, EXTENSION_SETTINGS);
}
