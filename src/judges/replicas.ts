// Requests spread over replicas of one service (issue 19): the reward-model engines (engines/) and the LLM judge's
// Chat Completions endpoint (llmJudge.ts) both send each request through a ReplicaPool.
// - A request goes to the replica with the fewest requests in flight (ties: the one asked least), within the
//   pool's overall concurrency.
// - A replica that fails (a connection error, a timeout, HTTP 5xx or 429: the task throws a ReplicaFault) is rested,
//   for the Retry-After it sent (RFC 9110 section 10.2.3) or an exponential backoff, and the request is re-sent to
//   another replica. After its rest a replica takes one request (a probe) until it answers again.
// - When every replica is resting, requests wait. The run ends with one line naming every replica and its last
//   fault when no replica has answered for `giveUpAfterMs`, or sooner, after `failFastAfter` lost connections in a
//   row each, when none has answered at all since the pool started (a mistyped URL is not waited on for minutes).
// - Any other error a task throws (an answer of the wrong shape, HTTP 4xx) stops the run: it is not retried.
// - A request that fails `maxAttempts` times with a fault that could be its own (an answer: 5xx, 429, a timeout,
//   a malformed body; not a refused or reset connection, which says only that the replica is down) ends the run.
import { setMaxListeners } from 'node:events';
import { UsageError } from '../core/errors';

/** A replica's failure that the request may be re-sent after (elsewhere, or here after a rest). */
export class ReplicaFault extends Error {
  constructor(
    message: string,
    /** How long the replica asked to be left alone (Retry-After), in ms. */
    readonly retryAfterMs?: number,
    /** Whether the fault counts against the request's attempts (false: the replica is down, not the request's doing). */
    readonly counted = true,
  ) {
    super(message);
    this.name = 'ReplicaFault';
  }
}

/** Retry-After: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export interface ReplicaPoolOptions {
  /** Requests in flight over all replicas (default: no limit beyond the callers' own). */
  concurrency?: number;
  /** Counted faults after which one request gives up and ends the run (default 6). */
  maxAttempts?: number;
  /** First rest after a fault without Retry-After; doubles with each fault in a row (default 1000 ms). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Cap on a Retry-After (default 120 s). */
  maxRestMs?: number;
  /** Every replica resting and none answered for this long: the run ends (default 120 s). */
  giveUpAfterMs?: number;
  /** While no replica has answered yet: lost connections in a row on every replica that end the run (default 3). */
  failFastAfter?: number;
  signal?: AbortSignal;
  /** Called on each fault after which the request is re-sent. */
  onFault?: (url: string, fault: ReplicaFault) => void;
  now?: () => number;
}

export interface ReplicaState {
  readonly url: string;
  inFlight: number;
  requests: number;
  answers: number;
  faults: number;
  /** Faults since the last answer, each seen by a request sent after the previous one. */
  faultsInRow: number;
  /** Of those, the lost connections in a row (no answer of any kind: nothing listens there, or it is down). */
  unreachableInRow: number;
  restUntil: number;
  lastFaultAt: number;
  lastFault?: string;
}

/** The whole pool is down: every replica failed and none answered for too long (what was stored stays). */
export class ReplicasDownError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicasDownError';
  }
}

export class ReplicaPool {
  readonly replicas: ReplicaState[];
  private readonly o: Required<Omit<ReplicaPoolOptions, 'signal' | 'onFault' | 'now'>>;
  private readonly now: () => number;
  private readonly stopper = new AbortController();
  private active = 0;
  private readonly waiters = new Set<() => void>();
  private lastAnswerAt: number;
  private answered = false;
  private down: ReplicasDownError | undefined;
  /** Rejects with the stop reason when the pool stops. */
  private readonly stopped: Promise<never>;
  private readonly detach: () => void;

