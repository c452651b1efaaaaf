// A Text Embeddings Inference server, written from https://huggingface.github.io/text-embeddings-inference/ (OpenAPI)
// and its router (router/src/http/server.rs):
// - GET /info: {"model_id", "model_type": {"reranker": {"id2label": {"0": "LABEL_0"}}} (a single-label classifier),
//   "max_client_batch_size": 32, ...}; `decoder` plays a decoder model TEI serves as an embedding model
//   ({"embedding": {...}}), `infoBatch: false` an /info that does not give the limit.
// - POST /predict {"inputs": [[text] or [text, text_pair], ...], "raw_scores", "truncate"}: above
//   max_client_batch_size inputs, 413 {"error": "batch size N > maximum allowed batch size M", "error_type":
//   "validation"}; a non-classifier, 424 {"error": "Backend error: Model is not a classifier model"}. The answer is a
//   list per input of [{"score", "label"}]: the raw score with raw_scores, else its sigmoid (one label).
// - Its tokenizer adds BOS (and separates a text pair): the score is of BOS + text (+ "</s>" + text_pair), and a
//   text that starts with BOS is refused here (BOS doubled).
import { ConformanceServer, type Handled, start } from './base';
import { BOS, rawScore, sigmoid } from './score';

export interface TeiOptions {
  maxBatch?: number;
  infoBatch?: boolean;
  /** /predict refuses with 424 (a decoder model served as an embedding model). */
  decoder?: boolean;
  /** What /info says the model is (default: embedding for a decoder, else reranker). */
  infoSays?: 'reranker' | 'embedding';
}

export function teiServer(o: TeiOptions = {}): Promise<ConformanceServer> {
  const max = o.maxBatch ?? 32;
  return start(
    new ConformanceServer((req): Handled => {
      if (req.method === 'GET' && req.path === '/info')
        return {
          reply: {
            status: 200,
            body: {
              model_id: 'rm',
              model_type:
                (o.infoSays ?? (o.decoder ? 'embedding' : 'reranker')) === 'embedding'
                  ? { embedding: { pooling: 'last-token' } }
                  : { reranker: { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } },
              ...(o.infoBatch === false ? {} : { max_client_batch_size: max }),
              max_input_length: 512,
              auto_truncate: false,
              version: '1.8.0',
            },
          },
        };
      if (req.method !== 'POST' || req.path !== '/predict') return { reply: { status: 404, body: {} } };
      const body = req.json<{ inputs?: (string | string[])[]; raw_scores?: boolean }>();
      const inputs = (body.inputs ?? []).map((x) => (typeof x === 'string' ? [x] : x));
      const texts = inputs.map((x) => BOS + x.join('</s>'));
      if (inputs.length > max) {
        const error = `batch size ${inputs.length} > maximum allowed batch size ${max}`;
        return { inputs: texts, reply: { status: 413, body: { error, error_type: 'validation' } } };
      }
      if (o.decoder)
        return {
          inputs: texts,
          reply: {
            status: 424,
            body: { error: 'Backend error: Model is not a classifier model', error_type: 'backend' },
          },
        };
      if (inputs.some((x) => x[0]?.startsWith(BOS)))
        return {
          inputs: texts,
          reply: {
            status: 422,
            body: { error: `conformance: a text starts with ${BOS} (BOS doubled)`, error_type: 'tokenizer' },
          },
        };
      const score = (t: string) => (body.raw_scores ? rawScore(t) : sigmoid(rawScore(t)));
      return {
        inputs: texts,
        reply: { status: 200, body: texts.map((t) => [{ score: score(t), label: 'LABEL_0' }]) },
        wrongShape: () => ({ status: 200, body: texts.map((t) => ({ score: score(t), label: 'LABEL_0' })) }),
      };
    }),
  );
}
