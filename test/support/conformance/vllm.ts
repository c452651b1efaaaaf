// A vLLM pooling server (`vllm serve MODEL --runner pooling`), written from
// https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html#pooling-api and
// https://docs.vllm.ai/en/v0.11.1/api/vllm/pooling_params/:
// - GET /v1/models: {"object": "list", "data": [{"id": MODEL, ...}]}.
// - POST /pooling {"model", "messages", "use_activation"}: the server applies the model's chat template (score.ts
//   renderChat; BOS once, add_special_tokens false for messages) and answers {"data": [{"index": 0, "object":
//   "pooling", "data": [score]}]}. A single-label classifier answers its sigmoid unless use_activation is false
//   (vLLM PR #18313); `legacySoftmax` plays a vLLM before it: a softmax over one label, 1.0 whatever the input.
// - POST /score exists (a text pair, no chat template): counted, so a test can check it is never used.
// - An unknown model: 404 {"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError"}.
import type { Message } from '../../../src/core/conversation';
import { ConformanceServer, type Handled, start } from './base';
import { rawScore, renderChat, sigmoid } from './score';

export interface VllmOptions {
  model?: string;
  legacySoftmax?: boolean;
}

export function vllmServer(o: VllmOptions = {}): Promise<ConformanceServer> {
  const model = o.model ?? 'rm';
  return start(
    new ConformanceServer((req): Handled => {
      if (req.method === 'GET' && req.path === '/v1/models')
        return {
          reply: { status: 200, body: { object: 'list', data: [{ id: model, object: 'model', owned_by: 'vllm' }] } },
        };
      if (req.method === 'POST' && req.path === '/score')
        return { reply: { status: 200, body: { object: 'list', data: [{ index: 0, object: 'score', score: 0.5 }] } } };
      if (req.method !== 'POST' || req.path !== '/pooling')
        return { reply: { status: 404, body: { detail: 'Not Found' } } };
      const body = req.json<{ model?: string; messages?: Message[]; use_activation?: boolean }>();
      if (body.model !== model)
        return {
          reply: {
            status: 404,
            body: {
              object: 'error',
              message: `The model \`${body.model}\` does not exist.`,
              type: 'NotFoundError',
              code: 404,
            },
          },
        };
      if (!Array.isArray(body.messages))
        return { reply: { status: 400, body: { object: 'error', message: 'messages: field required', code: 400 } } };
      const text = renderChat(body.messages);
      const raw = rawScore(text);
      const value = o.legacySoftmax ? 1 : body.use_activation === false ? raw : sigmoid(raw);
      const ok = (data: unknown) => ({
        status: 200,
        body: {
          id: 'pool-1',
          object: 'list',
          created: 0,
          model,
          data: [{ index: 0, object: 'pooling', data }],
          usage: { prompt_tokens: text.length, total_tokens: text.length },
        },
      });
      return { inputs: [text], reply: ok([value]), wrongShape: () => ok({ score: value }) };
    }),
  );
}
