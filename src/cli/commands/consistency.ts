// `discretion consistency`, `discretion ensemble` and `discretion annotators set-group`: the
// consistency suite (../shared/spec/consistency-metrics.md) over the store.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { PATTERNS } from '../../core/consistency';
import {
  computeConsistency,
  createEnsemble,
  setAnnotatorGroup,
  storedConsistency,
  type ConsistencyDocument,
} from '../../app/consistency';
import { escapeControls } from '../../core/terminalSafe';
import { printJson, say, sayLines, table, withExistingStore, withStore } from '../context';
import { dbOption } from './data';

const numberList = (name: string) => (v: string) => {
  const xs = v.split(',').map((s) => s.trim());
  const out = xs.map(Number);
  if (xs.length === 0 || xs.some((s) => s === '') || out.some((x) => !Number.isFinite(x) || x < 0))
    throw new UsageError(`${name} takes comma-separated numbers >= 0, not "${v}"`);
  return out;
};
const positive = (name: string) => (v: string) => {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x <= 0)
    throw new UsageError(`${name} must be a number > 0, not "${v}"`);
  return x;
};
const nonNegative = (name: string) => (v: string) => {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0)
    throw new UsageError(`${name} must be a number >= 0, not "${v}"`);
  return x;
};
const whole = (name: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new UsageError(`${name} must be a whole number, not "${v}"`);
  return Number(v);
};
const names = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const fmt = (x: number | null | undefined, digits = 3) =>
  x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits);

/** The readable form of a consistency document. */
export function formatConsistency(d: ConsistencyDocument): string {
  // Lines outside the tables are escaped here (each one line); table() escapes its cells.
  const out: string[] = [
    escapeControls(
      `consistency of dataset "${d.dataset}" (${d.provenance.dataset.n_pairs} pairs); reference: ${d.reference}${d.run_id ? `; saved as run ${d.run_id}` : ''}`,
    ),
    '',
  ];
  const why = (k: string) => (d.reasons[k] ? escapeControls(`  (${d.reasons[k]})`) : '');
  out.push('order consistency of two-order judges' + why('order_consistency'));
  if (d.order_consistency.length) {
    out.push(
      table(
        [
          'judge',
          'pairs',
          'missing',
          'PC',
          'conflict',
          'primacy',
          'recency',
          'PF',
          ...PATTERNS,
          'pos. bias',
          'no choice',
          'mixed',
        ],
        d.order_consistency.map((o) => [
          o.annotator,
          o.n,
          o.missing,
          fmt(o.pc),
          fmt(o.conflict_rate),
          fmt(o.primacy_rate),
          fmt(o.recency_rate),
          fmt(o.pf),
          ...PATTERNS.map((p) => o.patterns[p]),
          o.no_preference.position_bias,
          o.no_preference.no_choice,
          o.no_preference.mixed,
        ]),
      ),
    );
  }
  out.push('', 'multiplicity across model annotators' + why('multiplicity'));
  const m = d.multiplicity;
  if (m) {
    out.push(
      escapeControls(
        `${m.n_pairs} pairs; baseline ${m.baseline ?? '–'}; losses: ${m.members.map((n) => `${n} ${fmt(m.losses[n], 4)}`).join(', ')}`,
      ),
    );
    out.push(
      table(
        [
          'epsilon',
          'Rashomon set',
          'mean width',
          'flip ambiguity',
          ...(m.by_epsilon[0]?.by_delta.flatMap((b) => [`ambiguity d=${b.delta}`, `discrepancy d=${b.delta}`]) ?? []),
        ],
        m.by_epsilon.map((e) => [
          e.epsilon,
          e.set.join(', '),
          fmt(e.mean_width),
          fmt(e.flip_ambiguity),
          ...e.by_delta.flatMap((b) => [fmt(b.ambiguity), fmt(b.discrepancy)]),
        ]),
      ),
    );
  }
  out.push('', 'ranking accuracy of policy models' + why('ranking_accuracy'));
  if (d.ranking_accuracy.length)
    out.push(
      table(
        ['policy', 'pairs', 'R', 'ties'],
        d.ranking_accuracy.map((r) => [r.annotator, r.n, fmt(r.r), r.ties]),
      ),
    );
  out.push('', 'internal consistency (judge vs likelihood)' + why('internal_consistency'));
  if (d.internal_consistency.length) {
    out.push(
      table(
        ['model', 'beta', 'pairs', 'decisive', 'agreement', 'mean sym. KL'],
        d.internal_consistency.map((r) => [
          r.annotator,
          r.beta,
          r.n,
          r.n_decisive,
          fmt(r.agreement),
          fmt(r.mean_symmetric_kl, 4),
        ]),
      ),
    );
    out.push(escapeControls(`  note: ${d.internal_consistency[0]!.note}`));
  }
  out.push('', 'inconsistency between groups' + why('group_inconsistency'));
  const g = d.group_inconsistency;
  if (g) {
    out.push(...Object.entries(g.groups).map(([k, v]) => escapeControls(`  ${k}: ${v.join(', ')}`)));
    out.push(
      escapeControls(
        `  GDI ${fmt(g.gdi, 4)} over ${g.n_pairs} pairs; null (${g.null.kind}, ${g.null.n} assignments) mean ${fmt(g.null.mean, 4)}; excess ${fmt(g.excess, 4)}; p = ${fmt(g.p_value, 4)}`,
      ),
    );
  }
  out.push('', 'full detail: --json');
  return out.join('\n');
}

