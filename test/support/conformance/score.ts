// The conformance servers' reward model: a deterministic score of the text (or token ids) a server would feed its
// model, so tests know every expected reward in advance. FNV-1a (32-bit) over the UTF-16 code units or the token
// ids, mapped to [-10, 10] in steps of 0.01: score = (h mod 2001 - 1000) / 100. Published FNV-1a test vector:
// "a" hashes to 0xe40c292c = 3826002220 (http://www.isthe.com/chongo/tech/comp/fnv/), 3826002220 mod 2001 = 175,
// so rawScore("a") = (175 - 1000) / 100 = -8.25 (pinned in test/judges/engines.test.ts).
import type { Message } from '../../../src/core/conversation';

export function fnv1a(units: ArrayLike<number>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < units.length; i++) {
    h ^= units[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function rawScore(input: string | ArrayLike<number>): number {
  const units = typeof input === 'string' ? Array.from({ length: input.length }, (_, i) => input.charCodeAt(i)) : input;
  return ((fnv1a(units) % 2001) - 1000) / 100;
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** The BOS of the conformance model's tokenizer, as text and as a token id; PAD is id 0. */
export const BOS = '<s>';
export const BOS_ID = 1;
export const PAD_ID = 0;

/** The conformance model's chat template: BOS, then each message as "<|role|>\ncontent\n". */
export function renderChat(messages: readonly Message[]): string {
  return BOS + messages.map((m) => `<|${m.role}|>\n${m.content}\n`).join('');
}

/** Its tokenizer: BOS, then one id per UTF-16 code unit (code + 3, clear of PAD 0 and BOS 1). */
export function tokenize(textAfterBos: string): number[] {
  const ids = [BOS_ID];
  for (let i = 0; i < textAfterBos.length; i++) ids.push(textAfterBos.charCodeAt(i) + 3);
  return ids;
}
