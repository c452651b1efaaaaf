// `discretion metrics` and `discretion runs`: compute, store and show discretion metric runs.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import type { DiscretionResult } from '../../core/metrics';
import { type AnalysisProvenance, computeMetrics } from '../../app/analysis';
import { escapeControls } from '../../core/terminalSafe';
import { printJson, say, sayLines, table, withExistingStore, withStore } from '../context';
import { dbOption } from './data';

const count = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, not "${v}"`);
  return Number(v);
};
const sourceLabel = (s: { kind: string; name?: string; annotators?: string[] }) =>
  s.kind === 'oracle'
    ? `oracle ${s.name}`
    : s.kind === 'majority'
      ? `majority of ${(s.annotators ?? []).join(', ')}`
      : s.kind;
const fmt = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? '–' : x.toFixed(digits));

/** The readable form of a metrics document. */
export function formatMetrics(result: DiscretionResult, provenance?: AnalysisProvenance, runId?: number): string {
  const out: string[] = [];
  const c = result.categories;
  // Lines outside the tables are escaped here (each one line); table() escapes its cells.
  out.push(
    escapeControls(
      `${result.n_pairs} pairs x ${result.n_principles} principles; principle source: ${sourceLabel(provenance?.principle_source ?? result.principle_source)}; reference: ${result.reference}${runId ? `; saved as run ${runId}` : ''}`,
    ),
  );
  out.push('');
  out.push(
    table(
      ['category', 'pairs', 'share %', 'SE %'],
      (['consensus', 'conflict', 'indifference'] as const).map((k) => [k, c[k], fmt(c.pct[k], 1), fmt(c.se_pct[k], 2)]),
    ),
  );
  out.push('');
  out.push(
    table(
      [
        'annotator',
        'kind',
        'DA',
        'DA 95% interval',
        'consensus pairs',
        'DD vs ' + result.reference,
        'DD bootstrap',
        'top principles',
      ],
      result.annotators.map((a) => {
        const top = a.rank
          ? a.rank
              .map((r, i) => [r, i] as const)
              .filter(([r]) => r !== null)
              .sort((x, y) => x[0]! - y[0]!)
              .slice(0, 3)
              .map(([, i]) => result.principles[i].short)
              .join(', ')
          : '–';
        return [
          a.name,
          a.kind,
          a.da === null ? `– (${a.da_reason ?? 'undefined'})` : fmt(a.da),
          a.da_boot ? `${fmt(a.da_boot.lo)}–${fmt(a.da_boot.hi)}` : '–',
          a.da_n,
          a.dd_point === null ? '–' : fmt(a.dd_point),
          a.dd_boot && a.dd_boot.mean !== null ? `${fmt(a.dd_boot.mean)} ± ${fmt(a.dd_boot.sd)}` : '–',
          top,
        ];
      }),
    ),
  );
  const groups = result.groups;
  if (groups) {
    const others = (g: number) =>
      groups.dd.groups
        .map((name, h) => (h === g ? null : `${name} ${fmt(groups.dd.matrix[g][h])}`))
        .filter((x) => x !== null)
        .join(', ');
    out.push('');
    out.push(
      table(
        ['group (pooled labels)', 'members', 'DA', 'consensus labels', 'top principles', 'DD vs other groups'],
        groups.views.map((v, g) => {
          const top = v.rank
            ? v.rank
                .map((r, i) => [r, i] as const)
                .filter(([r]) => r !== null)
                .sort((x, y) => x[0]! - y[0]!)
                .slice(0, 3)
                .map(([, i]) => result.principles[i].short)
                .join(', ')
            : '–';
          return [
            v.group,
            v.members.join(', ') || '–',
            v.da === null ? `– (${v.da_reason ?? 'undefined'})` : fmt(v.da),
            v.da_n,
            top,
            others(g) || '–',
          ];
        }),
      ),
    );
  }
  const diags = [
    ...result.diagnostics,
    ...result.annotators.flatMap((a) => a.diagnostics.map((d) => `${a.name}: ${d}`)),
    ...(groups?.views ?? []).flatMap((v) => v.diagnostics.map((d) => `group ${v.group}: ${d}`)),
  ];
  if (diags.length) out.push('', 'diagnostics:', ...diags.map((d) => `  ${escapeControls(d)}`));
  const ag = result.agreement.overall;
  if (ag)
    out.push(
      '',
      `agreement of overall preferences (${ag.raters.length} annotators, ${ag.n_items} pairs): Krippendorff's alpha ${fmt(ag.krippendorff_alpha.value)}, Fleiss' kappa ${fmt(ag.fleiss_kappa.value)}, percent agreement ${fmt(ag.percent_agreement.value)}`,
    );
  out.push('', 'full detail (PS matrices, n_ij, w*, ranks, agreement per principle): --json');
  return out.join('\n');
}

export function registerMetricsCommands(program: Command): void {
  program
    .command('metrics')
    .description('compute the discretion metrics (categories, DA, PS, w*, DD, agreement) and save them as a metric run')
    .addOption(dbOption())
    .option('--dataset <name>', 'dataset')
    .option('--principles <list>', 'principle list (name or name@version)')
    .option('--principle-source <source>', 'self | majority | majority:NAME,NAME | an oracle annotator name')
    .option('--reference <annotator>', 'reference annotator for DD', 'human')
    .option(
      '--annotators <names>',
      'comma-separated annotators to analyse (default: all with preferences on the dataset, but the review\'s "adjudicated")',
    )
    .option('--bootstrap <n>', 'DD paired-bootstrap resamples (0 = off)', count('--bootstrap'), 100)
    .option('--da-bootstrap <n>', 'DA bootstrap resamples (0 = off)', count('--da-bootstrap'), 1000)
    .option('--seed <s>', 'seed of every bootstrap', count('--seed'), 0)
    .option('--run <id>', 're-print a stored metric run instead of computing', count('--run'))
    .option('--no-save', 'do not store this run')
    .option('--json', 'print one JSON document')
    .action(
      async (o: {
        db: string;
        dataset?: string;
        principles?: string;
        principleSource?: string;
        reference: string;
        annotators?: string;
        bootstrap: number;
        daBootstrap: number;
        seed: number;
        run?: number;
        save: boolean;
        json?: boolean;
      }) => {
        if (o.run !== undefined) {
          const id = o.run;
          // Re-printing a stored run only reads the database.
          const run = await withExistingStore(o.db, '--db', (store) => store.getMetricRun(id));
          if ((run.params as { kind?: string }).kind === 'consistency')
            throw new UsageError(
              `run ${run.id} is a consistency run; show it with "discretion consistency --run ${run.id}"`,
            );
          const result = run.results as DiscretionResult;
          const provenance = (run.params as { provenance?: AnalysisProvenance }).provenance;
          if (o.json) printJson({ ...result, run_id: run.id, provenance });
          else sayLines(formatMetrics(result, provenance, run.id));
          return;
        }
        await withStore(o.db, async (store) => {
          if (!o.dataset || !o.principles || !o.principleSource)
            throw new UsageError('metrics needs --dataset, --principles and --principle-source (or --run ID)');
          const c = await computeMetrics(
            store,
            {
              dataset: o.dataset,
              principles: o.principles,
              principleSource: o.principleSource,
              reference: o.reference,
              annotators: o.annotators
                ?.split(',')
                .map((s) => s.trim())
                .filter(Boolean),
              bootstrap: o.bootstrap,
              daBootstrap: o.daBootstrap,
              seed: o.seed,
            },
            { save: o.save },
          );
          if (o.json) printJson({ ...c.result, run_id: c.runId ?? null, provenance: c.loaded.provenance });
          else sayLines(formatMetrics(c.result, c.loaded.provenance, c.runId));
          if (c.unsaved) throw new UsageError(`the metrics above were computed but not stored: ${c.unsaved.message}`);
        });
      },
    );

  program
    .command('runs')
    .description('list the stored runs (discretion metrics and consistency)')
    .addOption(dbOption())
    .option('--json', 'print as JSON')
    .action(async (o: { db: string; json?: boolean }) => {
      const runs = await withExistingStore(o.db, '--db', (store) => store.listMetricRuns());
      if (o.json) return printJson(runs);
      if (runs.length === 0) return say('no metric runs yet (run "discretion metrics")');
      sayLines(
        table(
          ['run', 'kind', 'created', 'dataset', 'principles', 'source', 'reference', 'annotators'],
          runs.map((r) => {
            const p = r.params as {
              kind?: string;
              principles?: string;
              principleSource?: string;
              reference?: string;
              annotators?: string[];
              provenance?: AnalysisProvenance & { annotators?: unknown[] };
            };
            const list = p.provenance?.principle_list;
            return [
              r.id,
              p.kind ?? 'metrics',
              r.createdAt.replace('T', ' ').slice(0, 19),
              r.datasetName ?? '–',
              list ? `${list.name}@${list.version}` : (p.principles ?? '–'),
              p.principleSource ?? '–',
              p.reference ?? '–',
              (p.annotators ?? p.provenance?.annotators ?? []).length,
            ];
          }),
        ),
      );
    });
}