export function registerConsistencyCommands(program: Command): void {
  program
    .command('consistency')
    .description(
      'order consistency of judges, multiplicity, ranking accuracy, internal consistency and group inconsistency; saved as a run',
    )
    .addOption(dbOption())
    .option('--dataset <name>', 'dataset')
    .option('--reference <annotator>', 'reference annotator for multiplicity and ranking accuracy (default: human)')
    .option(
      '--models <names>',
      'comma-separated multiplicity members (default: every reward model and LLM judge giving P(y1 > y0))',
      names,
    )
    .option('--epsilon <list>', 'Rashomon epsilons in nats', numberList('--epsilon'))
    .option('--delta <list>', 'ambiguity / discrepancy thresholds', numberList('--delta'))
    .option('--beta <b>', 'likelihood-margin scale for policy models', positive('--beta'), 0.1)
    .option('--seed <s>', 'seed of the sampled group null', whole('--seed'), 0)
    .option('--run <id>', 're-print a stored consistency run instead of computing', whole('--run'))
    .option('--no-save', 'do not store this run')
    .option('--json', 'print one JSON document (schema discretion-consistency/1)')
    .action(
      async (o: {
        db: string;
        dataset?: string;
        reference?: string;
        models?: string[];
        epsilon?: number[];
        delta?: number[];
        beta: number;
        seed: number;
        run?: number;
        save: boolean;
        json?: boolean;
      }) => {
        const run = o.run;
        let doc: ConsistencyDocument;
        // Re-printing a stored run only reads the database.
        if (run !== undefined) doc = await withExistingStore(o.db, '--db', (store) => storedConsistency(store, run));
        else {
          const dataset = o.dataset;
          if (!dataset) throw new UsageError('consistency needs --dataset (or --run ID)');
          doc = await withStore(o.db, (store) =>
            computeConsistency(
              store,
              {
                dataset,
                reference: o.reference,
                models: o.models,
                epsilons: o.epsilon,
                deltas: o.delta,
                beta: o.beta,
                seed: o.seed,
              },
              { save: o.save },
            ),
          );
        }
        if (o.json) printJson(doc);
        else sayLines(formatConsistency(doc));
      },
    );

  program
    .command('ensemble')
    .description('create an ensemble annotator (kind "ensemble") from reward models\' standardised scores')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .requiredOption('--name <name>', 'name of the new annotator')
    .requiredOption('--method <method>', 'mean | worst-case | uncertainty-weighted')
    .option('--lambda <l>', 'uncertainty weight (uncertainty-weighted only; default 0.5)', nonNegative('--lambda'))
    .requiredOption('--members <names>', 'comma-separated member annotators with scores (at least two)', names)
    .option('--json', 'print the result as JSON')
    .action(
      async (o: {
        db: string;
        dataset: string;
        name: string;
        method: string;
        lambda?: number;
        members: string[];
        json?: boolean;
      }) => {
        const r = await withStore(o.db, (store) =>
          createEnsemble(store, {
            dataset: o.dataset,
            name: o.name,
            method: o.method,
            lambda: o.lambda,
            members: o.members,
          }),
        );
        if (o.json) return printJson(r);
        say(
          r.created
            ? `created ensemble "${r.name}" on dataset "${o.dataset}": ${r.pairs} pairs, ${r.decisive} decisive`
            : `ensemble "${r.name}" already exists with these arguments; nothing changed`,
        );
      },
    );

  const annotators = program.command('annotators').description('manage annotators');
  annotators
    .command('set-group <names...>')
    .description('put annotators in a group (for the inconsistency between groups), or --clear it')
    .addOption(dbOption())
    .option('--group <group>', 'group label (a region, an expertise, "reward-models")')
    .option('--clear', 'remove the annotators from any group')
    .action(async (list: string[], o: { db: string; group?: string; clear?: boolean }) => {
      if ((o.group === undefined) === !o.clear)
        throw new UsageError('set-group needs exactly one of --group G and --clear');
      const rows = await withStore(o.db, (store) => setAnnotatorGroup(store, list, o.clear ? null : o.group!));
      say(
        o.clear
          ? `cleared the group of ${rows.map((r) => r.name).join(', ')}`
          : `group "${rows[0]!.group}": ${rows.map((r) => r.name).join(', ')}`,
      );
    });
}
