// Messages between the runner (parent) and the scoring worker process.
import type { Provider, ProviderChoice } from './modelFolder';
import { InputError, type RequestOption } from '../core/errors';

export interface InitMessage {
  type: 'init';
  modelDir: string;
  provider: ProviderChoice;
  batchSize?: number;
  maxBatchTokens?: number;
  threads?: number;
}
export interface ScoreMessage {
  type: 'score';
  id: number;
  items: { prompt: string; response: string }[];
}
export type ToWorker = InitMessage | ScoreMessage | { type: 'exit' };

export interface ReadyMessage {
  type: 'ready';
  provider: Provider;
  attempts: { provider: Provider; error: string }[];
  maxLength: number;
  truncationSide: 'left' | 'right';
  batchSize: number;
  /** Where the model's chat template was read (its input is the template's rendering); null: text pairs. */
  chatTemplate: { file: string; field: string | null } | null;
}
export interface ScoresMessage {
  type: 'scores';
  id: number;
  scores: number[];
  truncated: boolean[];
  tokenizeMs: number;
  inferMs: number;
  batches: number;
}
/** kind: which error class to rebuild on the parent side (user-facing ones print as one line). */
export interface ErrorMessage {
  type: 'error';
  id?: number;
  kind: 'InputError' | 'UsageError' | 'Error';
  message: string;
  file?: string;
  line?: number | null;
  field?: string | null;
  problem?: string;
  option?: RequestOption;
  /** The index, in the score request, of the item the InputError is about (ScoreItemError). */
  item?: number;
}
export type FromWorker = ReadyMessage | ScoresMessage | ErrorMessage;

/**
 * An InputError about one item of a score request (a conversation the model's chat template refused):
 * `item` is its index in the request, so the runner can name the pair and the response.
 */
export class ScoreItemError extends InputError {
  constructor(
    readonly item: number,
    e: InputError,
  ) {
    super(e.file, e.line, e.field, e.problem, e.option, e.unit);
  }
}