  constructor(
    urls: readonly string[],
    private readonly options: ReplicaPoolOptions = {},
  ) {
    if (urls.length === 0) throw new Error('a replica pool needs at least one URL');
    this.replicas = urls.map((url) => ({
      url,
      inFlight: 0,
      requests: 0,
      answers: 0,
      faults: 0,
      faultsInRow: 0,
      unreachableInRow: 0,
      restUntil: 0,
      lastFaultAt: -Infinity,
    }));
    this.o = {
      concurrency: options.concurrency ?? Infinity,
      maxAttempts: options.maxAttempts ?? 6,
      backoffMs: options.backoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      maxRestMs: options.maxRestMs ?? 120_000,
      giveUpAfterMs: options.giveUpAfterMs ?? 120_000,
      failFastAfter: options.failFastAfter ?? 3,
    };
    this.now = options.now ?? Date.now;
    // Every request in flight listens to the pool's signal: hundreds at once are expected, not a leak.
    setMaxListeners(0, this.stopper.signal);
    this.stopped = new Promise<never>((_, reject) =>
      this.stopper.signal.addEventListener('abort', () => reject(this.stopper.signal.reason as Error), { once: true }),
    );
    this.stopped.catch(() => undefined); // observed by run(); never an unhandled rejection
    this.lastAnswerAt = this.now();
    const signal = options.signal;
    const onAbort = () => this.stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) this.stop(signal.reason);
    this.detach = () => signal?.removeEventListener('abort', onAbort);
  }

  /** Aborted when the pool stops (the caller's signal, a fatal error, every replica down). */
  get signal(): AbortSignal {
    return this.stopper.signal;
  }

  /** Stops the pool: requests in flight are aborted, waiting ones rejected with `reason`. */
  stop(reason?: unknown): void {
    if (!this.stopper.signal.aborted) this.stopper.abort(reason ?? new Error('the replica pool was stopped'));
    this.detach?.();
    this.wake();
  }

  /**
   * Runs `task` against one replica, re-sending it elsewhere on a ReplicaFault; resolves with its result. Any other
   * error stops the pool (requests in flight are aborted) and is thrown as it is.
   */
  async run<T>(task: (url: string, signal: AbortSignal) => Promise<T>): Promise<T> {
    let attempts = 0;
    for (;;) {
      const r = await this.acquire();
      const started = this.now();
      try {
        // A task that does not heed the signal is not waited for once the pool stops.
        const value = await Promise.race([task(r.url, this.stopper.signal), this.stopped]);
        r.answers++;
        r.faultsInRow = 0;
        r.unreachableInRow = 0;
        r.restUntil = 0;
        this.answered = true;
        this.lastAnswerAt = this.now();
        return value;
      } catch (e) {
        // Stopped meanwhile (another request's error, every replica down, the caller's cancel): that reason, for all.
        if (this.stopper.signal.aborted) throw this.stopper.signal.reason;
        if (!(e instanceof ReplicaFault)) {
          this.stop(e);
          throw e;
        }
        this.rest(r, e, started);
        if (e.counted && ++attempts >= this.o.maxAttempts) {
          const err = new UsageError(`${r.url}: gave up after ${attempts} attempts: ${e.message}`);
          this.stop(err);
          throw err;
        }
        this.options.onFault?.(r.url, e);
      } finally {
        r.inFlight--;
        this.active--;
        this.wake();
      }
    }
  }

  /**
   * Runs `check` once on every replica at once (a run's first look at each: the model served, its metadata). A
   * replica that faults is rested and will be tried again later; when none can be reached the pool is down at once.
   */
  async checkAll(check: (url: string, signal: AbortSignal) => Promise<void>): Promise<void> {
    const results = await Promise.allSettled(
      this.replicas.map(async (r) => {
        const started = this.now();
        try {
          await check(r.url, this.stopper.signal);
          r.answers++;
          this.answered = true;
          this.lastAnswerAt = this.now();
        } catch (e) {
          if (!(e instanceof ReplicaFault) || this.stopper.signal.aborted) throw e;
          this.rest(r, e, started);
        }
      }),
    );
    const failed = results.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) {
      this.stop(failed.reason);
      throw failed.reason;
    }
    // Nothing answers at any URL (no server, a wrong port): down at once. A server that answered 503 (still loading,
    // overloaded) is tried again by the requests.
    if (this.replicas.every((r) => r.unreachableInRow > 0)) {
      const err = this.downError();
      this.stop(err);
      throw err;
    }
  }

  private rest(r: ReplicaState, fault: ReplicaFault, started: number): void {
    r.faults++;
    r.lastFault = fault.message;
    // Requests already in flight when the replica last failed bring no news: the rest it got then stands.
    if (started < r.lastFaultAt) return;
    const now = this.now();
    r.faultsInRow++;
    r.unreachableInRow = fault.counted ? 0 : r.unreachableInRow + 1;
    r.lastFaultAt = now;
    const backoff = Math.min(this.o.maxBackoffMs, this.o.backoffMs * 2 ** (r.faultsInRow - 1));
    r.restUntil = now + (fault.retryAfterMs !== undefined ? Math.min(fault.retryAfterMs, this.o.maxRestMs) : backoff);
  }

  /** The replica the next request goes to: not resting, a probe only while it has none in flight; fewest in flight. */
  private pick(now: number): ReplicaState | undefined {
    let best: ReplicaState | undefined;
    for (const r of this.replicas) {
      if (r.restUntil > now || (r.faultsInRow > 0 && r.inFlight > 0)) continue;
      if (!best || r.inFlight < best.inFlight || (r.inFlight === best.inFlight && r.requests < best.requests)) best = r;
    }
    return best;
  }

  private isDown(now: number): boolean {
    if (!this.replicas.every((r) => r.faultsInRow > 0 && r.inFlight === 0)) return false;
    if (now - this.lastAnswerAt >= this.o.giveUpAfterMs) return true;
    return !this.answered && this.replicas.every((r) => r.unreachableInRow >= this.o.failFastAfter);
  }

  private downError(): ReplicasDownError {
    const seconds = Math.round((this.now() - this.lastAnswerAt) / 1000);
    const each = this.replicas.map((r) => `${r.url}: ${r.lastFault ?? 'no answer'}`).join('; ');
    this.down ??= new ReplicasDownError(
      this.answered ? `no replica has answered for ${seconds} s (${each})` : `no replica answers (${each})`,
    );
    return this.down;
  }

  private async acquire(): Promise<ReplicaState> {
    for (;;) {
      if (this.stopper.signal.aborted) throw this.stopper.signal.reason;
      const now = this.now();
      if (this.active < this.o.concurrency) {
        const r = this.pick(now);
        if (r) {
          // Counted here, before any await: the next pick sees this request in flight.
          this.active++;
          r.inFlight++;
          r.requests++;
          return r;
        }
        if (this.isDown(now)) {
          const err = this.downError();
          this.stop(err);
          throw err;
        }
      }
      const resting = this.replicas.filter((r) => r.restUntil > now).map((r) => r.restUntil - now);
      await this.wait(resting.length ? Math.min(...resting) : undefined);
    }
  }

  /** Until a request ends, the pool stops, or `ms` pass (the first rest to end). */
  private wait(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms + 1);
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      const waiters = this.waiters;
      waiters.add(done);
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** A comma-separated list of URLs: each trimmed, empty parts dropped, duplicates refused by the caller's check. */
export function splitUrlList(list: string): string[] {
  return list
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
}
