// What the Team view shows of teamStatus (src/app/team.ts), as plain rows: kept without vscode so it is
// tested alone. Names come from the data: the view sets them as labels and descriptions (plain text), never HTML.
import type { TeamStatus } from '../app/team';

export interface TeamRow {
  label: string;
  description: string;
  tooltip?: string;
}

const num = (x: number | null, digits: number) => (x === null ? '–' : x.toFixed(digits));

/** The dataset item: its overlap and labels against what the split wants. */
export function teamDatasetRow(s: TeamStatus): TeamRow {
  const k = s.split.overlap ?? 1;
  const labels = s.label_counts.reduce((n, c, i) => n + c * i, 0);
  return {
    label: s.dataset,
    description: `k=${k} · ${labels}/${s.pairs * k} labels`,
    tooltip: `${s.dataset}: ${s.pairs} pairs, ${k} label${k === 1 ? '' : 's'} per pair, handed out in ${s.split.assignment} order. ${s.da_principles === null ? 'No principle labels yet (DA so far needs them).' : `DA so far against each annotator's own principle labels of ${s.da_principles}.`}`,
  };
}

/** Pairs by how many labels they hold. */
export function labelCountsRow(s: TeamStatus): TeamRow {
  return { label: 'Pairs by labels held', description: s.label_counts.map((n, i) => `${i}: ${n}`).join(' · ') };
}

/** One annotator: live claims, labels, labels per hour, DA so far (decisive consensus pairs). */
export function memberRow(a: TeamStatus['annotators'][number]): TeamRow {
  return {
    label: a.name,
    description: `claimed ${a.claimed} · labelled ${a.labelled} · ${num(a.labels_per_hour, 1)}/h · DA ${num(a.da, 2)}${a.da === null ? '' : ` (${a.da_n})`}`,
    tooltip: `${a.name}: ${a.claimed} live claim${a.claimed === 1 ? '' : 's'}, ${a.labelled} label${a.labelled === 1 ? '' : 's'}, ${a.labels_per_hour === null ? 'labels per hour not known yet' : `${a.labels_per_hour.toFixed(1)} labels per hour`}, DA so far ${a.da === null ? 'undefined (no decisive label on a consensus pair yet)' : `${a.da.toFixed(3)} over ${a.da_n} decisive consensus pairs`}`,
  };
}

/** Cohen's kappa of every two annotators, on the pairs both labelled. */
export function kappaRows(s: TeamStatus): TeamRow[] {
  const names = s.kappa.annotators;
  const rows: TeamRow[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const shared = s.kappa.shared[i][j];
      rows.push({
        label: `${names[i]} · ${names[j]}`,
        description: `κ ${num(s.kappa.matrix[i][j], 2)} on ${shared} pair${shared === 1 ? '' : 's'}`,
      });
    }
  }
  return rows;
}
