// The replica pool (src/judges/replicas.ts) on its own, with tasks that answer or fault on demand: where requests
// go, how faults rest a replica (Retry-After as RFC 9110 section 10.2.3 defines it) and re-send the request, and when
// the pool gives up. No network: each "replica" is a URL the task looks up.
import { describe, expect, it } from 'vitest';
import { ReplicaFault, ReplicaPool, ReplicasDownError } from '../../src/judges/replicas';

const tick = () => new Promise((r) => setTimeout(r, 0));

/** A task whose every call waits until released; records which replica each call went to. */
function gate() {
  const calls: { url: string; release: (v?: unknown) => void; fail: (e: unknown) => void }[] = [];
  const task = (url: string) => new Promise((resolve, reject) => calls.push({ url, release: resolve, fail: reject }));
  return { calls, task };
}

describe('ReplicaPool', () => {
  it('the replica with the fewest in flight takes the request; the overall concurrency holds', async () => {
    const pool = new ReplicaPool(['a', 'b'], { concurrency: 3 });
    const g = gate();
    const runs = Array.from({ length: 4 }, () => pool.run(g.task));
    await tick();
    expect(g.calls.map((c) => c.url)).toEqual(['a', 'b', 'a']); // the 4th waits for a slot
    g.calls[1].release(); // b is free now: the waiting request goes there
    await tick();
    await tick();
    expect(g.calls.map((c) => c.url)).toEqual(['a', 'b', 'a', 'b']);
    for (const c of g.calls) c.release();
    await Promise.all(runs);
    expect(pool.replicas.map((r) => [r.requests, r.answers, r.inFlight])).toEqual([
      [2, 2, 0],
      [2, 2, 0],
    ]);
  });

  it('a fault rests the replica and the request goes at once to the other one', async () => {
    const pool = new ReplicaPool(['a', 'b'], { backoffMs: 10_000 });
    const seen: string[] = [];
    const value = await pool.run(async (url) => {
      seen.push(url);
      if (url === 'a') throw new ReplicaFault('HTTP 503');
      return 42;
    });
    expect(value).toBe(42);
    expect(seen).toEqual(['a', 'b']);
    expect(pool.replicas[0]).toMatchObject({ faults: 1, faultsInRow: 1, lastFault: 'HTTP 503' });
    expect(pool.replicas[0].restUntil).toBeGreaterThan(Date.now() + 9000);
  });

  it('Retry-After: the only replica is left alone as long as it asked, then asked again', async () => {
    const pool = new ReplicaPool(['a']);
    const times: number[] = [];
    await pool.run(async () => {
      times.push(Date.now());
      if (times.length === 1) throw new ReplicaFault('HTTP 429', 300);
      return 1;
    });
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(300);
  });

  it('requests in flight when a replica fails bring no news: the rest grows once, not once per request', async () => {
    const pool = new ReplicaPool(['a'], { backoffMs: 100 });
    const g = gate();
    const runs = [pool.run(g.task), pool.run(g.task), pool.run(g.task)];
    await tick();
    for (const c of g.calls) c.fail(new ReplicaFault('connection failed (ECONNRESET)', undefined, false));
    await tick();
    expect(pool.replicas[0]).toMatchObject({ faults: 3, faultsInRow: 1 });
    pool.stop(new Error('done'));
    await Promise.allSettled(runs);
  });

  it('an error that is no fault (a wrong answer) stops the pool: every request ends with that error', async () => {
    const pool = new ReplicaPool(['a', 'b']);
    const g = gate();
    const runs = [pool.run(g.task), pool.run(g.task)];
    await tick();
    const wrong = new Error('a: the answer has no score');
    g.calls[0].fail(wrong);
    const results = await Promise.allSettled(runs);
    expect(results.map((r) => (r as PromiseRejectedResult).reason)).toEqual([wrong, wrong]);
    await expect(pool.run(async () => 1)).rejects.toBe(wrong);
  });

  it('counted faults: one request gives up after maxAttempts, naming the replica and the last fault', async () => {
    const pool = new ReplicaPool(['a'], { maxAttempts: 3, backoffMs: 1 });
    let n = 0;
    await expect(
      pool.run(async () => {
        n++;
        throw new ReplicaFault('HTTP 500');
      }),
    ).rejects.toThrow('a: gave up after 3 attempts: HTTP 500');
    expect(n).toBe(3);
  });

  it('nothing reachable and nothing ever answered: down after failFastAfter lost connections each', async () => {
    const pool = new ReplicaPool(['a', 'b'], { backoffMs: 5, failFastAfter: 3 });
    let n = 0;
    const e = await pool
      .run(async (url) => {
        n++;
        throw new ReplicaFault(`connection failed (ECONNREFUSED ${url})`, undefined, false);
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReplicasDownError);
    expect((e as Error).message).toBe(
      'no replica answers (a: connection failed (ECONNREFUSED a); b: connection failed (ECONNREFUSED b))',
    );
    expect(n).toBe(6);
  });

  it('answered before, then every replica down for giveUpAfterMs: one line naming each', async () => {
    const pool = new ReplicaPool(['a', 'b'], { backoffMs: 20, giveUpAfterMs: 200, maxAttempts: 100 });
    await pool.run(async () => 1);
    const t0 = Date.now();
    const e = await pool
      .run(async () => {
        throw new ReplicaFault('HTTP 503');
      })
      .catch((x: Error) => x);
    expect(e.message).toMatch(/^no replica has answered for 0 s \(a: HTTP 503; b: HTTP 503\)$/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('a probe after a rest: one request at a time until the replica answers again', async () => {
    let now = 0;
    const pool = new ReplicaPool(['a'], { backoffMs: 100, now: () => now });
    await pool.run(async () => 1);
    const g = gate();
    const first = pool.run(g.task);
    await tick();
    g.calls[0].fail(new ReplicaFault('HTTP 503'));
    await tick();
    now = 200; // the rest is over
    const runs = [first, pool.run(g.task), pool.run(g.task)];
    await new Promise((r) => setTimeout(r, 150));
    expect(g.calls.length).toBe(2); // the retried request only: a probe
    g.calls[1].release();
    await new Promise((r) => setTimeout(r, 20));
    expect(g.calls.length).toBe(4); // answered: the others go
    g.calls[2].release();
    g.calls[3].release();
    await Promise.all(runs);
  });
});
