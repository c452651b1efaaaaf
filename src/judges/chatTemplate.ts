// A reward model's input as its own chat template renders it (issue 19): the interface the engine clients
// (SGLang renders here, Triton tokenizes here) and the in-process ONNX path share.
//
// Where the template comes from, as transformers reads a model folder: `chat_template.jinja` when the folder
// has one (transformers >= 4.47 saves it there and prefers it), else tokenizer_config.json's `chat_template`,
// a string or a list of {name, template} of which the one named "default" is the chat template.
// It is rendered with @huggingface/jinja as transformers' apply_chat_template renders it: `messages`,
// `add_generation_prompt` false (the conversation is complete: it ends with the response scored), `tools`
// and `documents` none, and the special tokens of tokenizer_config.json (`bos_token`, `eos_token`, ...).
//
// BOS once, written by the template. The text is tokenized with no special token added: a template that
// writes `{{ bos_token }}` gets exactly one BOS, not the second one the post-processor of a Llama-style
// tokenizer would add to re-tokenized template text (huggingface/trl#3853, allenai/reward-bench#164);
// with and without that BOS, RewardBench accuracy moves by ~1% (RLHFlow/RLHF-Reward-Modeling#16). A template
// that writes no BOS gets none either, even where the tokenizer's post-processor would add one: this is what
// transformers' apply_chat_template(tokenize=True) gives (it tokenizes with add_special_tokens=False), decided
// once here so that every path (in-process, Triton, SGLang) feeds a model the same ids.
//
// Deterministic on purpose: `strftime_now` (today's date, which @huggingface/jinja and transformers supply)
// is not given, so templates that ask `strftime_now is defined` (Llama 3.2 and later) take their own fixed
// date. A model's score of a pair must not change with the day it was run, nor within a resumed run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import type { Tokenizer } from '@huggingface/tokenizers';
import type { Message } from '../core/conversation';
import { InputError } from '../core/errors';
import { CHAT_TEMPLATE_FILE } from './modelFolder';
import { type TokenizerSettings, loadTokenizer, readJson, truncate } from './tokenize';

/** One model's way from a conversation to its input: the template's text, and its token ids. */
export interface ConversationEncoder {
  /** The chat template applied to the messages, as text (BOS once, as the template writes it). */
  render(messages: readonly Message[]): string;
  /** Token ids of `render`'s text, with no special token added beyond the template's own, cut to the model's length. */
  encode(messages: readonly Message[]): { ids: number[]; truncated: boolean };
  /** The id that pads a batch to equal lengths. */
  readonly padId: number;
  /**
   * The BOS the tokenizer's post-processor puts in front of a text it encodes with special tokens, as text;
   * undefined when it adds none. A server that tokenizes what it is sent (SGLang, TEI) adds it, so a client
   * sending the rendered template cuts a BOS the template wrote (engines/shared.ts: textForServer).
   */
  readonly bosToken?: string;
}

/** A model folder's chat template: its text and where it was read (the file, and the field of a JSON file). */
export interface ChatTemplateSource {
  text: string;
  file: string;
  /** "chat_template" in tokenizer_config.json; null for chat_template.jinja (the whole file). */
  field: string | null;
}

/** The name transformers gives the chat template among a list of named templates. */
const DEFAULT_TEMPLATE_NAME = 'default';
/** Special tokens transformers passes to a template (its SPECIAL_TOKENS_ATTRIBUTES), each when the config sets it. */
const SPECIAL_TOKENS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/**
 * The chat template of a model folder, or undefined when it has none. `config` is tokenizer_config.json's
 * content when the caller has read it already.
 */
