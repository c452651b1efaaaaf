// Principle lists from text handed in: one sentence per line (.txt, with an optional second text of
// short labels), or YAML/JSON `[{id, short, text}]` (also `{name, principles: [...]}`).
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import { InputError } from './errors';
import type { Principle } from './types';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const MAX_SHORT_LABEL = 60;

/** Short label for a sentence when none is given: its first words, cut at a word boundary. */
export function defaultShortLabel(text: string): string {
  const words = text.replace(/^The AI (should|shouldn['’]t|should not)\s+/i, '').split(/\s+/);
  let label = '';
  for (const w of words) {
    if ((label + ' ' + w).trim().length > 32) break;
    label = (label + ' ' + w).trim();
  }
  return label || text.slice(0, 32);
}

function textLines(text: string): { line: number; value: string }[] {
  const out: { line: number; value: string }[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const value = raw.trim();
      if (value !== '') out.push({ line: i + 1, value });
    });
  return out;
}

/** One principle per non-empty line; ids are `p0`, `p1`, ... in order. Trailing spaces are trimmed. */
export function parsePrincipleText(file: string, text: string, shortFile?: string, shortText?: string): Principle[] {
  const sentences = textLines(text);
  if (sentences.length === 0) throw new InputError(file, null, null, 'the file holds no principles (it is empty)');
  let shorts: string[] | undefined;
  if (shortText !== undefined) {
    const s = textLines(shortText);
    if (s.length !== sentences.length) {
      throw new InputError(
        shortFile ?? 'short labels',
        null,
        null,
        `has ${s.length} short labels for ${sentences.length} principles in ${file}`,
      );
    }
    for (const { line, value } of s) {
      if (value.length > MAX_SHORT_LABEL)
        throw new InputError(
          shortFile ?? 'short labels',
          line,
          null,
          `short label is longer than ${MAX_SHORT_LABEL} characters`,
        );
    }
    shorts = s.map((x) => x.value);
  }
  return sentences.map(({ value }, i) => ({
    id: `p${i}`,
    short: shorts ? shorts[i] : defaultShortLabel(value),
    text: value,
  }));
}

/** YAML or JSON: a list of {id, short, text} or {principles: [...]}. Errors carry the item's line. */
export function parsePrincipleDocument(file: string, text: string): Principle[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new InputError(
      file,
      lineCounter.linePos(err.pos[0]).line,
      null,
      `not valid YAML/JSON: ${err.message.split('\n')[0]}`,
    );
  }
  const lineOf = (node: Node | null | undefined): number | null =>
    node?.range ? lineCounter.linePos(node.range[0]).line : null;
  let seq: Node | null = doc.contents as Node | null;
  if (isMap(seq)) {
    const inner = seq.get('principles', true) as Node | undefined;
    if (!inner) throw new InputError(file, lineOf(seq), 'principles', 'missing: expected a list of {id, short, text}');
    seq = inner;
  }
  if (!isSeq(seq)) throw new InputError(file, lineOf(seq), null, 'expected a list of {id, short, text}');
  if (seq.items.length === 0) throw new InputError(file, lineOf(seq), null, 'the list holds no principles');
  const seen = new Map<string, number | null>();
  return seq.items.map((item, i) => {
    const node = item as Node;
    const line = lineOf(node);
    if (!isMap(node)) throw new InputError(file, line, null, `item ${i} is not an object with id, short and text`);
    const field = (name: string, required: boolean): string | undefined => {
      const v = node.get(name, true) as Node | undefined;
      if (v === undefined || v === null) {
        if (required) throw new InputError(file, line, name, 'missing');
        return undefined;
      }
      const value = (v as { value?: unknown }).value;
      if (typeof value !== 'string') throw new InputError(file, lineOf(v) ?? line, name, 'must be a string');
      if (value.trim() === '') throw new InputError(file, lineOf(v) ?? line, name, 'must not be empty');
      return value.trim();
    };
    const id = field('id', true)!;
    if (!ID_PATTERN.test(id))
      throw new InputError(file, line, 'id', `"${id}" is not a valid id (letters, digits, ".", "_", "-"; at most 64)`);
    if (seen.has(id)) throw new InputError(file, line, 'id', `duplicate id "${id}" (first on line ${seen.get(id)})`);
    seen.set(id, line);
    const textValue = field('text', true)!;
    const short = field('short', false) ?? defaultShortLabel(textValue);
    if (short.length > MAX_SHORT_LABEL)
      throw new InputError(file, line, 'short', `longer than ${MAX_SHORT_LABEL} characters`);
    return { id, short, text: textValue };
  });
}

/** Picks the parser by file name: `.txt` -> one per line; `.yaml`, `.yml`, `.json` -> structured. */
export function parsePrincipleFile(file: string, text: string, shortFile?: string, shortText?: string): Principle[] {
  if (/\.(ya?ml|json)$/i.test(file)) {
    if (shortText !== undefined)
      throw new InputError(
        shortFile ?? file,
        null,
        null,
        'short labels come from the YAML/JSON file itself; --short applies to .txt lists',
      );
    return parsePrincipleDocument(file, text);
  }
  return parsePrincipleText(file, text, shortFile, shortText);
}

/** Canonical text of a list, hashed by the store to version lists by content. */
export function canonicalPrincipleListText(principles: Principle[]): string {
  return JSON.stringify(principles.map((p) => [p.id, p.short, p.text]));
}
