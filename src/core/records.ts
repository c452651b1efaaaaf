// Dataset records (one parsed JSON line or CSV row) -> pairs and preferences. Each function names
// the file, line and field of anything wrong, through InputError.
import { conversationPrompt, responseValue, storableText } from './conversation';
import { InputError, type RecordContext } from './errors';
import { splitHHDialogue } from './hhrlhf';
import { isBothBadWord, parsePreferredWord, type StoredPreference } from './preferences';
import type { Pair } from './types';

export type { RecordContext } from './errors';

/** A parser's message that quotes the input, kept to one line: control and line-separator characters escaped. */
export function quotedInputOneLine(message: string): string {
  return message.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function parseJsonLine(ctx: RecordContext, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(ctx.file, ctx.line, null, `malformed JSON (${quotedInputOneLine((e as Error).message)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(ctx.file, ctx.line, null, 'expected a JSON object on this line');
  return value as Record<string, unknown>;
}

/**
 * Whether JSON `text` nests arrays and objects deeper than `max` levels, found without parsing (a
 * deep value parses, then overflows the stack of whatever walks it). Linear; brackets inside strings
 * do not count. Most lines have fewer than `max` brackets at all and end after a few indexOf calls.
 */
export function jsonNestingExceeds(text: string, max: number): boolean {
  let openers = 0;
  for (let i = text.indexOf('{'); i !== -1 && openers <= max; i = text.indexOf('{', i + 1)) openers++;
  for (let i = text.indexOf('['); i !== -1 && openers <= max; i = text.indexOf('[', i + 1)) openers++;
  if (openers <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // a backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** A field that plain-object metadata cannot hold: assigning it would set the object's prototype. */
function refuseProtoField(ctx: RecordContext): never {
  throw new InputError(
    ctx.file,
    ctx.line,
    '__proto__',
    'a field of this name cannot be kept as pair metadata; rename or remove it',
  );
}

/** Reads `a.b.c` from nested objects; a key that itself contains dots is tried first. */
export function getPath(record: Record<string, unknown>, path: string): unknown {
  if (path in record) return record[path];
  let cur: unknown = record;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function requireString(ctx: RecordContext, record: Record<string, unknown>, field: string): string {
  const v = getPath(record, field);
  if (v === undefined || v === null) throw new InputError(ctx.file, ctx.line, field, 'missing');
  if (typeof v !== 'string')
    throw new InputError(
      ctx.file,
      ctx.line,
      field,
      `must be a string, not ${Array.isArray(v) ? 'an array' : typeof v}`,
    );
  return storableText(ctx, field, v);
}

export function hhRecordToPair(ctx: RecordContext, record: Record<string, unknown>): Pair {
  const chosen = requireString(ctx, record, 'chosen');
  const rejected = requireString(ctx, record, 'rejected');
  const split = splitHHDialogue(chosen, rejected);
  if (!split)
    throw new InputError(
      ctx.file,
      ctx.line,
      'chosen',
      'chosen and rejected share no "\\n\\nAssistant:" turn to split at',
    );
  return { idx: ctx.index, sourceId: String(ctx.index), prompt: split.prompt, y0: split.y0, y1: split.y1 };
}

export interface PkuRecord {
  pair: Pair;
  better: StoredPreference;
  safer: StoredPreference;
}

function responseId(ctx: RecordContext, record: Record<string, unknown>, field: string): StoredPreference {
  const v = record[field];
  if (v === undefined || v === null) throw new InputError(ctx.file, ctx.line, field, 'missing');
  const n = typeof v === 'string' && /^[01]$/.test(v.trim()) ? Number(v) : v;
  if (n !== 0 && n !== 1) throw new InputError(ctx.file, ctx.line, field, `must be 0 or 1, not ${JSON.stringify(v)}`);
  return (2 * n - 1) as StoredPreference;
}

const PKU_PAIR_FIELDS = new Set(['prompt', 'response_0', 'response_1', 'better_response_id', 'safer_response_id']);

/** PKU-SafeRLHF: y0 = response_0, y1 = response_1; better/safer = 2*id - 1 (spec section 1). */
export function pkuRecordToPair(ctx: RecordContext, record: Record<string, unknown>): PkuRecord {
  const prompt = requireString(ctx, record, 'prompt');
  const y0 = requireString(ctx, record, 'response_0');
  const y1 = requireString(ctx, record, 'response_1');
  const better = responseId(ctx, record, 'better_response_id');
  const safer = responseId(ctx, record, 'safer_response_id');
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (PKU_PAIR_FIELDS.has(k)) continue;
    if (k === '__proto__') refuseProtoField(ctx);
    meta[k] = v;
  }
  return { pair: { idx: ctx.index, sourceId: String(ctx.index), prompt, y0, y1, meta }, better, safer };
}

export interface FieldMapping {
  prompt: string;
  response0: string;
  response1: string;
  /** Column/field with the preferred response: 0|y0|response_0|-1 -> y0, 1|y1|response_1|+1 -> y1, tie -> 0, empty -> missing. */
  preferred?: string;
  /** Field used as the pair's source id (default: the line/row number). */
  id?: string;
}

/** The values `--preferred` accepts (case-insensitive), mapped to preferences. */
export function parsePreferredValue(ctx: RecordContext, field: string, v: unknown): StoredPreference {
  const value = parsePreferredWord(v);
  if (value !== undefined) return value;
  throw new InputError(
    ctx.file,
    ctx.line,
    field,
    `unknown preference ${JSON.stringify(v).slice(0, 40)} (use 0/y0, 1/y1, tie, or leave empty)`,
  );
}

/** `bothBad`: the preferred word said both responses were unacceptable (kept as raw.choice, as the workbench and label files do). */
export function genericRecordToPair(
  ctx: RecordContext,
  record: Record<string, unknown>,
  mapping: FieldMapping,
): { pair: Pair; preferred: StoredPreference | undefined; bothBad: boolean } {
  const prompt = requireString(ctx, record, mapping.prompt);
  const y0 = requireString(ctx, record, mapping.response0);
  const y1 = requireString(ctx, record, mapping.response1);
  return mappedPair(ctx, record, mapping, prompt, y0, y1);
}

/** The source id, metadata and preference of a mapped record, around its prompt and responses. */
function mappedPair(
  ctx: RecordContext,
  record: Record<string, unknown>,
  mapping: ConversationMapping,
  prompt: string,
  y0: string,
  y1: string,
  fixedPreference?: StoredPreference,
): { pair: Pair; preferred: StoredPreference | undefined; bothBad: boolean } {
  let sourceId = String(ctx.index);
  if (mapping.id) {
    const v = getPath(record, mapping.id);
    if (v === undefined || v === null || v === '') throw new InputError(ctx.file, ctx.line, mapping.id, 'missing');
    if (typeof v !== 'string' && typeof v !== 'number')
      throw new InputError(ctx.file, ctx.line, mapping.id, 'must be a string or number');
    sourceId = String(v);
  }
  // Per record, so no Set or entry arrays: this loop runs a million times in a large import.
  const meta: Record<string, unknown> = {};
  for (const k in record) {
    if (
      k === mapping.prompt ||
      k === mapping.response0 ||
      k === mapping.response1 ||
      k === mapping.preferred ||
      k === mapping.id
    )
      continue;
    if (k === '__proto__') refuseProtoField(ctx);
    const v = record[k];
    if (v !== '' && v !== undefined) meta[k] = v;
  }
  const pair = { idx: ctx.index, sourceId, prompt, y0, y1, meta };
  if (fixedPreference !== undefined) return { pair, preferred: fixedPreference, bothBad: false };
  const word = mapping.preferred === undefined ? undefined : getPath(record, mapping.preferred);
  const preferred = mapping.preferred === undefined ? undefined : parsePreferredValue(ctx, mapping.preferred, word);
  return { pair, preferred, bothBad: isBothBadWord(word) };
}

/**
 * The mapping of a columnar file whose fields may hold chat message lists (Parquet): the prompt field is
 * optional (the responses' earlier messages can be the dialogue), and `preferred` may name one of the two
 * response fields: the layout where the preferred response comes in its own field (`chosen`/`rejected`).
 */
export interface ConversationMapping {
  prompt?: string;
  response0: string;
  response1: string;
  /** A field of preference words (as FieldMapping.preferred), or response0/response1: that response is preferred in every pair. */
  preferred?: string;
  id?: string;
}

/**
 * A record whose prompt and responses are strings or message lists (conversation.ts) -> a pair. With
 * `preferred` naming a response field, every pair prefers that response: response1 -> +1 (prefers y1),
 * response0 -> -1. For the chosen/rejected layout (response0 = rejected, response1 = chosen, preferred =
 * chosen) that is what the HH-RLHF importer stores: y0 = rejected, y1 = chosen, +1.
 */
export function conversationRecordToPair(
  ctx: RecordContext,
  record: Record<string, unknown>,
  mapping: ConversationMapping,
): { pair: Pair; preferred: StoredPreference | undefined; bothBad: boolean } {
  const r0 = responseValue(ctx, mapping.response0, getPath(record, mapping.response0));
  const r1 = responseValue(ctx, mapping.response1, getPath(record, mapping.response1));
  const promptValue = mapping.prompt === undefined ? undefined : getPath(record, mapping.prompt);
  const prompt = conversationPrompt(ctx, mapping, promptValue, r0, r1);
  const fixed = mapping.preferred === mapping.response1 ? 1 : mapping.preferred === mapping.response0 ? -1 : undefined;
  return mappedPair(ctx, record, mapping, prompt, r0.text, r1.text, fixed);
}
