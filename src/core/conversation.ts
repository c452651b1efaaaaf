// Chat message lists ([{role, content}], TRL's conversational format and most chat datasets) -> the
// pair's prompt and responses. A pair keeps its dialogue as HH-RLHF text (types.ts: `Pair.prompt`):
// "\n\nHuman: ...\n\nAssistant: ..." turns ending with "\n\nAssistant:", the boundary the response
// follows; the workbench card splits it into turns again (hhrlhf.ts: splitTurns). A message list is
// written in that form:
//   - user (or human) -> "\n\nHuman: <content>", assistant -> "\n\nAssistant: <content>";
//   - system (or developer) messages before the first turn -> the text before it, which the card shows
//     as the context; any other role, or a system message later on -> "\n\n<Role>: <content>" (kept
//     verbatim; the card shows it inside the turn before it);
//   - content is a string, or a list of parts of which only {type: "text", text} are accepted (joined
//     by a blank line).
// A response given as a list is its last message, which must be the assistant's; the messages before
// it are the dialogue it answers (TRL's implicit prompt).
import { InputError, type RecordContext } from './errors';

export interface Message {
  role: string;
  content: string;
}

const ROLE_MARK: Readonly<Record<string, string>> = { user: 'Human', human: 'Human', assistant: 'Assistant' };
const CONTEXT_ROLES = new Set(['system', 'developer']);

/**
 * A text a pair or label keeps, unchanged; U+0000 is refused with the field named. PostgreSQL's text
 * type cannot hold it, and SQLite's driver (libsql) reads a text back only up to it: kept, it would be
 * cut silently on one database and refused mid-import on the other.
 */
export function storableText(
  ctx: Pick<RecordContext, 'file' | 'line'>,
  field: string,
  text: string,
  where?: string,
): string {
  const at = text.indexOf('\u0000');
  if (at !== -1)
    throw new InputError(
      ctx.file,
      ctx.line,
      field,
      `${where ? `${where} ` : ''}contains a NUL character (U+0000) at character ${at + 1}, which no database here can keep in a text; remove it from the file`,
    );
  return text;
}

/** Whether a field's value is a message list (an array; the messages themselves are checked by `toMessages`). */
export const isMessageList = (v: unknown): v is unknown[] => Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  // how the Parquet importer keeps a binary value (a column not annotated as text)
  if (typeof v === 'object' && Object.keys(v).length === 1 && 'base64' in v) return 'binary data';
  return typeof v;
}

/** The messages of a field's list, each checked: an object with a string role and text content. */
export function toMessages(ctx: RecordContext, field: string, list: unknown[]): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < list.length; i++) {
    const m = list[i];
    const where = `message ${i + 1} of ${list.length}`;
    if (m === null || typeof m !== 'object' || Array.isArray(m))
      throw new InputError(ctx.file, ctx.line, field, `${where} must be an object {role, content}, not ${describe(m)}`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || role === '')
      throw new InputError(ctx.file, ctx.line, field, `${where} has no role (a string such as "user" or "assistant")`);
    out.push({ role, content: messageText(ctx, field, where, content) });
  }
  return out;
}

function messageText(ctx: RecordContext, field: string, where: string, content: unknown): string {
  if (typeof content === 'string') return storableText(ctx, field, content, where);
  if (Array.isArray(content)) {
    const texts: string[] = [];
    for (const part of content) {
      const p = part as Record<string, unknown> | null;
      if (p === null || typeof p !== 'object' || p.type !== 'text' || typeof p.text !== 'string')
        throw new InputError(
          ctx.file,
          ctx.line,
          field,
          `${where} has a content part that is not text ({"type": "text", "text": ...}); a pair holds text only`,
        );
      texts.push(storableText(ctx, field, p.text, where));
    }
    return texts.join('\n\n');
  }
  throw new InputError(
    ctx.file,
    ctx.line,
    field,
    `${where} has no text content (content must be a string, not ${describe(content)})`,
  );
}

/** The dialogue as a pair's prompt: HH-RLHF turns, ending with the "\n\nAssistant:" the response follows. */
export function renderPrompt(messages: readonly Message[]): string {
  let head = '';
  let body = '';
  for (const m of messages) {
    const role = m.role.toLowerCase();
    const mark = ROLE_MARK[role];
    if (mark === undefined && CONTEXT_ROLES.has(role) && body === '') {
      head += head === '' ? m.content : `\n\n${m.content}`;
      continue;
    }
    const label = mark ?? m.role.charAt(0).toUpperCase() + m.role.slice(1);
    body += `\n\n${label}: ${m.content}`;
  }
  return `${head}${body}\n\nAssistant:`;
}

/** A turn's mark in a stored prompt, as splitTurns reads it (hhrlhf.ts); "User:" only ever comes from other datasets. */
const TURN_MARK = /(?:^|\n\n)(Human|Assistant|User):/g;

/**
 * The inverse of `renderPrompt`: a pair's stored prompt as a message list, for a model's chat template.
 *   - "Human:"/"User:" turns -> user messages, "Assistant:" turns -> assistant messages; the one space after
 *     the colon is the separator renderPrompt writes, the rest of the content is kept verbatim;
 *   - text before the first turn -> one system message (renderPrompt's context; several system messages
 *     were joined by a blank line and stay one);
 *   - the empty "\n\nAssistant:" at the end is the boundary the response follows: no message;
 *   - a prompt with no turn marks at all (a plain question, as generic datasets store it) -> one user message;
 *   - any other "\n\n<Role>:" line (renderPrompt's other roles) stays inside the turn before it, as the card
 *     shows it: the roles a chat template is given are user, assistant and system only.
 * So renderPrompt(promptMessages(p)) === p for every prompt renderPrompt writes and for HH-RLHF's own text.
 */
