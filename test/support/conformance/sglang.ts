// An SGLang server started with --is-embedding, written from https://docs.sglang.io/basic_usage/native_api.html
// (/classify, /get_model_info) and https://docs.sglang.io/supported_models/classify_models.html (/v1/classify):
// - GET /get_model_info: {"model_path", "is_generation": false}.
// - POST /classify {"model", "text": [text, ...]}: SGLang tokenizes each text, adding the tokenizer's BOS; a text
//   that already starts with BOS would be scored with BOS twice, so this server refuses it (400), where the real one
//   scores it quietly (about 1 % RewardBench drift: huggingface/trl#3853). The answer is a list in order of
//   {"embedding": [score], "meta_info": {...}}, the score of BOS + text (score.ts).
// - POST /v1/classify {"model", "input"}: softmax probabilities; over one label that is [1.0] for every input.
import { ConformanceServer, type Handled, start } from './base';
import { BOS, rawScore } from './score';

export function sglangServer(o: { generation?: boolean } = {}): Promise<ConformanceServer> {
  return start(
    new ConformanceServer((req): Handled => {
      if (req.method === 'GET' && req.path === '/get_model_info')
        return {
          reply: { status: 200, body: { model_path: 'rm', tokenizer_path: 'rm', is_generation: !!o.generation } },
        };
      if (req.method === 'POST' && req.path === '/v1/classify')
        return {
          reply: {
            status: 200,
            body: { object: 'list', data: [{ index: 0, label: 'Default', probs: [1.0], num_classes: 1 }] },
          },
        };
      if (req.method !== 'POST' || req.path !== '/classify')
        return { reply: { status: 404, body: { detail: 'Not Found' } } };
      const body = req.json<{ text?: string | string[] }>();
      const texts = typeof body.text === 'string' ? [body.text] : body.text;
      if (!Array.isArray(texts)) return { reply: { status: 400, body: { error: { message: 'text is required' } } } };
      const doubled = texts.findIndex((t) => t.startsWith(BOS));
      if (doubled >= 0)
        return {
          reply: {
            status: 400,
            body: {
              error: {
                message: `conformance: text ${doubled} starts with ${BOS}, which the tokenizer adds again (BOS doubled)`,
              },
            },
          },
        };
      const full = texts.map((t) => BOS + t);
      return {
        inputs: full,
        reply: {
          status: 200,
          body: full.map((t, i) => ({ embedding: [rawScore(t)], meta_info: { id: `r${i}`, prompt_tokens: t.length } })),
        },
        wrongShape: () => ({ status: 200, body: full.map(() => ({ embedding: 'oops' })) }),
      };
    }),
  );
}
