// The LLM judge's secrets and hostile servers, against real HTTP servers on 127.0.0.1 (two ports = two
// origins) and real SQLite files: the API key reaches only the origin it was entered for, through the
// lookup the extension uses (src/judges/apiKeys.ts; a Map stands in for VS Code's SecretStorage), never
// along a redirect; an echoed key or URL credentials never appear in errors; probabilities from logprobs
// are validated like the CSV importer's; answer bodies are size-capped.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import { apiKeyForEndpoint, secretKeyFor, setApiKeyForEndpoint, type SecretStore } from '../../src/judges/apiKeys';
import { runLlmJudge } from '../../src/judges/llmJudge';
import { ROOT, dumpDatabase } from '../support/helpers';
import { storeWithPairs } from './support';

const PROMPTS = join(ROOT, 'media', 'prompts');
const KEY_A = 'sk-origin-A-0123456789';

type Behaviour = 'answer' | 'echo-401' | 'logprob-50' | 'huge' | 'huge-chunked' | 'redirect';
interface Fake {
  server: Server;
  baseUrl: string;
  origin: string;
  auth: (string | undefined)[];
  behaviour: Behaviour;
  redirectTo?: string;
}

function answer(res: ServerResponse, logprob: number) {
  const tops = [
    { token: 'A', logprob },
    { token: 'B', logprob: Math.log(0.2) },
    { token: 'NA', logprob: Math.log(0.05) },
  ];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'A' },
          logprobs: { content: [{ token: 'A', logprob, top_logprobs: tops }] },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 1 },
    }),
  );
}

function startFake(): Promise<Fake> {
  const fake = { auth: [], behaviour: 'answer' } as unknown as Fake;
  fake.server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      fake.auth.push(req.headers.authorization);
      if (fake.behaviour === 'answer') return answer(res, Math.log(0.7));
      if (fake.behaviour === 'logprob-50') return answer(res, 50);
      if (fake.behaviour === 'echo-401') {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({
            error: `invalid key ${(req.headers.authorization ?? '').replace('Bearer ', '')} \x1b[2J\u202e`,
          }),
        );
      }
      if (fake.behaviour === 'redirect') {
        res.writeHead(307, { location: `${fake.redirectTo}/chat/completions` });
        return res.end();
      }
      // 8 MiB of padding, declared (huge) or streamed in chunks without a length (huge-chunked).
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      if (fake.behaviour === 'huge')
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(8 * chunk.length) });
      else res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const more = () => {
        while (sent < 8) {
          sent++;
          if (!res.write(chunk)) return res.once('drain', more);
        }
        res.end();
      };
      res.on('error', () => undefined);
      more();
    });
  });
  return new Promise((resolve) =>
    fake.server.listen(0, '127.0.0.1', () => {
      const port = (fake.server.address() as AddressInfo).port;
      fake.origin = `http://127.0.0.1:${port}`;
      fake.baseUrl = `${fake.origin}/v1`;
      resolve(fake);
    }),
  );
}

let A: Fake, B: Fake;
beforeAll(async () => {
  [A, B] = await Promise.all([startFake(), startFake()]);
});
afterAll(async () => {
  for (const f of [A, B]) {
    f.server.closeAllConnections();
    await new Promise((r) => f.server.close(r));
  }
});
beforeEach(() => {
  for (const f of [A, B]) {
    f.auth.length = 0;
    f.behaviour = 'answer';
  }
});

/** VS Code's SecretStorage, as far as the key lookup uses it. */
function mapSecrets(): SecretStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    get: async (k) => map.get(k),
    store: async (k, v) => {
      map.set(k, v);
    },
    delete: async (k) => {
      map.delete(k);
    },
  };
}

async function setup() {
  const { store } = await storeWithPairs([{ prompt: 'q0', y0: 'bad', y1: 'good' }]);
  return store;
}
const opts = { dataset: 'd', model: 'm', promptDir: PROMPTS, backoffMs: 1, maxRetries: 0, concurrency: 1 };

