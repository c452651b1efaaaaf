// Chat templates done right (issue 19): a model folder's template rendered with @huggingface/jinja and
// tokenized by its own tokenizer with no special token added again, so BOS comes once (huggingface/trl#3853,
// RLHFlow/RLHF-Reward-Modeling#16), cut to the model's length on its side. The folder is Llama-3-shaped
// (templateModel.ts): Meta-Llama-3-8B-Instruct's template and tokenizer layout over a tiny vocabulary.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { responseConversation } from '../../src/core/conversation';
import { InputError } from '../../src/core/errors';
import { loadConversationEncoder } from '../../src/judges/chatTemplate';
import { textForServer } from '../../src/judges/engines/shared';
import {
  BOS,
  END_HEADER,
  EOT,
  LLAMA3_TEMPLATE,
  START_HEADER,
  VOCAB,
  llama3TokenizerJson,
  writeTemplateModel,
} from './templateModel';

// The pair: an HH-RLHF prompt with a context line and two turns, and the response scored.
const PROMPT = 'Be kind.\n\nHuman: Hi there\n\nAssistant: Hello\n\nHuman: Help me\n\nAssistant:';
const RESPONSE = 'Sure';
const CONVERSATION = responseConversation(PROMPT, RESPONSE);

// Rendered by the Llama-3 template (bos_token once, before the first message; each content `| trim`med):
const RENDERED =
  '<|begin_of_text|>' +
  '<|start_header_id|>system<|end_header_id|>\n\nBe kind.<|eot_id|>' +
  '<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>' +
  '<|start_header_id|>user<|end_header_id|>\n\nHelp me<|eot_id|>' +
  '<|start_header_id|>assistant<|end_header_id|>\n\nSure<|eot_id|>';

// By hand: the added tokens split the text first (100 BOS, 102 start header, 103 end header, 104 eot); each
// piece between them goes through Llama-3's pre-tokenizer regex, then byte-level (" " -> "Ġ", "\n" -> "Ċ"):
// "\n\nBe kind." -> "\n\n" (\s*[\r\n]+), "Be", " kind", "." -> ĊĊ 3, Be 4, Ġkind 5, . 6;
// "\n\nHi there" -> ĊĊ 3, Hi 7, Ġthere 8; "\n\nHello" -> ĊĊ 3, Hello 9; "\n\nHelp me" -> ĊĊ 3, Help 10,
// Ġme 11; "\n\nSure" -> ĊĊ 3, Sure 12; role names system 0, user 1, assistant 2 (VOCAB in templateModel.ts).
const S = START_HEADER,
  E = END_HEADER;
const IDS = [
  BOS,
  ...[S, 0, E, 3, 4, 5, 6, EOT],
  ...[S, 1, E, 3, 7, 8, EOT],
  ...[S, 2, E, 3, 9, EOT],
  ...[S, 1, E, 3, 10, 11, EOT],
  ...[S, 2, E, 3, 12, EOT],
];

function errorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('loadConversationEncoder (Llama-3-shaped model folder)', () => {
  it('renders the conversation as the template writes it and gives the hand-worked ids, BOS exactly once', () => {
    expect(IDS).toHaveLength(35);
    expect(VOCAB['Ġkind']).toBe(5); // the comment's vocabulary is the folder's
    const enc = loadConversationEncoder(writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE }))!;
    expect(enc).toBeDefined();
    expect(enc.render(CONVERSATION)).toBe(RENDERED);
    const { ids, truncated } = enc.encode(CONVERSATION);
    expect(ids).toEqual(IDS);
    expect(truncated).toBe(false);
    expect(ids.filter((id) => id === BOS)).toHaveLength(1);
    // The pad id is tokenizer_config.json's pad_token, <|end_of_text|>.
    expect(enc.padId).toBe(101);
  });

  it("would double BOS if the text were re-tokenized with the post-processor's special tokens (what it avoids)", () => {
    // The tokenizer's own default: its TemplateProcessing puts <|begin_of_text|> before the text, which
    // already starts with the template's. This is the drift of trl#3853; the encoder must not do it.
    const tok = new Tokenizer(llama3TokenizerJson(), { bos_token: '<|begin_of_text|>' });
    expect(tok.encode(RENDERED).ids).toEqual([BOS, ...IDS]);
  });

  it("names the BOS the post-processor adds, and a text-taking server (SGLang, TEI) is sent the rendering without the template's", () => {
    const enc = loadConversationEncoder(writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE }))!;
    // The folder's TemplateProcessing puts <|begin_of_text|> (id 100) before a single text (templateModel.ts).
    expect(enc.bosToken).toBe('<|begin_of_text|>');
    expect(RENDERED.startsWith('<|begin_of_text|>')).toBe(true);
    const sent = textForServer(enc, CONVERSATION);
    expect(sent).toBe(RENDERED.slice('<|begin_of_text|>'.length));
    // What the server then tokenizes with its special tokens: BOS once, the ids the encoder itself gives.
    const tok = new Tokenizer(llama3TokenizerJson(), { bos_token: '<|begin_of_text|>' });
    expect(tok.encode(sent).ids).toEqual(IDS);
  });

  it('a template that writes no BOS gets none, even though the post-processor would add one (as apply_chat_template)', () => {
    const noBos =
      "{% for m in messages %}{{ '<|start_header_id|>' + m.role + '<|end_header_id|>' + m.content }}{% endfor %}";
    const enc = loadConversationEncoder(writeTemplateModel({ chatTemplate: noBos }))!;
    // "<|start_header_id|>user<|end_header_id|>Hi" then "...assistant<|end_header_id|>Sure": 102 1 103 7, 102 2 103 12
    expect(enc.encode(responseConversation('\n\nHuman: Hi\n\nAssistant:', 'Sure')).ids).toEqual([
      S,
      1,
      E,
      7,
      S,
      2,
      E,
      12,
    ]);
  });

  it("truncates to model_max_length on the tokenizer's truncation side", () => {
    const left = loadConversationEncoder(
      writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE, maxLength: 8, truncationSide: 'left' }),
    )!;
    const right = loadConversationEncoder(
      writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE, maxLength: 8, truncationSide: 'right' }),
    )!;
    // Left keeps the last 8 ids (the end of "Help me" and the whole response turn), right the first 8.
    expect(left.encode(CONVERSATION)).toEqual({ ids: [11, EOT, S, 2, E, 3, 12, EOT], truncated: true });
    expect(right.encode(CONVERSATION)).toEqual({ ids: [BOS, S, 0, E, 3, 4, 5, 6], truncated: true });
  });

  it('takes the template named "default" from the list form, and bos_token as an AddedToken object', () => {
    const enc = loadConversationEncoder(
      writeTemplateModel({
        chatTemplate: [
          { name: 'tool_use', template: '{{ raise_exception("not this one") }}' },
          { name: 'default', template: LLAMA3_TEMPLATE },
        ],
        bosToken: { __type: 'AddedToken', content: '<|begin_of_text|>', lstrip: false, normalized: false },
      }),
    )!;
    expect(enc.encode(CONVERSATION).ids).toEqual(IDS);
  });

  it('chat_template.jinja in the folder is the template (transformers prefers it to the config field)', () => {
    const dir = writeTemplateModel({ chatTemplate: '{{ raise_exception("the config field is not used") }}' });
    writeFileSync(join(dir, 'chat_template.jinja'), LLAMA3_TEMPLATE);
    expect(loadConversationEncoder(dir)!.encode(CONVERSATION).ids).toEqual(IDS);
  });

  it('sees what transformers passes (tools none, range, the special tokens) but no clock: strftime_now is not defined', () => {
    // Llama 3.1's template emits "Environment: ipython" when `tools is not none`: transformers passes tools=None.
    // Llama 3.2's takes today's date when `strftime_now is defined`, else its own fixed date: a score must not
    // depend on the day it was computed, so the encoder leaves it out (chatTemplate.ts).
    const template =
      '{% if tools is not none or documents is not none %}Nope{% endif %}' +
      '{% if strftime_now is defined %}Nope{% endif %}' +
      '{% for i in range(3, 0, -1) %}{{ eos_token }}{% endfor %}{{ pad_token }}' +
      '{% if add_generation_prompt %}Nope{% endif %}Sure';
    const enc = loadConversationEncoder(writeTemplateModel({ chatTemplate: template }))!;
    expect(enc.render(CONVERSATION)).toBe('<|eot_id|><|eot_id|><|eot_id|><|end_of_text|>Sure');
    expect(enc.encode(CONVERSATION).ids).toEqual([EOT, EOT, EOT, 101, 12]);
  });

  it('a folder without a chat template has no encoder (the text-pair encoding applies)', () => {
    expect(loadConversationEncoder(writeTemplateModel())).toBeUndefined();
  });

  it('each bad folder or template is one InputError naming the file and the field', () => {
    const cfg = (dir: string) => join(dir, 'tokenizer_config.json');
    let dir = writeTemplateModel({ chatTemplate: '{% for m in messages %}{{ m.content }}' });
    expect(errorOf(() => loadConversationEncoder(dir)).message).toMatch(
      new RegExp(`^${esc(cfg(dir))}: field "chat_template": not a chat template the Jinja engine can parse: .+`),
    );
    dir = writeTemplateModel({ chatTemplate: 42 });
    expect(errorOf(() => loadConversationEncoder(dir)).message).toBe(
      `${cfg(dir)}: field "chat_template": must be a string or a list of {name, template}, not number`,
    );
    dir = writeTemplateModel({ chatTemplate: [{ name: 'tool_use', template: 'x' }] });
    expect(errorOf(() => loadConversationEncoder(dir)).message).toBe(
      `${cfg(dir)}: field "chat_template": has no template named "default" (the chat template) among its 1: "tool_use"`,
    );
    dir = writeTemplateModel({ chatTemplate: [{ name: 'default' }] });
    expect(errorOf(() => loadConversationEncoder(dir)).message).toBe(
      `${cfg(dir)}: field "chat_template[0]": must be an object {name, template} with string values`,
    );
    dir = writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE, bosToken: 7 });
    expect(errorOf(() => loadConversationEncoder(dir)).message).toBe(
      `${cfg(dir)}: field "bos_token": must be a string or an object {content}, not number`,
    );
    dir = writeTemplateModel({ chatTemplate: LLAMA3_TEMPLATE });
    rmSync(join(dir, 'tokenizer.json'));
    expect(errorOf(() => loadConversationEncoder(dir)).message).toMatch(
      new RegExp(`^${esc(join(dir, 'tokenizer.json'))}: missing: the chat template's text becomes token ids`),
    );
    // A template's raise_exception (Mistral's and Gemma's refuse some role orders) is its own message, at encode.
    dir = writeTemplateModel({
      chatTemplate:
        "{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
        "{% for m in messages %}{{ '<|eot_id|>' + m.content }}{% endfor %}",
    });
    const refusing = loadConversationEncoder(dir)!;
    expect(errorOf(() => refusing.encode(CONVERSATION)).message).toBe(
      `${cfg(dir)}: field "chat_template": the chat template refused this conversation: System role not supported`,
    );
    // "<|eot_id|>Hi<|eot_id|>Sure": the same template takes a conversation without a system message.
    const noSystem = responseConversation('\n\nHuman: Hi\n\nAssistant:', 'Sure');
    expect(refusing.encode(noSystem).ids).toEqual([EOT, 7, EOT, 12]);
    // A rendering with no tokens (the words are not in the vocabulary, which has no unk token) is no input.
    dir = writeTemplateModel({ chatTemplate: '{{ "unknown words" }}' });
    const empty = loadConversationEncoder(dir)!;
    expect(errorOf(() => empty.encode(noSystem)).message).toBe(
      `${cfg(dir)}: field "chat_template": the chat template's rendering of this conversation has no tokens`,
    );
    // A runtime failure of the template (calling what is not a function) is reported the same way.
    dir = writeTemplateModel({ chatTemplate: '{{ no_such_function() }}' });
    const failing = loadConversationEncoder(dir)!;
    expect(errorOf(() => failing.encode(noSystem)).message).toMatch(
      /field "chat_template": the chat template failed on this conversation: .+/,
    );
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