export function readChatTemplate(modelDir: string, config?: Record<string, unknown>): ChatTemplateSource | undefined {
  const sidecar = join(modelDir, CHAT_TEMPLATE_FILE);
  if (existsSync(sidecar)) {
    let text: string;
    try {
      text = readFileSync(sidecar, 'utf8');
    } catch (e) {
      throw new InputError(
        sidecar,
        null,
        null,
        `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    if (text.trim() === '') throw new InputError(sidecar, null, null, 'the chat template is empty');
    return { text, file: sidecar, field: null };
  }
  const cfgFile = join(modelDir, 'tokenizer_config.json');
  const v = (config ?? readJson(cfgFile)).chat_template;
  if (v === undefined || v === null) return undefined;
  const field = 'chat_template';
  if (typeof v === 'string') {
    if (v.trim() === '') throw new InputError(cfgFile, null, field, 'the chat template is empty');
    return { text: v, file: cfgFile, field };
  }
  if (!Array.isArray(v))
    throw new InputError(cfgFile, null, field, `must be a string or a list of {name, template}, not ${typeName(v)}`);
  const names: string[] = [];
  for (let i = 0; i < v.length; i++) {
    const t = v[i] as { name?: unknown; template?: unknown } | null;
    if (t === null || typeof t !== 'object' || typeof t.name !== 'string' || typeof t.template !== 'string')
      throw new InputError(cfgFile, null, `${field}[${i}]`, 'must be an object {name, template} with string values');
    if (t.name === DEFAULT_TEMPLATE_NAME) {
      if (t.template.trim() === '') throw new InputError(cfgFile, null, `${field}[${i}]`, 'the chat template is empty');
      return { text: t.template, file: cfgFile, field };
    }
    names.push(JSON.stringify(t.name).slice(0, 40));
  }
  throw new InputError(
    cfgFile,
    null,
    field,
    `has no template named "${DEFAULT_TEMPLATE_NAME}" (the chat template) among its ${v.length}: ${names.join(', ') || 'none'}`,
  );
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

/** A special token's text: a string, or transformers' AddedToken object {content, ...}; undefined when unset. */
function tokenText(v: unknown, field: string, cfgFile: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  throw new InputError(cfgFile, null, field, `must be a string or an object {content}, not ${typeName(v)}`);
}

/** The values a template sees besides `messages`, as transformers passes them. */
function templateContext(config: Record<string, unknown>, cfgFile: string): Record<string, unknown> {
  const context: Record<string, unknown> = { add_generation_prompt: false, tools: null, documents: null };
  for (const key of SPECIAL_TOKENS) {
    const t = tokenText(config[key], key, cfgFile);
    if (t !== undefined) context[key] = t;
  }
  const extra = config.additional_special_tokens;
  if (Array.isArray(extra))
    context.additional_special_tokens = extra.flatMap(
      (v, i) => tokenText(v, `additional_special_tokens[${i}]`, cfgFile) ?? [],
    );
  return context;
}

/** A template's own raise_exception('...'): the conversation is not one it accepts. */
class TemplateRefusal extends Error {}

/** range() as Python's (the one global templates use besides the constants); integers only. */
function range(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new Error('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

/**
 * The globals of @huggingface/jinja's Template.render less `strftime_now` (see the header), and a
 * raise_exception whose message is kept as the template's own.
 */
const GLOBALS: Record<string, unknown> = {
  false: false,
  true: true,
  none: null,
  False: false,
  True: true,
  None: null,
  range,
  raise_exception: (message: unknown) => {
    throw new TemplateRefusal(String(message));
  },
};

/** The encoder of a chat template over a loaded tokenizer. */
export class ChatTemplateEncoder implements ConversationEncoder {
  private readonly template: Template;
  private readonly context: Record<string, unknown>;
  readonly padId: number;
  readonly bosToken: string | undefined;

  constructor(
    readonly source: ChatTemplateSource,
    private readonly tokenizer: Tokenizer,
    private readonly settings: TokenizerSettings,
    config: Record<string, unknown>,
    cfgFile: string,
  ) {
    try {
      this.template = new Template(source.text);
    } catch (e) {
      throw new InputError(
        source.file,
        null,
        source.field,
        `not a chat template the Jinja engine can parse: ${firstLine(e)}`,
      );
    }
    this.context = templateContext(config, cfgFile);
    this.padId = settings.padId;
    // Found by asking the post-processor, not the config: Llama-3's tokenizer_config.json names a bos_token its
    // tokenizer.json adds, while many models name one they never add.
    const plain = tokenizer.encode('a', { add_special_tokens: false }).tokens;
    const special = tokenizer.encode('a', { add_special_tokens: true }).tokens;
    this.bosToken = special.length > plain.length && special[0] !== plain[0] ? special[0] : undefined;
  }

  render(messages: readonly Message[]): string {
    const env = new Environment();
    const values = {
      ...GLOBALS,
      ...this.context,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
    };
    for (const [k, v] of Object.entries(values)) env.set(k, v);
    try {
      return new Interpreter(env).run(this.template.parsed).value as string;
    } catch (e) {
      const what = e instanceof TemplateRefusal ? 'the chat template refused' : 'the chat template failed on';
      throw new InputError(this.source.file, null, this.source.field, `${what} this conversation: ${firstLine(e)}`);
    }
  }

  encode(messages: readonly Message[]): { ids: number[]; truncated: boolean } {
    // The template wrote the special tokens it wants; the tokenizer's post-processor adds none (see the header).
    const { ids } = this.tokenizer.encode(this.render(messages), { add_special_tokens: false });
    // No tokens would be a row of padding only, scored as if it were an input.
    if (ids.length === 0)
      throw new InputError(
        this.source.file,
        null,
        this.source.field,
        "the chat template's rendering of this conversation has no tokens",
      );
    const r = truncate(ids, new Array<number>(ids.length).fill(0), this.settings);
    return { ids: r.ids, truncated: r.truncated };
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
}

/** The encoder of a model folder (tokenizer.json + tokenizer_config.json with `chat_template`); undefined without a template. */
export function loadConversationEncoder(modelDir: string): ConversationEncoder | undefined {
  const cfgFile = join(modelDir, 'tokenizer_config.json');
  const config = readJson(cfgFile);
  const source = readChatTemplate(modelDir, config);
  if (source === undefined) return undefined;
  const tokFile = join(modelDir, 'tokenizer.json');
  if (!existsSync(tokFile))
    throw new InputError(
      tokFile,
      null,
      null,
      "missing: the chat template's text becomes token ids through the model's tokenizer (tokenizer.json, Hugging Face tokenizers format)",
    );
  const { tokenizer, settings } = loadTokenizer(modelDir);
  return new ChatTemplateEncoder(source, tokenizer, settings, config, cfgFile);
}
