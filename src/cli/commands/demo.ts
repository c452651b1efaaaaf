// `discretion demo`: runs the demo's steps (src/app/demo.ts) and prints what each principle source found.
import type { Command } from 'commander';
import { join } from 'node:path';
import { DEMO_REFERENCE, percent, runDemo } from '../../app/demo';
import { say, sayLines, table } from '../context';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the whole job on the bundled sample data and write the reports to ./discretion-report/')
    .option('--out <dir>', 'output folder', 'discretion-report')
    .action(async (o: { out: string }) => {
      const started = Date.now();
      const demo = await runDemo(o.out, say);
      for (const [source, r] of demo.results) {
        say('');
        const pooled = r.categories.pooled_over
          ? ` (pair x annotator, pooled over ${r.categories.pooled_over.join(' and ')})`
          : ' pairs';
        say(
          `principle source "${source}": ${r.categories.consensus} consensus, ${r.categories.conflict} conflict, ${r.categories.indifference} indifference${pooled}`,
        );
        sayLines(
          table(
            ['annotator', 'kind', 'DA (overrode a consensus)', `DD vs ${DEMO_REFERENCE}`],
            r.annotators.map((a) => [
              a.name,
              a.kind,
              a.da === null ? '–' : `${percent(a.da)} of ${a.da_n}`,
              a.dd_point === null ? '–' : a.dd_point.toFixed(3),
            ]),
          ),
        );
        for (const a of r.annotators)
          if (a.da === null || a.dd_point === null) say(`  – ${a.name}: ${a.da_reason ?? a.dd_reason ?? 'undefined'}`);
      }
      say('');
      say(
        `report: ${join(demo.out, 'report.html')} (also report.md, metrics.json, pairs.csv; the "self" report in ${demo.selfDir})`,
      );
      say(`database: ${demo.dbPath}   (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    });
}
