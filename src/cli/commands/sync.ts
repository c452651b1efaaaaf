// `discretion sync --from SRC --to DST`: merges one database into another (src/app/sync.ts).
import { existsSync, realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { nameKey, pathRules, type PathRules } from '../../app/platformPaths';
import { SYNC_COUNTS, syncStores, type SyncCounts } from '../../app/sync';
import { isDatabaseUrl, redactLocation } from '../../store';
import { printJson, refusePassword, say, withExistingStore, withStore } from '../context';

const NOUNS: Record<keyof SyncCounts, [string, string]> = {
  datasets: ['dataset', 'datasets'],
  pairs: ['pair', 'pairs'],
  principle_lists: ['principle list', 'principle lists'],
  annotators: ['annotator', 'annotators'],
  preferences: ['preference', 'preferences'],
  principle_preferences: ['principle preference', 'principle preferences'],
  metric_runs: ['metric run', 'metric runs'],
};
const counts = (c: SyncCounts) => SYNC_COUNTS.map((k) => `${c[k]} ${NOUNS[k][c[k] === 1 ? 0 : 1]}`).join(', ');

/**
 * Where a location points, for telling that --from and --to are one database: a file by its real path, in the
 * letter case the file system compares (on Windows and macOS `Discretion.DB` and `discretion.db` are one file).
 */
export function databaseIdentity(location: string, rules: PathRules = pathRules()): string {
  if (isDatabaseUrl(location)) {
    try {
      const u = new URL(location);
      return `pg:${u.hostname}:${u.port || '5432'}${u.pathname}`;
    } catch {
      return location;
    }
  }
  return nameKey(existsSync(location) ? realpathSync(location) : rules.path.resolve(location), rules);
}

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description(
      'copy what one database holds and another lacks (datasets, pairs, principle lists, annotators, labels, metric runs), in one transaction; conflicts are listed, never dropped',
    )
    .requiredOption('--from <location>', 'the database read (SQLite file or postgres:// URL); never written')
    .requiredOption('--to <location>', 'the database written (SQLite file, created when missing, or postgres:// URL)')
    .option('--dataset <name>', 'only this dataset (and the annotators with labels on it)')
    .option('--json', 'one JSON document: {copied, unchanged, conflicts}')
    .action(async (o: { from: string; to: string; dataset?: string; json?: boolean }) => {
      // both before either is opened: a password in --to must not wait until --from was read
      refusePassword(o.from, '--from');
      refusePassword(o.to, '--to');
      if (databaseIdentity(o.from) === databaseIdentity(o.to))
        throw new UsageError(`--from and --to name the same database (${redactLocation(o.from)}); nothing was written`);
      const result = await withExistingStore(o.from, '--from', (src) =>
        withStore(o.to, (dst) => syncStores(src, dst, { dataset: o.dataset })),
      );
      if (o.json) return printJson(result);
      say(`synced ${redactLocation(o.from)} into ${redactLocation(o.to)}`);
      say(`copied: ${counts(result.copied)}`);
      say(`unchanged: ${counts(result.unchanged)}`);
      if (result.conflicts.length === 0) return say('no conflicts');
      say(`${result.conflicts.length} conflict${result.conflicts.length === 1 ? '' : 's'}:`);
      for (const c of result.conflicts) say(`  ${c.kind}: ${c.message}`);
    });
}
