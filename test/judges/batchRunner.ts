// Test support for the LLM judge's batch files: a deterministic OpenAI-compatible judge on 127.0.0.1, and a
// conformance "batch runner" that turns each request line of an input file into an output line the way
// OpenAI's Batch API documents its output and error files (https://platform.openai.com/docs/guides/batch,
// "the request output object"): {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}.
// Like `vllm run-batch` (https://docs.vllm.ai/en/latest/cli/run-batch/), it runs each line's body against a
// Chat Completions server (here the fake, over HTTP) and writes the lines in an order of its own.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { Rng } from '../../src/core/metrics/prng';
import { chatCompletion } from '../support/conformance/openai';

/**
 * The fake judge's answer to a user message: it prefers a response containing "good"; with both, the one shown
 * as A (position bias); with neither, NA. " B" with a leading space: the judge trims tokens.
 */
export function fakeTops(user: string): { token: string; logprob: number }[] {
  const a = /<response A>\n([\s\S]*?)\n<\/response A>/.exec(user)![1];
  const b = /<response B>\n([\s\S]*?)\n<\/response B>/.exec(user)![1];
  const [pA, pB, pNA] = a.includes('good') ? [0.7, 0.2, 0.05] : b.includes('good') ? [0.2, 0.7, 0.05] : [0.1, 0.1, 0.8];
  return [
    { token: 'A', logprob: Math.log(pA) },
    { token: ' B', logprob: Math.log(pB) },
    { token: 'NA', logprob: Math.log(pNA) },
    { token: 'The', logprob: Math.log(0.01) },
  ];
}

export interface FakeJudge {
  /** The live judge's base URL (POST {base}/chat/completions). */
  baseUrl: string;
  /** The server's origin: a batch line's url is a path on it. */
  origin: string;
  /** Every request body received, in arrival order. */
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Starts the fake on an ephemeral port of 127.0.0.1; close() ends it and its connections. */
export async function startFakeJudge(): Promise<FakeJudge> {
  const bodies: Record<string, unknown>[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string; messages: { role: string; content: string }[] };
      bodies.push(body);
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `no route ${req.url}` } }));
        return;
      }
      const tops = fakeTops(body.messages.find((m) => m.role === 'user')!.content);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(chatCompletion(`chatcmpl-${bodies.length}`, body.model, tops)));
    });
  };
  const server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** How the runner fails a request instead of running it. */
export type Failure =
  /** Not run before the completion window ended: OpenAI's error file line, `error` set and no response. */
  | 'expired'
  /** Refused by the API: status 400 and the error in the body, `error` null (openai/openai-openapi#302). */
  | 'refused'
  /** vLLM's batch runner: status 400, no body, `error` a plain string (run_batch.py, make_error_request_output). */
  | 'vllm-error'
  /** Answered, but without logprobs (a model that does not support them): status 200, an unreadable answer. */
  | 'no-logprobs';

/** A seeded uniform [0, 1) stream (the project's one PRNG), so that a shuffled order is the same on every run. */
function random(seed: number): () => number {
  const r = new Rng(seed, 'batch-runner');
  return () => r.uniform();
}

/**
 * Runs batch input files against the fake and writes one output file holding every result line, shuffled.
 * Checks each input line as the Batch API validates a file (the fields, POST, the one endpoint, one model, unique
 * custom_ids) and throws on a violation. `fail` picks requests to fail instead of running them.
 */
export async function runBatch(
  inputs: string[],
  judge: FakeJudge,
  out: string,
  o: { fail?: Record<string, Failure>; seed?: number } = {},
): Promise<string[]> {
  const lines: string[] = [];
  const seen = new Set<string>();
  let model: string | undefined;
  let n = 0;
  for (const file of inputs) {
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (text === '') continue;
      const req = JSON.parse(text) as { custom_id: string; method: string; url: string; body: { model: string } };
      if (Object.keys(req).sort().join() !== 'body,custom_id,method,url') throw new Error(`input line fields: ${text}`);
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') throw new Error(`endpoint: ${text}`);
      if (seen.has(req.custom_id)) throw new Error(`duplicate custom_id ${req.custom_id}`);
      seen.add(req.custom_id);
      if ((model ??= req.body.model) !== req.body.model) throw new Error('a batch names one model');
      n++;
      const id = `batch_req_${String(n).padStart(6, '0')}`;
      const request_id = `req_${n}`;
      const failure = o.fail?.[req.custom_id];
      let line: unknown;
      if (failure === 'expired')
        line = {
          id,
          custom_id: req.custom_id,
          response: null,
          error: {
            code: 'batch_expired',
            message: 'This request could not be executed before the completion window expired.',
          },
        };
      else if (failure === 'refused')
        line = {
          id,
          custom_id: req.custom_id,
          response: {
            status_code: 400,
            request_id,
            body: {
              error: {
                message: "This model's maximum context length is 128000 tokens.",
                type: 'invalid_request_error',
                param: 'messages',
                code: 'context_length_exceeded',
              },
            },
          },
          error: null,
        };
      else if (failure === 'vllm-error')
        line = {
          id: `vllm-${n}`,
          custom_id: req.custom_id,
          response: { status_code: 400, request_id: `vllm-batch-${n}` },
          error: 'The model does not support logprobs.',
        };
      else {
        const res = await fetch(judge.origin + req.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(req.body),
        });
        const body = (await res.json()) as { choices: { logprobs?: unknown }[] };
        if (failure === 'no-logprobs') delete body.choices[0].logprobs;
        line = { id, custom_id: req.custom_id, response: { status_code: res.status, request_id, body }, error: null };
      }
      lines.push(JSON.stringify(line));
    }
  }
  // Output lines come in no particular order (the Batch API does not keep the input's).
  const rnd = random(o.seed ?? 7);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [lines[i], lines[j]] = [lines[j], lines[i]];
  }
  writeFileSync(out, lines.map((l) => l + '\n').join(''));
  return lines;
}
