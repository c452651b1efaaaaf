// Text Embeddings Inference (`text-embeddings-router --model-id MODEL`): /predict for sequence classifiers.
// https://huggingface.github.io/text-embeddings-inference/ (OpenAPI: /predict, /info)
// https://huggingface.co/docs/text-embeddings-inference/cli_arguments (--max-client-batch-size, default 32)
// - POST /predict {"inputs": [[text], ...], "raw_scores": true, "truncate": true}: a batch of inputs, each one text or
//   a text pair; the answer is a list per input of [{score, label}] (raw_scores: the logit, no sigmoid).
// - At most --max-client-batch-size inputs a request: above it TEI answers 413 "batch size N > maximum allowed batch
//   size M" (router/src/http/server.rs); the client reads M (or halves) and sends the batch again in parts. GET /info
//   gives the limit before the first request.
// - Encoder classifiers only: TEI serves decoder models (Qwen2, Mistral) as embedding models, and /predict answers
//   424 "Model is not a classifier model" for them; /info's model_type says so first. A single-label classifier is
//   TEI's "reranker" model type, two or more labels its "classifier".
// - With a tokenizer folder, the text is the chat template's (its BOS cut: TEI's tokenizer adds its own); without one,
//   the input is the text pair (prompt, response), as a cross-encoder reward model reads it.
import { UsageError } from '../../core/errors';
import { errorText } from './http';
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
  textForServer,
} from './shared';

const DECODER =
  'TEI scores encoder sequence classifiers only (it serves decoder models such as Llama, Mistral or Qwen as embedding models): serve a decoder reward model with vLLM or SGLang';

export function teiEngine(c: EngineContext): EngineClient {
  let limit = c.batchSize ?? 32;
  const checked = new Set<string>();
  const input = (it: ScoreItem): string[] =>
    c.encoder ? [textForServer(c.encoder, it.messages)] : [it.prompt, it.response];

  async function predict(base: string, items: ScoreItem[], signal: AbortSignal): Promise<Scored[]> {
    const url = joinUrl(base, '/predict');
    const answer = await c.http.request(url, {
      body: JSON.stringify({ inputs: items.map(input), raw_scores: true, truncate: true }),
      headers: { 'content-type': 'application/json' },
      signal,
    });
    if (answer.status === 413 && items.length > 1) {
      // The server's limit, from its message, else half this batch; later batches are cut to it from the start.
      const said = Number(/maximum allowed batch size (\d+)/.exec(errorText(answer))?.[1]);
      limit = Math.max(1, Math.min(limit, said > 0 && said < items.length ? said : Math.floor(items.length / 2)));
      const out: Scored[] = [];
      for (let i = 0; i < items.length; i += limit)
        out.push(...(await predict(base, items.slice(i, i + limit), signal)));
      return out;
    }
    if (answer.status === 424 && /not a classifier/i.test(errorText(answer)))
      throw new UsageError(`${url}: HTTP 424: the model is not a classifier; ${DECODER}`);
    if (answer.status !== 200) throw refused(url, c.http, answer);
    const body = answerJson(url, answer);
    if (!Array.isArray(body) || body.length !== items.length)
      throw shapeError(url, 'list', `a list of ${items.length} prediction list(s)`, body);
    return body.map((preds, i) => {
      if (!Array.isArray(preds) || preds.length !== 1)
        throw shapeError(
          url,
          `[${i}]`,
          'a list of one {score, label}',
          preds,
          'a reward model is a sequence classifier with one label',
        );
      return { score: finite(url, `[${i}][0].score`, (preds[0] as { score?: unknown } | null)?.score) };
    });
  }

  return {
    name: 'tei',
    endpoint: '/predict',
    activationHint: 'the server answers probabilities, not raw scores (is raw_scores honoured?)',
    batchLimit: () => limit,

    async ready(base, signal) {
      if (checked.has(base)) return;
      const url = joinUrl(base, '/info');
      const answer = await c.http.request(url, { signal });
      if (answer.status !== 200)
        throw refused(url, c.http, answer, 'is this a text-embeddings-router, and is the URL its root?');
      const info = answerJson(url, answer) as {
        model_type?: Record<string, { id2label?: Record<string, string> }>;
        max_client_batch_size?: unknown;
      };
      const type = info.model_type && typeof info.model_type === 'object' ? Object.keys(info.model_type)[0] : undefined;
      if (type === 'embedding')
        throw new UsageError(`${url}: the server runs its model as an embedding model, not a classifier; ${DECODER}`);
      if (type !== 'classifier' && type !== 'reranker')
        throw shapeError(url, 'model_type', 'a classifier or reranker', type);
      const labels = Object.keys(info.model_type![type]?.id2label ?? {}).length;
      if (labels !== 1)
        throw new UsageError(
          `${url}: the model has ${labels} labels; a reward model is a sequence classifier with one label`,
        );
      const max = info.max_client_batch_size;
      if (typeof max === 'number' && Number.isInteger(max) && max > 0) limit = Math.min(limit, max);
      checked.add(base);
    },

    async score(base, items, signal) {
      await this.ready(base, signal);
      return predict(base, items, signal);
    },
  };
}
