// vLLM (0.10 or later, `vllm serve MODEL --runner pooling`): the Pooling API.
// https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html#pooling-api
// https://docs.vllm.ai/en/v0.10.1.1/models/pooling_models.html
// - POST /pooling {"model", "messages", "use_activation": false}: the server applies the model's own chat template to
//   the messages (add_special_tokens defaults to false for messages, so BOS comes once, from the template). One
//   conversation per request; vLLM batches concurrent requests itself.
// - use_activation false asks for the raw score (PoolingParams, https://docs.vllm.ai/en/v0.11.1/api/vllm/pooling_params/):
//   a single-label classifier otherwise answers its sigmoid (vLLM PR #18313; before it, a softmax that is 1.0 for
//   every input).
// - The score is data[0].data: a number, or [number] for a sequence classifier with one label.
// - Not /score: it scores a text pair, not a conversation, and applies no chat template.
// - GET /v1/models lists the names served (--served-model-name), checked against the model asked for.
import { UsageError } from '../../core/errors';
import type { HttpAnswer } from './http';
import {
  type EngineClient,
  type EngineContext,
  type ScoreItem,
  type Scored,
  answerJson,
  finite,
  joinUrl,
  refused,
  shapeError,
} from './shared';

export function vllmEngine(c: EngineContext): EngineClient {
  const checked = new Set<string>();
  const notPooling =
    'is this vLLM 0.10 or later serving a pooling model (vllm serve with the pooling runner), and is the URL its root (no /v1)?';
  return {
    name: 'vllm',
    endpoint: '/pooling',
    activationHint:
      'the server applies an activation to a single label (vLLM before 0.10 ignores use_activation and answers a softmax, 1.0 for every input): upgrade vLLM',
    batchLimit: () => 1,

    async ready(base, signal) {
      if (checked.has(base)) return;
      const url = joinUrl(base, '/v1/models');
      const answer = await c.http.request(url, { signal });
      if (answer.status !== 200) throw refused(url, c.http, answer, notPooling);
      const data = (answerJson(url, answer) as { data?: unknown }).data;
      if (!Array.isArray(data)) throw shapeError(url, 'data', 'a list of models', data, notPooling);
      const names = data.map((m) => (m as { id?: unknown })?.id).filter((id): id is string => typeof id === 'string');
      if (!names.includes(c.model))
        throw new UsageError(
          `${url}: the server does not serve the model "${c.model}" (it serves ${names.map((n) => `"${n}"`).join(', ') || 'none'})`,
          'model',
        );
      checked.add(base);
    },

    async score(base, items: ScoreItem[], signal): Promise<Scored[]> {
      await this.ready(base, signal);
      const url = joinUrl(base, '/pooling');
      const [item] = items;
      const answer: HttpAnswer = await c.http.request(url, {
        body: JSON.stringify({ model: c.model, messages: item.messages, use_activation: false }),
        headers: { 'content-type': 'application/json' },
        signal,
      });
      if (answer.status !== 200) throw refused(url, c.http, answer, answer.status === 404 ? notPooling : '');
      const body = answerJson(url, answer) as { data?: { data?: unknown }[] };
      if (!Array.isArray(body.data) || body.data.length !== 1)
        throw shapeError(url, 'data', 'a list of one result', body.data, notPooling);
      let v = body.data[0]?.data;
      if (Array.isArray(v)) {
        if (v.length !== 1)
          throw shapeError(
            url,
            'data[0].data',
            'a number or [number]',
            v,
            'the model has more than one label, or the server pools every token (a reward model needs a sequence classifier with one label)',
          );
        v = v[0];
      }
      return [{ score: finite(url, 'data[0].data', v) }];
    },
  };
}
