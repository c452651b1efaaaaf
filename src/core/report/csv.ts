// pairs.csv: one row per pair: category and consensus sign of each principle source, each principle's
// preference, every annotator's preference, and whether it overrode a consensus. Cells through csvCell only.

import { CATEGORY_NAMES, categorizePairs } from '../metrics/categories';
import { csvCell } from './escape';
import { findOverrides, type PairData } from './model';

export function renderPairsCsv(data: PairData, principles: { id: string; short: string }[]): string {
  const m = principles.length;
  const multi = data.sources.length > 1;
  const suffix = (s: number) => (multi ? `:${data.sources[s]!.label}` : '');
  const head: string[] = ['pair_index', 'source_id'];
  data.sources.forEach((_, s) => {
    head.push(`category${suffix(s)}`, `consensus_sign${suffix(s)}`);
    for (const p of principles) head.push(`principle:${p.short || p.id}${suffix(s)}`);
  });
  for (const a of data.annotators) head.push(`pref:${a.name}`);
  for (const a of data.annotators) head.push(`overrode:${a.name}`);
  const { byPair } = findOverrides(data, m);
  const categories = data.sources.map((s) => categorizePairs(s.matrix, data.nPairs, m));
  const lines: string[] = [head.map(csvCell).join(',')];
  const row: (string | number)[] = [];
  for (let k = 0; k < data.nPairs; k++) {
    row.length = 0;
    row.push(data.pairIdxs?.[k] ?? k, data.sourceIds?.[k] ?? String(k));
    data.sources.forEach((s, q) => {
      const c = categories[q]!;
      row.push(CATEGORY_NAMES[c.category[k]!]!, c.sign[k]!);
      for (let i = 0; i < m; i++) row.push(s.matrix[k * m + i]!);
    });
    for (const a of data.annotators) row.push(a.overall[k]!);
    const who = byPair.get(k);
    data.annotators.forEach((a, q) => {
      if ((data.annotatorSource[q] ?? -1) < 0) row.push('');
      else row.push(who?.some((o) => o.name === a.name) ? 1 : 0);
    });
    lines.push(row.map((v) => (typeof v === 'number' ? String(v) : csvCell(v))).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
