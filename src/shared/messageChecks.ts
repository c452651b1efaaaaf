// What the protocols of the webviews (workbench, review and dashboard protocols in this folder) check a
// message from a webview with: sizes, exact keys, indexes. Every message from a webview is untrusted
// until its protocol's parser accepts it.

export const LIMITS = {
  /** Whole message, serialised. */
  maxMessageChars: 64 * 1024,
  maxRationaleChars: 10_000,
  maxGridRows: 64,
  maxNameChars: 512,
} as const;

/** A parser's answer: the message, or why it was refused (for the log; the message is dropped). */
export type ParseResult<T> = { ok: true; message: T } | { ok: false; reason: string };

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isIdx = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= LIMITS.maxNameChars;

/** Why `o` does not have exactly these keys, or null when it does. */
export function exactKeys(o: Record<string, unknown>, keys: string[]): string | null {
  for (const k of Object.keys(o)) if (!keys.includes(k)) return `unexpected field "${k.slice(0, 40)}"`;
  for (const k of keys) if (!(k in o)) return `missing field "${k}"`;
  return null;
}
