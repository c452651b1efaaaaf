// What every store adapter shares, free of any database driver: the "unknown X (known: ...)"
// lookup, the lock error, and the one-transaction operations written once over the port.
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors';
import type { Store, Transaction } from './port';

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export const now = (): string => new Date().toISOString();
export const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));

/** Runs steps one after another in the order given, each after the previous one settled (failed or not). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.tail.then(step, step);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Settles once every step queued so far has. */
  async idle(): Promise<void> {
    await this.tail;
  }
}

/**
 * Runs `fn` on a handle of `tx` that lives as long as the call: when `fn` settles (returned or threw),
 * every operation it started through the handle is awaited before the caller commits or rolls back,
 * and any operation started after that is refused. Without it a statement that a failed writer left
 * queued (an importer's batch still in flight when the reader threw) would run after the ROLLBACK, in
 * autocommit on SQLite or inside the next writer's transaction on PostgreSQL.
 */
export async function withTransactionScope<T>(tx: Transaction, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  let open = true;
  const pending = new Set<Promise<unknown>>();
  const scoped = Object.fromEntries(
    Object.entries(tx).map(([name, op]) => [
      name,
      typeof op !== 'function'
        ? op
        : (...args: unknown[]) => {
            if (!open) return Promise.reject(new Error(`store: ${name} called after its transaction ended`));
            const result: unknown = (op as (...a: unknown[]) => unknown)(...args);
            if (result instanceof Promise) {
              pending.add(result);
              const forget = () => pending.delete(result);
              result.then(forget, forget);
            }
            return result;
          },
    ]),
  ) as unknown as Transaction;
  try {
    return await fn(scoped);
  } finally {
    open = false;
    while (pending.size > 0) await Promise.allSettled([...pending]);
  }
}

/** Finds a named thing, or fails naming what the database does hold. `kind` is singular ("dataset"). */
export async function requireNamed<T>(
  kind: string,
  ref: string,
  found: T | undefined,
  knownNames: () => Promise<string[]>,
): Promise<T> {
  if (found !== undefined) return found;
  const known = await knownNames();
  throw new UsageError(
    `unknown ${kind} "${ref}"${known.length ? ` (known: ${known.join(', ')})` : ` (the database holds no ${kind}s yet)`}`,
  );
}

/** Another writer held the database's write lock for longer than this one would wait. */
export class StoreBusyError extends UsageError {
  constructor(location: string, waitedMs: number, holder?: string) {
    super(
      `database ${location} is busy: ${holder ?? 'another process'} has held its write lock for more than ${Math.round(waitedMs / 1000)} s; nothing was written, try again when it has finished`,
    );
    this.name = 'StoreBusyError';
  }
}

type Write = Store['write'];

/** A store opened for reading only: every write is refused with one line before it reaches the database. */
export function refuseWrites<S extends Store>(store: S): S {
  const write: Write = () =>
    Promise.reject(
      new UsageError(`database ${store.location} is open read-only for this command; nothing was written`),
    );
  return { ...store, write, ...transactionalOperations(write) };
}

/** The store's one-transaction operations, over any adapter's `write`. */
export function transactionalOperations(
  write: Write,
): Pick<Store, 'claimNextPair' | 'saveWorkbenchPosition' | 'saveMetricRun'> {
  return {
    claimNextPair: (datasetId, annotatorId, nowMs, ttlMs) =>
      write((tx) => tx.claimNextPair(datasetId, annotatorId, nowMs, ttlMs)),
    saveWorkbenchPosition: (annotatorId, datasetId, pairIdx) =>
      write((tx) => tx.setWorkbenchPosition(annotatorId, datasetId, pairIdx)),
    saveMetricRun: (datasetId, toolVersion, params, inputHashes, results) =>
      write((tx) => tx.insertMetricRun(datasetId, toolVersion, params, inputHashes, results)),
  };
}
