// SGLang (`python -m sglang.launch_server --model-path MODEL --is-embedding`): the native /classify API for reward
// models. https://docs.sglang.io/basic_usage/native_api.html ("Classify (reward model)"),
// https://docs.sglang.io/supported_models/reward_models.html
// - POST /classify {"model", "text": [rendered, ...]}: a list is one batch; the answer is a list in the same order,
//   the score in [i].embedding[0] (the classifier's one logit, no activation).
// - The client renders the chat template (SGLang scores text); SGLang's tokenizer adds BOS itself, so the template's
//   own BOS is cut first (shared.ts textForServer).
// - Not /v1/classify: it answers softmax probabilities (https://docs.sglang.io/supported_models/classify_models.html),
//   and the softmax of a single label is 1.0 for every input.
// - GET /get_model_info says whether the server was started for generation (then /classify cannot score).
import { UsageError } from '../../core/errors';
import {
  type EngineClient,
  type EngineContext,
  type Scored,
  answerJson,
  finite,
  joinUrl,
  refused,
  shapeError,
  textForServer,
} from './shared';

export function sglangEngine(c: EngineContext): EngineClient {
  const encoder = c.encoder;
  if (!encoder)
    throw new UsageError(
      "SGLang scores text: the chat template is applied here, from the model's tokenizer folder (tokenizer.json and tokenizer_config.json with a chat_template)",
      'tokenizer',
    );
  const checked = new Set<string>();
  const hint = 'is this SGLang serving an embedding model (launch_server with is-embedding), and is the URL its root?';
  return {
    name: 'sglang',
    endpoint: '/classify',
    activationHint: "the server answers probabilities, not raw scores (SGLang's /v1/classify applies a softmax)",
    batchLimit: () => c.batchSize ?? 16,

    async ready(base, signal) {
      if (checked.has(base)) return;
      const url = joinUrl(base, '/get_model_info');
      const answer = await c.http.request(url, { signal });
      if (answer.status !== 200) throw refused(url, c.http, answer, hint);
      const info = answerJson(url, answer) as { is_generation?: unknown };
      if (info.is_generation === true)
        throw new UsageError(
          `${url}: the server runs its model for generation; start SGLang for an embedding model (launch_server with is-embedding) to score with a reward model`,
        );
      checked.add(base);
    },

    async score(base, items, signal): Promise<Scored[]> {
      await this.ready(base, signal);
      const url = joinUrl(base, '/classify');
      const answer = await c.http.request(url, {
        body: JSON.stringify({ model: c.model, text: items.map((it) => textForServer(encoder, it.messages)) }),
        headers: { 'content-type': 'application/json' },
        signal,
      });
      if (answer.status !== 200) throw refused(url, c.http, answer, answer.status === 404 ? hint : '');
      const body = answerJson(url, answer);
      if (!Array.isArray(body) || body.length !== items.length)
        throw shapeError(url, 'list', `a list of ${items.length} result(s)`, body, hint);
      return body.map((r, i) => {
        const e = (r as { embedding?: unknown } | null)?.embedding;
        if (!Array.isArray(e) || e.length !== 1)
          throw shapeError(
            url,
            `[${i}].embedding`,
            'a list of one score',
            e,
            'a reward model is a sequence classifier with one label, served as an embedding model',
          );
        return { score: finite(url, `[${i}].embedding[0]`, e[0]) };
      });
    },
  };
}
