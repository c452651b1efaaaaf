// The dataset card (README.md) of `export --format hf`: the Hugging Face card's YAML front matter (configs with their
// data files, dataset_info with the features and the split's size) and a Markdown text with the discretion numbers of
// a stored metric run, taken from the report model (the same tables as report.md, through the same escaping: every
// name and text from the dataset goes through escapeMarkdown; the YAML is written by the yaml package, which quotes).
import { stringify } from 'yaml';
import { escapeMarkdown as md } from './escape';
import { markdownTable } from './markdown';
import type { ReportModel } from './model';
import { agreementSection, categorySection, daSection, ddSection, provenanceTable, wstarSection } from './sections';
import type { TableSpec } from './charts';
import type { TrainingCounts } from '../training';

export interface DatasetCardInput {
  /** The dataset's name in the database. */
  dataset: string;
  /** The report model of the metric run whose numbers the card shows; null when the dataset has none stored. */
  model: ReportModel | null;
  /** `dataset_info.features` (hfFeatures of the columns). */
  features: unknown[];
  /** The data files, relative to the folder. */
  files: string[];
  rows: number;
  /** Bytes of the data files. */
  bytes: number;
  /** The source of the chosen response (`adjudicated`, `majority` or an annotator). */
  source: string;
  counts: TrainingCounts;
  /** This export's pair categories, when a principle source was given. */
  categories: { source: string; consensus: number; conflict: number; indifference: number } | null;
  tool: { name: string; version: string };
  created: string;
}

const table = (t: TableSpec | undefined) => (t ? [markdownTable(t), ''] : []);

/** README.md of the dataset folder. */
export function renderDatasetCard(c: DatasetCardInput): string {
  const front = {
    pretty_name: c.dataset,
    tags: ['preference', 'rlhf', 'dpo', 'reward-modeling', 'alignment-discretion'],
    configs: [{ config_name: 'default', data_files: [{ split: 'train', path: 'data/train-*' }] }],
    dataset_info: {
      features: c.features,
      splits: [{ name: 'train', num_examples: c.rows }],
      download_size: c.bytes,
    },
  };
  const out: string[] = ['---', stringify(front, { lineWidth: 0 }).trimEnd(), '---', ''];
  out.push(`# ${md(c.dataset)}`, '');
  out.push(
    `Preference pairs exported by ${md(c.tool.name)} ${md(c.tool.version)} on ${md(c.created)}: one row per pair, ${c.rows} rows in ${c.files.length} Parquet file(s). Load it with \`datasets.load_dataset(path)\`; the \`prompt\`, \`chosen\` and \`rejected\` columns are TRL's conversational preference format (filter out the rows where \`chosen\` is null before training).`,
    '',
  );
  out.push('## Columns', '');
  out.push(
    [
      "- `idx`, `source_id`: the pair's index in the dataset and its id in the file it was imported from.",
      "- `prompt`: the prompt's turns as messages (`role`, `content`); `prompt_text`: the prompt as stored.",
      '- `response_0`, `response_1`: both responses.',
      `- \`chosen\`, \`rejected\`: the responses as assistant messages, binarised by the source ${md(c.source)} (TRL's conversational preference format); null where the source gives no side.`,
      "- `label`: the source's label (y0, y1, tie, both-bad; null: no majority or no label); `decided_by`: annotator, adjudicated or majority.",
      '- `category`: consensus, conflict or indifference under the principle source of the export (null when none was given).',
      "- `votes`: every annotator's label of the pair: `annotator`, `kind`, `label`, `principle_labels` (`list`, `principle`, `label`), `rationale`.",
    ].join('\n'),
    '',
  );
  const n = c.counts;
  out.push('## Labels', '');
  out.push(
    markdownTable({
      caption: `How the source ${c.source} decided the pairs`,
      head: ['Outcome', 'Pairs'],
      rows: [
        ['chosen and rejected set', String(n.chosen)],
        ['tie', String(n.ties)],
        ['both bad', String(n.bothBad)],
        ['no majority (human labels split)', String(n.noMajority)],
        ['no label', String(n.unlabelled)],
        ['all pairs', String(n.pairs)],
        ['pairs with an adjudicated label', String(n.adjudicated)],
        ['pairs whose side the adjudicated label decided', String(n.decidedByAdjudication)],
      ],
      numeric: [1],
    }),
    '',
  );
  if (c.categories) {
    const k = c.categories;
    out.push(
      markdownTable({
        caption: `Pair categories of this export under the principle source ${k.source}`,
        head: ['Category', 'Pairs'],
        rows: [
          ['consensus', String(k.consensus)],
          ['conflict', String(k.conflict)],
          ['indifference', String(k.indifference)],
        ],
        numeric: [1],
      }),
      '',
    );
  }
  out.push('## Discretion', '');
  const m = c.model;
  if (!m) {
    out.push(
      'No metric run of this dataset was stored when it was exported, so this card has no discretion numbers: compute them with `discretion metrics` and export again.',
      '',
    );
  } else {
    const prov = m.provenance;
    const list = `${prov.principle_list.name}${prov.principle_list.version != null ? `@${prov.principle_list.version}` : ''}`;
    out.push(
      `The numbers below are metric run ${prov.metric_run ?? '(not stored)'}${prov.metrics_created ? ` of ${md(prov.metrics_created)}` : ''}: ${prov.dataset.n_pairs} pairs, principle list ${md(list)}, reference annotator ${md(m.reference)}. They follow Buyl et al., "AI Alignment at Your Discretion" (FAccT 2025): discretion arbitrariness (DA) is the share of consensus pairs on which an annotator overrides every principle that took a side; w* are the principle priorities fitted to each annotator's conflict resolutions; the discretion discrepancy (DD) compares an annotator's principle ranking with the reference's.`,
      '',
    );
    out.push('### Principles', '');
    out.push(
      ...table({
        caption: `Principle list ${prov.principle_list.name}`,
        head: ['Id', 'Short', 'Principle'],
        rows: m.principles.map((p) => [p.id, p.short, p.text ?? '']),
      }),
    );
    out.push('### Pair categories', '', ...table(categorySection(m).charts[0]?.table));
    out.push('### Discretion arbitrariness (DA)', '', ...table(daSection(m).charts[0]?.table));
    out.push('### Principle priorities (w*)', '', ...table(wstarSection(m).charts[0]?.table));
    out.push(`### Discretion discrepancy (DD) against ${md(m.reference)}`, '', ...table(ddSection(m).charts[0]?.table));
    const ag = agreementSection(m);
    out.push('### Agreement', '');
    for (const ch of ag.charts) out.push(...table(ch.table));
    for (const t of ag.tables) out.push(...table(t));
    if (ag.charts.length === 0 && ag.tables.length === 0) out.push(md(ag.text.slice(1).join(' ')), '');
    out.push('### Provenance of the metric run', '', ...table(provenanceTable(m)));
  }
  return out.join('\n');
}
