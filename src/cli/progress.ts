// A progress bar for long imports: on a terminal only (nothing when stderr is piped or --json is
// given), and only once the file is big enough that a bar is worth drawing.
import { SingleBar } from 'cli-progress';
import type { ImportProgress } from '../importers/common';

const MIN_BYTES = 16 * 1024 * 1024;

export interface ProgressReporter {
  onProgress?: (p: ImportProgress) => void;
  stop(): void;
}

export function importProgress(quiet: boolean): ProgressReporter {
  if (quiet || !process.stderr.isTTY) return { stop: () => undefined };
  let bar: SingleBar | undefined;
  const mib = (n: number) => (n / 1048576).toFixed(0);
  return {
    onProgress: (p) => {
      if (!bar) {
        if (p.totalBytes < MIN_BYTES) return;
        bar = new SingleBar({
          format: 'importing [{bar}] {percentage}% | {mib} of {totalMib} MiB | {records} lines | {eta_formatted} left',
          hideCursor: true,
          clearOnComplete: true,
          stream: process.stderr,
        });
        bar.start(p.totalBytes, 0, { mib: 0, totalMib: mib(p.totalBytes), records: 0 });
      }
      bar.update(p.bytesRead, {
        mib: mib(p.bytesRead),
        totalMib: mib(p.totalBytes),
        records: p.records.toLocaleString('en'),
      });
    },
    stop: () => bar?.stop(),
  };
}
