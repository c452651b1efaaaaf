// A reward model's input as its own chat template renders it (issue 19). Skeleton: the interface the
// engine clients (SGLang renders here, Triton tokenizes here) and the in-process ONNX path share;
// the implementation follows.
import type { Message } from '../core/conversation';

/** One model's way from a conversation to its input: the template's text, and its token ids. */
export interface ConversationEncoder {
  /** The chat template applied to the messages, as text (BOS once, as the template writes it). */
  render(messages: readonly Message[]): string;
  /** Token ids of `render`'s text, with no special token added beyond the template's own, cut to the model's length. */
  encode(messages: readonly Message[]): { ids: number[]; truncated: boolean };
  /** The id that pads a batch to equal lengths. */
  readonly padId: number;
}

/** The encoder of a model folder (tokenizer.json + tokenizer_config.json with `chat_template`); undefined without a template. */
export function loadConversationEncoder(modelDir: string): ConversationEncoder | undefined {
  void modelDir;
  throw new Error('not implemented yet');
}
