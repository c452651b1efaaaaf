// A protocol-level fake of a hosted LLM for the e2e suite: a real HTTP server on 127.0.0.1 (free
// port) answering POST /v1/chat/completions with one token and `logprobs.content[0].top_logprobs`
// (A, " B", NA and a filler token), deterministically from the texts in the user message, so the
// driver can state the expected preferences from the dataset file alone (see judgeExpectation and
// oracleExpectation below). Every request is recorded (auth header, model, the texts it carried).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

const sha = (s) => createHash('sha256').update(s, 'utf8').digest('hex');
/** Which of two response texts the fake likes better: the one with the larger sha256 (hex order). */
export const better = (x, y) => (sha(x) > sha(y) ? 'x' : 'y');

/**
 * The fake's behaviour for the overall judge, by a hash of the conversation text:
 *   consistent  - prefers the better response (by `better`) in either order;
 *   position    - always answers A (position bias);
 *   na          - NA dominates in both orders;
 *   na-one      - NA dominates when A is the worse response, else A wins.
 */
export function judgeCategory(prompt) {
  return ['consistent', 'position', 'na', 'na-one'][parseInt(sha(`judge:${prompt}`).slice(0, 8), 16) % 4];
}
/** For the oracle, by a hash of conversation + principle: consistent | position | na (as above). */
export function oracleCategory(prompt, principle) {
  return ['consistent', 'position', 'na'][parseInt(sha(`oracle:${principle}\n${prompt}`).slice(0, 8), 16) % 3];
}

/** Expected stored overall value (y1 preferred = +1) under the spec rule, or null (missing). */
export function judgeExpectation({ prompt, y0, y1 }) {
  switch (judgeCategory(prompt)) {
    case 'consistent':
      return better(y1, y0) === 'x' ? 1 : -1; // s0 = +-1, s1 = -+1
    case 'position':
      return 0; // s0 = s1 = +1
    default:
      return null; // NA dominates in at least one order
  }
}
/** Expected stored oracle value given the judge's order it was asked in (0: A = y1). */
export function oracleExpectation({ prompt, y0, y1 }, principle, order) {
  switch (oracleCategory(prompt, principle)) {
    case 'consistent':
      return better(y1, y0) === 'x' ? 1 : -1;
    case 'position':
      return order === 0 ? 1 : -1;
    default:
      return 0;
  }
}

const WIN = [0.7, 0.2, 0.05],
  LOSE = [0.2, 0.7, 0.05],
  NA = [0.1, 0.1, 0.75];

function answer(user) {
  const grab = (re) => re.exec(user)?.[1];
  const prompt = grab(/<conversation>\n([\s\S]*?)\n<\/conversation>/);
  const a = grab(/<response A>\n([\s\S]*?)\n<\/response A>/);
  const b = grab(/<response B>\n([\s\S]*?)\n<\/response B>/);
  const principle = grab(/Judge the two replies ONLY by this principle:\n"([\s\S]*?)"\n/);
  if (prompt === undefined || a === undefined || b === undefined) return { error: 'unexpected user message' };
  const aBetter = better(a, b) === 'x';
  const cat = principle === undefined ? judgeCategory(prompt) : oracleCategory(prompt, principle);
  const p =
    cat === 'consistent' ? (aBetter ? WIN : LOSE) : cat === 'position' ? WIN : cat === 'na' ? NA : aBetter ? WIN : NA;
  return {
    prompt,
    a,
    b,
    principle,
    tops: [
      { token: 'A', logprob: Math.log(p[0]) },
      { token: ' B', logprob: Math.log(p[1]) },
      { token: 'NA', logprob: Math.log(p[2]) },
      { token: 'The', logprob: Math.log(0.01) },
    ],
  };
}

/** Starts the fake; `requests` lists what it was asked; close() ends it and its connections. */
export async function startFakeLlm() {
  const requests = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const fail = (code, msg) => {
        res.writeHead(code, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: msg } }));
      };
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions')
        return fail(404, `no route ${req.method} ${req.url}`);
      let body;
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, 'body is not JSON');
      }
      const user = body.messages?.find((m) => m.role === 'user')?.content ?? '';
      const r = answer(user);
      requests.push({
        auth: req.headers.authorization,
        model: body.model,
        logprobs: body.logprobs,
        topLogprobs: body.top_logprobs,
        maxTokens: body.max_tokens,
        ...r,
      });
      if (r.error) return fail(400, r.error);
      const best = r.tops.reduce((x, y) => (y.logprob > x.logprob ? y : x));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `fake-${requests.length}`,
          object: 'chat.completion',
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: best.token },
              logprobs: { content: [{ token: best.token, logprob: best.logprob, top_logprobs: r.tops }] },
              finish_reason: 'length',
            },
          ],
          usage: { prompt_tokens: 100, completion_tokens: 1, total_tokens: 101 },
        }),
      );
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const address = server.address();
  // (a TCP listener's address is an AddressInfo; a string is a pipe's path)
  if (address === null || typeof address === 'string') {
    server.close();
    throw new Error(`the fake LLM has no TCP port: ${address}`);
  }
  const baseUrl = `http://127.0.0.1:${address.port}/v1`;
  return {
    baseUrl,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
