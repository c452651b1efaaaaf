// Every aggregate's reads and writes over one connection: what an adapter spreads into its store and its
// transaction handle.
import type { StoreReads, Transaction } from '../port';
import { annotatorReads, annotatorWrites } from './annotators';
import type { SqlConnection } from './connection';
import { datasetReads, datasetWrites } from './datasets';
import { info } from './info';
import { metricRunReads, metricRunWrites } from './metricRuns';
import { preferenceReads, preferenceWrites } from './preferences';
import { principleListReads, principleListWrites } from './principleLists';
import { syncReads, syncWrites } from './sync';
import { teamReads, teamWrites } from './team';
import { workbenchReads, workbenchWrites } from './workbench';

export function sqlReads(c: SqlConnection): StoreReads {
  const base = {
    ...datasetReads(c),
    ...principleListReads(c),
    ...annotatorReads(c),
    ...preferenceReads(c),
    ...workbenchReads(c),
    ...metricRunReads(c),
    ...teamReads(c),
    ...syncReads(c),
  };
  return { ...base, info: () => info(c, base) };
}

/** The transaction handle: `reads` must be over the same connection as `c` (they see the write's own rows). */
export function sqlTransaction(c: SqlConnection, reads: StoreReads): Transaction {
  return {
    ...reads,
    ...datasetWrites(c, reads),
    ...principleListWrites(c),
    ...annotatorWrites(c, reads),
    ...preferenceWrites(c),
    ...workbenchWrites(c),
    ...metricRunWrites(c),
    ...teamWrites(c, reads),
    ...syncWrites(c),
    now: () => c.now(),
  };
}
