// `discretion team split|status|release`: a lead's commands for team annotation on a shared database.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { teamStatus } from '../../app/team';
import { ASSIGNMENT_ORDERS, type WorkSplit } from '../../store/port';
import { printJson, say, sayLines, table, withExistingStore, withStore } from '../context';
import { dbOption } from './data';

const fmt = (x: number | null, digits = 2) => (x === null ? '–' : x.toFixed(digits));

export function registerTeamCommands(program: Command): void {
  const team = program.command('team').description('team annotation on a shared database: the work split, progress and claims');

  team.command('split').description('set how a dataset is split between annotators: labels wanted per pair (overlap) and the order pairs are handed out')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--overlap <k>', 'labels wanted per pair (1 or more), or "none" for no split (every annotator labels every pair)', '1')
    .option('--order <order>', `assignment order: ${ASSIGNMENT_ORDERS.join(', ')}`, 'fixed')
    .option('--seed <s>', 'seed of the random order', '0')
    .action(async (o: { db: string; dataset: string; overlap: string; order: string; seed: string }) => {
      const overlap = o.overlap === 'none' ? null : /^\d+$/.test(o.overlap) && Number(o.overlap) >= 1 ? Number(o.overlap) : undefined;
      if (overlap === undefined) throw new UsageError(`--overlap must be a whole number of labels per pair, 1 or more, or "none", not "${o.overlap}"`);
      if (!(ASSIGNMENT_ORDERS as readonly string[]).includes(o.order)) throw new UsageError(`--order must be one of ${ASSIGNMENT_ORDERS.join(', ')}, not "${o.order}"`);
      if (!/^\d+$/.test(o.seed)) throw new UsageError(`--seed must be a whole number, not "${o.seed}"`);
      const split: WorkSplit = { overlap, assignment: o.order as WorkSplit['assignment'], seed: Number(o.seed) };
      await withStore(o.db, async (store) => {
        const d = await store.requireDataset(o.dataset);
        await store.write((tx) => tx.setWorkSplit(d.id, split));
      });
      say(overlap === null ? `dataset "${o.dataset}": no split; every annotator labels every pair`
        : `dataset "${o.dataset}": ${overlap} label${overlap === 1 ? '' : 's'} per pair, handed out in ${o.order} order${o.order === 'random' ? ` (seed ${o.seed})` : ''}`);
    });

  team.command('status').description('per annotator: live claims, labels, labels per hour; pairs by how many labels they hold; pairwise agreement (Cohen\'s kappa)')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--json', 'one JSON document (schema discretion-team-status/1)')
    .action(async (o: { db: string; dataset: string; json?: boolean }) => {
      const s = await withExistingStore(o.db, '--db', (store) => teamStatus(store, o.dataset));
      if (o.json) return printJson(s);
      const k = s.split.overlap;
      say(`dataset "${s.dataset}": ${s.pairs} pairs; ${k === null ? 'no split (every annotator labels every pair)' : `${k} label${k === 1 ? '' : 's'} per pair, ${s.split.assignment} order`}`);
      say(`pairs by labels held: ${s.label_counts.map((n, i) => `${i}: ${n}`).join(', ')}`);
      say('');
      sayLines(table(['annotator', 'claimed', 'labelled', 'labels/hour', 'DA so far'], s.annotators.map((a) => [a.name, a.claimed, a.labelled, fmt(a.labels_per_hour, 1), a.da === null ? '–' : `${fmt(a.da)} (${a.da_n})`])));
      if (s.da_principles !== null) say(`DA so far: against each annotator's own principle labels of ${s.da_principles} (decisive consensus pairs in brackets)`);
      if (s.kappa.annotators.length > 1) {
        say('');
        say("Cohen's kappa of overall labels on the pairs both labelled:");
        sayLines(table(['', ...s.kappa.annotators], s.kappa.annotators.map((name, i) => [name, ...s.kappa.matrix[i].map((x, j) => (i === j ? '–' : `${fmt(x)} (${s.kappa.shared[i][j]})`))])));
      }
    });

  team.command('release').description('release live claims on a dataset (one annotator\'s, or everyone\'s), so their pairs go back to the queue')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--annotator <name>', 'only this annotator\'s claims')
    .action(async (o: { db: string; dataset: string; annotator?: string }) => {
      const n = await withStore(o.db, async (store) => {
        const d = await store.requireDataset(o.dataset);
        const a = o.annotator === undefined ? undefined : (await store.requireAnnotator(o.annotator)).id;
        return store.write((tx) => tx.releaseClaims(d.id, a));
      });
      say(`released ${n} claim${n === 1 ? '' : 's'} on dataset "${o.dataset}"${o.annotator ? ` held by ${o.annotator}` : ''}`);
    });
}
