// `judge llm --base-url URL,URL`: the LLM judge spread over replicas of its endpoint (replicas.ts in the ChatClient's
// transport), against two OpenAI-compatible conformance servers on 127.0.0.1, one of which dies mid-run. Each pair
// and order must be judged exactly once: counted per request at the servers.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLlmJudge } from '../../src/judges/llmJudge';
import { closeAll } from '../support/conformance/base';
import { openaiServer } from '../support/conformance/openai';
import { ROOT } from '../support/helpers';
import { storeWithPairs } from './support';

afterAll(closeAll);

const N = 12;

async function setup() {
  const { store } = await storeWithPairs(
    Array.from({ length: N }, (_, i) => ({ prompt: `q${i}`, y0: `bad ${i}`, y1: `good ${i}` })),
  );
  return store;
}

const opts = { dataset: 'd', model: 'judge', annotator: 'j', promptDir: join(ROOT, 'media', 'prompts'), backoffMs: 20 };

describe('judge llm over replicas', () => {
  it('two replicas share the requests; one dies mid-run: the run completes, each pair and order judged exactly once', async () => {
    const a = await openaiServer();
    const b = await openaiServer();
    a.latencyMs = b.latencyMs = 5;
    a.dieAfterAnswers = 5;
    const store = await setup();
    const s = await runLlmJudge(store, { ...opts, baseUrl: `${a.url}/v1, ${b.url}/v1/`, concurrency: 4 });
    expect(s).toMatchObject({ stored: N, missing: 0 });
    expect(a.dead).toBe(true);
    // Judged exactly once: every (pair, order) prompt answered once over both servers, 2 per pair.
    const answered = new Map<string, number>();
    for (const srv of [a, b]) for (const [k, n] of srv.answered) answered.set(k, (answered.get(k) ?? 0) + n);
    expect(answered.size).toBe(2 * N);
    expect([...answered.values()].every((n) => n === 1)).toBe(true);
    expect(a.answers).toBeGreaterThanOrEqual(5); // answers already timed may go out before it dies
    expect(b.answers).toBe(2 * N - a.answers);
    expect(s.retries).toBeGreaterThan(0); // the requests cut off on the dying replica (or a probe of it), re-sent
    // y1 holds "good": A in order 0 and B in order 1, so +1 for every pair (spec section 2, two-order judge)
    const values = await store.db.all<{ value: number }>('SELECT value FROM preferences');
    expect(values.map((v) => v.value)).toEqual(Array(N).fill(1));
    await store.close();
  });

  it('with both up, both take requests (the one with fewer in flight)', async () => {
    const a = await openaiServer();
    const b = await openaiServer();
    a.latencyMs = b.latencyMs = 5;
    const store = await setup();
    await runLlmJudge(store, { ...opts, baseUrl: `${a.url}/v1,${b.url}/v1`, concurrency: 4 });
    expect(a.answers + b.answers).toBe(2 * N);
    expect(Math.abs(a.answers - b.answers)).toBeLessThanOrEqual(4);
    await store.close();
  });

  it('a replica given twice, or a bad one in the list: one line about the base URL, no request', async () => {
    const a = await openaiServer();
    const store = await setup();
    await expect(runLlmJudge(store, { ...opts, baseUrl: `${a.url}/v1,${a.url}/v1/` })).rejects.toMatchObject({
      message: `the endpoint ${a.url}/v1/chat/completions is given twice`,
      option: 'baseUrl',
    });
    await expect(runLlmJudge(store, { ...opts, baseUrl: `${a.url}/v1,ftp://x` })).rejects.toMatchObject({
      message: expect.stringMatching(/base URL must be http or https, not ftp:/),
      option: 'baseUrl',
    });
    expect(a.paths.size).toBe(0);
    await store.close();
  });
});