export function promptMessages(prompt: string): Message[] {
  const marks: { role: 'user' | 'assistant'; start: number; end: number }[] = [];
  for (const m of prompt.matchAll(TURN_MARK)) {
    const end = m.index + m[0].length;
    marks.push({
      role: m[1] === 'Assistant' ? 'assistant' : 'user',
      start: m.index,
      end: prompt.charAt(end) === ' ' ? end + 1 : end,
    });
  }
  if (marks.length === 0) return prompt === '' ? [] : [{ role: 'user', content: prompt }];
  const out: Message[] = [];
  const head = prompt.slice(0, marks[0].start);
  if (head.trim() !== '') out.push({ role: 'system', content: head });
  marks.forEach((m, i) =>
    out.push({ role: m.role, content: prompt.slice(m.end, i + 1 < marks.length ? marks[i + 1].start : undefined) }),
  );
  const last = out[out.length - 1];
  if (last.role === 'assistant' && last.content === '') out.pop();
  return out;
}

/** The whole conversation a reward model scores: the prompt's messages, then the response as the assistant's. */
export function responseConversation(prompt: string, response: string): Message[] {
  return [...promptMessages(prompt), { role: 'assistant', content: response }];
}

/** A response field's value: a string, or a message list whose last message is the assistant's answer. */
export interface ResponseValue {
  text: string;
  /** The messages before the answer (empty for a string). */
  before: Message[];
}

export function responseValue(ctx: RecordContext, field: string, v: unknown): ResponseValue {
  if (typeof v === 'string') return { text: storableText(ctx, field, v), before: [] };
  if (v === undefined || v === null) throw new InputError(ctx.file, ctx.line, field, 'missing');
  if (!isMessageList(v))
    throw new InputError(ctx.file, ctx.line, field, `must be a string or a message list, not ${describe(v)}`);
  if (v.length === 0) throw new InputError(ctx.file, ctx.line, field, 'the message list is empty');
  const messages = toMessages(ctx, field, v);
  const last = messages[messages.length - 1];
  if (last.role.toLowerCase() !== 'assistant')
    throw new InputError(
      ctx.file,
      ctx.line,
      field,
      `the last message is the ${JSON.stringify(last.role).slice(0, 40)}'s, not the assistant's response`,
    );
  return { text: last.content, before: messages.slice(0, -1) };
}

const sameMessages = (a: readonly Message[], b: readonly Message[]) =>
  a.length === b.length && a.every((m, i) => m.role === b[i].role && m.content === b[i].content);

/**
 * The prompt of a pair from its prompt field's value (a string, a message list, or absent) and the
 * messages before each response. The two responses must answer the same dialogue. A string prompt is
 * kept as it is when the responses bring no earlier turns; otherwise it counts as one user message.
 * When the responses' earlier turns begin with the prompt's messages (a dataset that repeats the
 * prompt inside chosen and rejected), they are the dialogue; else the prompt's messages come first.
 */
export function conversationPrompt(
  ctx: RecordContext,
  fields: { prompt?: string; response0: string; response1: string },
  prompt: unknown,
  r0: ResponseValue,
  r1: ResponseValue,
): string {
  if (!sameMessages(r0.before, r1.before)) {
    let k = 0;
    while (k < r0.before.length && k < r1.before.length && sameMessages([r0.before[k]], [r1.before[k]])) k++;
    throw new InputError(
      ctx.file,
      ctx.line,
      fields.response1,
      `the messages before the response differ from those of "${fields.response0}" (from message ${k + 1} on): the two responses must answer the same dialogue`,
    );
  }
  const before = r0.before;
  if (fields.prompt === undefined) {
    if (before.length === 0)
      throw new InputError(
        ctx.file,
        ctx.line,
        fields.response1,
        'no prompt: no prompt field is mapped and the responses are not message lists with the dialogue before them',
        'fieldMapping',
      );
    return renderPrompt(before);
  }
  if (prompt === undefined || prompt === null) throw new InputError(ctx.file, ctx.line, fields.prompt, 'missing');
  if (typeof prompt === 'string') {
    storableText(ctx, fields.prompt, prompt);
    if (before.length === 0) return prompt;
    const asMessage = [{ role: 'user', content: prompt }];
    return renderPrompt(startsWith(before, asMessage) ? before : [...asMessage, ...before]);
  }
  if (!isMessageList(prompt))
    throw new InputError(
      ctx.file,
      ctx.line,
      fields.prompt,
      `must be a string or a message list, not ${describe(prompt)}`,
    );
  const messages = toMessages(ctx, fields.prompt, prompt);
  if (messages.length === 0 && before.length === 0)
    throw new InputError(ctx.file, ctx.line, fields.prompt, 'the message list is empty');
  return renderPrompt(startsWith(before, messages) ? before : [...messages, ...before]);
}

function startsWith(list: readonly Message[], prefix: readonly Message[]): boolean {
  return prefix.length <= list.length && sameMessages(list.slice(0, prefix.length), prefix);
}