describe('the API key per endpoint origin', () => {
  it('reaches only the origin it was entered for; another origin asks for its own key', async () => {
    const secrets = mapSecrets();
    const asked: string[] = [];
    // The user enters KEY_A when asked for A's origin, and nothing (a keyless server) for any other.
    const ask = async (origin: string) => {
      asked.push(origin);
      return origin === A.origin ? KEY_A : '';
    };
    const store = await setup();

    const keyA = await apiKeyForEndpoint(secrets, A.baseUrl, ask);
    await runLlmJudge(store, { ...opts, baseUrl: A.baseUrl, annotator: 'ja', apiKey: keyA || undefined });
    expect(A.auth).toEqual([`Bearer ${KEY_A}`, `Bearer ${KEY_A}`]); // both orders of the one pair
    expect(asked).toEqual([A.origin]);

    // A workspace now names B: the key of A is not offered; B's own (empty) key is asked for.
    const keyB = await apiKeyForEndpoint(secrets, B.baseUrl, ask);
    await runLlmJudge(store, { ...opts, baseUrl: B.baseUrl, annotator: 'jb', apiKey: keyB || undefined });
    expect(asked).toEqual([A.origin, B.origin]);
    expect(B.auth).toEqual([undefined, undefined]);

    // A's key is remembered for A (another path on the same origin), not asked again.
    expect(await apiKeyForEndpoint(secrets, `${A.origin}/other/v1`, ask)).toBe(KEY_A);
    expect(asked).toHaveLength(2);
    expect([...secrets.map.keys()].sort()).toEqual([secretKeyFor(A.origin), secretKeyFor(B.origin)].sort());
    expect(JSON.stringify(await dumpDatabase(store))).not.toContain(KEY_A);
    await store.close();
  });

  it('is never carried along a redirect to another origin', async () => {
    const secrets = mapSecrets();
    await setApiKeyForEndpoint(secrets, A.baseUrl, KEY_A);
    A.behaviour = 'redirect';
    A.redirectTo = B.baseUrl;
    const store = await setup();
    const key = await apiKeyForEndpoint(secrets, A.baseUrl, async () => {
      throw new Error('must not ask: A has a key');
    });
    const e = await runLlmJudge(store, { ...opts, baseUrl: A.baseUrl, annotator: 'j', apiKey: key }).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/HTTP 307: the endpoint redirects to/);
    expect(A.auth).toEqual([`Bearer ${KEY_A}`]);
    expect(B.auth).toEqual([]);
    await store.close();
  });
});

describe('secrets never printed', () => {
  it('an error body that echoes the key shows it redacted, with control characters escaped', async () => {
    A.behaviour = 'echo-401';
    const store = await setup();
    const e = await runLlmJudge(store, { ...opts, baseUrl: A.baseUrl, annotator: 'j', apiKey: KEY_A }).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(A.auth).toEqual([`Bearer ${KEY_A}`]); // it was sent, and echoed
    expect(e.message).toMatch(/HTTP 401: .*invalid key \[redacted\]/);
    expect(e.message).not.toContain(KEY_A);
    expect(e.message).not.toMatch(/[\u001b\u202e]/);
    await store.close();
  });

  it('a base URL with user:pass@ is refused before any request, without repeating the password', async () => {
    const store = await setup();
    const url = A.baseUrl.replace('http://', 'http://user:hunter2pass@');
    const e = await runLlmJudge(store, { ...opts, baseUrl: url, annotator: 'j' }).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/must not carry a user name or password/);
    expect(e.message).not.toMatch(/hunter2pass|user:/);
    expect(A.auth).toEqual([]);
    await store.close();
  });
});

describe('hostile answers', () => {
  it('a logprob of 50 (probability e^50) is refused like prob_A > 1 in a CSV; nothing is stored', async () => {
    A.behaviour = 'logprob-50';
    const store = await setup();
    const before = await dumpDatabase(store);
    const e = await runLlmJudge(store, { ...opts, baseUrl: A.baseUrl, annotator: 'j' }).catch((x) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/"A" the probability .* outside \[0, 1\]/);
    expect(await dumpDatabase(store)).toEqual(before);
    await store.close();
  });

  it('an answer body over the cap is refused, whether declared by Content-Length or streamed', async () => {
    const store = await setup();
    for (const behaviour of ['huge', 'huge-chunked'] as const) {
      A.behaviour = behaviour;
      const e = await runLlmJudge(store, {
        ...opts,
        baseUrl: A.baseUrl,
        annotator: 'j',
        maxResponseBytes: 1024 * 1024,
      }).catch((x) => x);
      expect(e, behaviour).toBeInstanceOf(UsageError);
      expect(e.message).toMatch(/the answer is larger than 1048576 bytes/);
    }
    await store.close();
  });
});
