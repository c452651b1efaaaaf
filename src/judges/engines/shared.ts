// What the engine clients share: the conversation a response is scored in, the interface each engine implements,
// and the one-line errors for an answer of the wrong shape (they name the URL and the field; the run stops).
import { type Message, responseConversation } from '../../core/conversation';
import { UsageError } from '../../core/errors';
import type { ConversationEncoder } from '../chatTemplate';
import type { EngineHttp, HttpAnswer } from './http';
import { errorText, snippet } from './http';

export const ENGINE_NAMES = ['vllm', 'sglang', 'tei', 'kserve'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/** One response to score: its conversation, and the pair's prompt and the response as text (TEI's text pair). */
export interface ScoreItem {
  messages: Message[];
  prompt: string;
  response: string;
}

export interface Scored {
  score: number;
  /** Cut to the model's length by this client (only where the client tokenizes: KServe). */
  truncated?: boolean;
}

/** One engine's protocol, over one replica's base URL at a time (the pool chooses it). */
export interface EngineClient {
  readonly name: EngineName;
  /** The path scores are asked at, for the provenance and the messages. */
  readonly endpoint: string;
  /** Responses one request carries now (TEI lowers it when the server refuses a batch as too large). */
  batchLimit(): number;
  /** A replica's first look (the model served, its type or metadata), before its first request; cached per replica. */
  ready(base: string, signal: AbortSignal): Promise<void>;
  /** The raw score of each item, in order; throws a ReplicaFault to be re-sent, a UsageError to stop the run. */
  score(base: string, items: ScoreItem[], signal: AbortSignal): Promise<Scored[]>;
  /** What it means when every score is exactly 1 (an activation applied on the server), for the error line. */
  readonly activationHint: string;
}

export interface EngineContext {
  model: string;
  http: EngineHttp;
  /** Responses per request asked for (each engine caps it as its protocol allows). */
  batchSize?: number;
  encoder?: ConversationEncoder;
}

export function scoreItem(prompt: string, response: string): ScoreItem {
  return { messages: responseConversation(prompt, response), prompt, response };
}

/**
 * Engines that tokenize the text they are sent (SGLang, TEI) add the tokenizer's BOS themselves, so a template that
 * writes BOS would give it twice (a known source of about 1 % RewardBench drift: huggingface/trl#3853,
 * RLHFlow/RLHF-Reward-Modeling#16): the encoder's `bosToken` is cut from the front of the rendered text.
 */
export function textForServer(encoder: ConversationEncoder, messages: readonly Message[]): string {
  const text = encoder.render(messages);
  const bos = encoder.bosToken;
  return bos && text.startsWith(bos) ? text.slice(bos.length) : text;
}

/** The answer's JSON, or a one-line error naming the URL (not retried: a server that answers 200 with no JSON is the wrong server). */
export function answerJson(url: string, answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new UsageError(
      `${url}: the answer is not JSON${snippet(answer.body.toString('utf8').slice(0, 80))}; is this the right server?`,
    );
  }
}

/** An answer of the wrong shape: one line naming the URL and the field, and what was expected there. */
export function shapeError(url: string, field: string, expected: string, found: unknown, hint = ''): UsageError {
  return new UsageError(
    `${url}: the answer's ${field} should be ${expected}, not ${describe(found)}${hint ? `; ${hint}` : ''}`,
  );
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return typeof v;
}

/** A finite number, else a shape error for that field. */
export function finite(url: string, field: string, v: unknown, hint?: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw shapeError(url, field, 'a finite number', v, hint);
  return v;
}

/** A refused request (HTTP 4xx): one line with the status and the server's own words. */
export function refused(url: string, http: EngineHttp, answer: HttpAnswer, hint = ''): UsageError {
  return new UsageError(
    `${url}: HTTP ${answer.status}${snippet(http.clean(errorText(answer)))}${hint ? `; ${hint}` : ''}`,
  );
}

/** Joins a base URL and a path (a base given with a trailing slash or not). */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + path;
}
