// `discretion review list|adjudicate`: the review queue of pairs whose human labels disagree, and the lead's
// adjudicated label (src/app/review.ts).
import type { Command } from 'commander';
import { adjudicate, ADJUDICATOR, reviewDocument, reviewQueue } from '../../app/review';
import { printJson, say, sayLines, table, withExistingStore, withStore } from '../context';
import { dbOption } from './data';

const firstLine = (text: string, max = 100) => {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

export function registerReviewCommands(program: Command): void {
  const review = program
    .command('review')
    .description(
      'the review queue: pairs whose human labels disagree, and adjudicated labels (annotator "adjudicated")',
    );

  review
    .command('list')
    .description(
      "pairs whose human labels disagree (overall, or on one principle), every annotator's label and rationale side by side",
    )
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--principle <key>', 'review the labels of this principle (its key, e.g. p3) instead of the overall labels')
    .option('--pending', 'only the pairs not adjudicated yet')
    .option('--json', 'one JSON document (schema discretion-review/1)')
    .action(async (o: { db: string; dataset: string; principle?: string; pending?: boolean; json?: boolean }) => {
      const q = await withExistingStore(o.db, '--db', (store) =>
        reviewQueue(store, o.dataset, { principle: o.principle, pendingOnly: o.pending }),
      );
      if (o.json) return printJson(reviewDocument(q));
      const what = q.principle === null ? 'overall labels' : `labels of principle ${q.principle}`;
      say(
        `dataset "${q.dataset}": ${q.disagreeing} of ${q.pairs} pairs where the human ${what} disagree; ${q.adjudicated} adjudicated`,
      );
      for (const item of q.items) {
        say('');
        say(`pair ${item.pair} (index ${item.pairIdx}): ${firstLine(item.prompt)}`);
        const rows = item.labels.map((l) => [
          l.annotator,
          q.principle === null ? l.overall || '–' : `${l.principle || '–'} (overall ${l.overall || '–'})`,
          `${l.flagged ? '[flagged] ' : ''}${firstLine(l.rationale ?? '', 160) || '–'}`,
        ]);
        rows.push([
          ADJUDICATOR,
          item.adjudicated?.label ?? 'pending',
          firstLine(item.adjudicated?.rationale ?? '', 160) || '–',
        ]);
        sayLines(table(['annotator', q.principle === null ? 'label' : q.principle, 'rationale'], rows));
      }
      if (q.items.length > 0) {
        say('');
        say(
          `adjudicate with: discretion review adjudicate --dataset ${JSON.stringify(q.dataset)} --pair ID --label ${q.principle === null ? 'y0|y1|tie|both-bad' : `y0|y1|neither --principle ${q.principle}`} [--rationale TEXT]`,
        );
      }
    });

  review
    .command('adjudicate')
    .description(
      `store the adjudicated label of a pair as annotator "${ADJUDICATOR}" (kind adjudicator); every original label stays`,
    )
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .requiredOption('--pair <id>', 'the pair\'s source id, as "review list" shows it')
    .requiredOption('--label <word>', 'y0, y1, tie or both-bad (with --principle: y0, y1 or neither)')
    .option('--principle <key>', "adjudicate this principle's label instead of the overall label")
    .option('--rationale <text>', 'why')
    .action(
      async (o: {
        db: string;
        dataset: string;
        pair: string;
        label: string;
        principle?: string;
        rationale?: string;
      }) => {
        const r = await withStore(o.db, (store) =>
          adjudicate(store, {
            dataset: o.dataset,
            pair: o.pair,
            label: o.label,
            principle: o.principle,
            rationale: o.rationale,
          }),
        );
        say(
          `dataset "${o.dataset}" pair ${r.pair}: adjudicated ${o.principle === undefined ? '' : `principle ${o.principle} `}${r.label}${r.previous !== null ? ` (was ${r.previous})` : ''}`,
        );
      },
    );
}
