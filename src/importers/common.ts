// What every importer shares: the error policy, the summary it returns, file hashing.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InputError } from '../core/errors';

/** `fail`: the first bad record aborts the import and nothing is written. `skip`: bad records are reported and left out. */
export type OnError = 'fail' | 'skip';

export interface ImportSummary {
  kind: string;
  file: string;
  dataset?: string;
  /** Records written (pairs, principles, preferences, ...). */
  imported: number;
  /** What was written, in words, e.g. { pairs: 2312, preferences: 2312 }. */
  counts: Record<string, number>;
  skipped: { line: number | null; message: string }[];
  notes: string[];
}

export class ErrorPolicy {
  readonly skipped: { line: number | null; message: string }[] = [];
  constructor(readonly onError: OnError) {}

  /** Runs `fn`; in skip mode an InputError is recorded and `undefined` returned. */
  attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (this.onError === 'skip' && e instanceof InputError) {
        this.skipped.push({ line: e.line, message: e.message });
        return undefined;
      }
      throw e;
    }
  }
}

export function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}
