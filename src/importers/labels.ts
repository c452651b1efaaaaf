// Human labels (the workbench's own format, also what the bundled sample labels use): one JSON line
// per pair: {"pair": SOURCE_ID, "overall": "y0"|"y1"|"tie"|"both-bad", "principles": {ID: "y0"|"y1"|"neither"}, "rationale": "..."}.
import { basename } from 'node:path';
import { storableText } from '../core/conversation';
import { InputError, UsageError } from '../core/errors';
import { LABEL_OVERALL, LABEL_PRINCIPLE, isLabelOverallWord, isLabelPrincipleWord } from '../core/preferences';
import type { OverallPreference, PrinciplePreference } from '../core/types';
import type { Store } from '../store';
import {
  ErrorPolicy,
  type ImportSummary,
  type OnError,
  parseJsonRecord,
  type ReadOptions,
  resolveLimits,
  throwIfCancelled,
} from './common';
import { readLineBatches } from './files';

export async function importLabels(
  store: Store,
  opts: ReadOptions & { file: string; dataset: string; principles: string; annotator: string; onError?: OnError },
): Promise<ImportSummary> {
  const policy = new ErrorPolicy(opts.onError ?? 'fail');
  const limits = resolveLimits(opts.limits);
  const dataset = await store.requireDataset(opts.dataset);
  const list = await store.requirePrincipleList(opts.principles);
  const positions = new Map(list.principles.map((p, i) => [p.id, i]));
  const bySource = new Map<string, number>();
  for (const p of await store.pairSourceIds(dataset.id)) bySource.set(p.sourceId, p.pairIdx);
  const pairRowIds = await store.pairRowIds(dataset.id);
  const overall: OverallPreference[] = [];
  const principle: PrinciplePreference[] = [];
  const seen = new Map<number, number>();
  for await (const lines of readLineBatches(opts.file, { limits, onProgress: opts.onProgress, signal: opts.signal })) {
    for (const { line, text } of lines) {
      if (text.trim() === '') continue;
      policy.attempt(() => {
        const ctx = { file: opts.file, line, index: line - 1 };
        const r = parseJsonRecord(ctx, text, limits);
        const source = r.pair;
        if (typeof source !== 'string' && typeof source !== 'number')
          throw new InputError(opts.file, line, 'pair', "missing (the pair's source id)");
        const pairIdx = bySource.get(String(source));
        if (pairIdx === undefined)
          throw new InputError(opts.file, line, 'pair', `"${source}" is not a pair of dataset "${opts.dataset}"`);
        if (seen.has(pairIdx))
          throw new InputError(
            opts.file,
            line,
            'pair',
            `duplicate label for "${source}" (first on line ${seen.get(pairIdx)})`,
          );
        const choice = r.overall;
        if (!isLabelOverallWord(choice))
          throw new InputError(opts.file, line, 'overall', `must be one of ${Object.keys(LABEL_OVERALL).join(', ')}`);
        const grid = r.principles ?? {};
        if (typeof grid !== 'object' || Array.isArray(grid))
          throw new InputError(opts.file, line, 'principles', 'must be an object {principle id: "y0"|"y1"|"neither"}');
        const cells: PrinciplePreference[] = [];
        for (const [key, v] of Object.entries(grid as Record<string, unknown>)) {
          const position = positions.get(key);
          if (position === undefined)
            throw new InputError(opts.file, line, `principles.${key}`, `not a principle of list "${list.name}"`);
          if (!isLabelPrincipleWord(v))
            throw new InputError(opts.file, line, `principles.${key}`, 'must be "y0", "y1" or "neither"');
          cells.push({ pairIdx, principleIndex: position, value: LABEL_PRINCIPLE[v] });
        }
        const rationale = r.rationale;
        if (rationale !== undefined && typeof rationale !== 'string')
          throw new InputError(opts.file, line, 'rationale', 'must be a string');
        if (rationale) storableText({ file: opts.file, line }, 'rationale', rationale);
        seen.set(pairIdx, line);
        overall.push({ pairIdx, value: LABEL_OVERALL[choice], raw: { choice }, rationale: rationale || null });
        principle.push(...cells);
      });
    }
  }
  throwIfCancelled(opts.signal, opts.file);
  if (overall.length === 0) throw new InputError(opts.file, null, null, 'the file holds no labels');
  await store.write(async (tx) => {
    const annotator = await tx.ensureAnnotator(opts.annotator, 'human', { source: basename(opts.file) });
    const existing = await tx.pairsWithPreference(dataset.id, annotator.id);
    if (existing.size > 0)
      throw new UsageError(
        `annotator "${opts.annotator}" already has ${existing.size} labels on dataset "${opts.dataset}"`,
      );
    await tx.insertPreferences(annotator.id, overall, (pairIdx) => pairRowIds.get(pairIdx)!);
    await tx.insertPrinciplePreferences(
      annotator.id,
      principle,
      (pairIdx) => pairRowIds.get(pairIdx)!,
      await tx.principleRowIds(list.id),
    );
  });
  return {
    kind: 'labels',
    file: opts.file,
    dataset: opts.dataset,
    imported: overall.length,
    counts: { preferences: overall.length, principlePreferences: principle.length },
    skipped: policy.skipped,
    notes: [],
  };
}
