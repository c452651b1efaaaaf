// The annotation workbench's queue walks, progress counts and saved positions, on SQLite.

import type { WorkbenchReads, WorkbenchWrites } from '../port';
import type { SqlConnection, SqlValue } from './connection';
import { toStoredPair } from './datasets';

export function workbenchReads(c: SqlConnection): WorkbenchReads {
  return {
    workbenchPair: async (datasetId, idx, dir = 0) => {
      const op = dir === 0 ? '=' : dir === 1 ? '>' : '<';
      const r = await c.get<{
        id: number;
        idx: number;
        source_id: string;
        prompt: string;
        y0: string;
        y1: string;
        meta: string | null;
      }>(
        `SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? AND idx ${op} ? ORDER BY idx ${dir === -1 ? 'DESC' : 'ASC'} LIMIT 1`,
        [datasetId, idx],
      );
      return r && toStoredPair(r);
    },
    workbenchQueueIdx: async (datasetId, annotatorId, fromIdx, dir, queue) => {
      const op = dir === 1 ? '>' : '<';
      const order = dir === 1 ? 'ASC' : 'DESC';
      let where = '';
      const params: SqlValue[] = [datasetId, fromIdx];
      if (queue.kind === 'disagree') {
        where = `AND EXISTS (SELECT 1 FROM preferences a JOIN preferences m ON m.pair_id = a.pair_id
                   WHERE a.pair_id = p.id AND a.annotator_id = ? AND m.annotator_id = ? AND a.value IS NOT NULL AND m.value IS NOT NULL AND a.value <> m.value)`;
        params.push(annotatorId, queue.modelId);
      } else if (queue.kind === 'conflict') {
        where = `AND EXISTS (SELECT 1 FROM principle_preferences x WHERE x.pair_id = p.id AND x.annotator_id = ? AND x.value = 1)
                 AND EXISTS (SELECT 1 FROM principle_preferences y WHERE y.pair_id = p.id AND y.annotator_id = ? AND y.value = -1)`;
        params.push(annotatorId, annotatorId);
      }
      return (
        await c.get<{ idx: number }>(
          `SELECT p.idx FROM pairs p WHERE p.dataset_id = ? AND p.idx ${op} ? ${where} ORDER BY p.idx ${order} LIMIT 1`,
          params,
        )
      )?.idx;
    },
    firstUnlabelledIdx: async (datasetId, annotatorId) =>
      (
        await c.get<{ idx: number }>(
          'SELECT p.idx FROM pairs p WHERE p.dataset_id = ? AND NOT EXISTS (SELECT 1 FROM preferences pr WHERE pr.pair_id = p.id AND pr.annotator_id = ?) ORDER BY p.idx LIMIT 1',
          [datasetId, annotatorId],
        )
      )?.idx,
    // Through the by-annotator index (migration 3), not by probing every pair of the dataset.
    labelledCount: async (datasetId, annotatorId) =>
      (await c.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ? AND pr.annotator_id = ?',
        [datasetId, annotatorId],
      ))!.n,
    workbenchPosition: async (annotatorId, datasetId) =>
      (
        await c.get<{ pair_idx: number }>(
          'SELECT pair_idx FROM workbench_positions WHERE annotator_id = ? AND dataset_id = ?',
          [annotatorId, datasetId],
        )
      )?.pair_idx,
    datasetProgress: async () => {
      const ds = await c.all<{ id: number; name: string; n: number }>(
        'SELECT d.id, d.name, (SELECT COUNT(*) FROM pairs p WHERE p.dataset_id = d.id) AS n FROM datasets d ORDER BY d.id',
      );
      // through the view label_progress (migration 9): every member's counts, also for an annotator who reads only her own labels
      const counts = await c.all<{ d: number; name: string; n: number }>(
        'SELECT dataset_id AS d, annotator AS name, labelled AS n FROM label_progress ORDER BY annotator',
      );
      return ds.map((d) => ({
        id: d.id,
        name: d.name,
        total: d.n,
        annotators: counts.filter((x) => x.d === d.id).map((x) => ({ name: x.name, labelled: x.n })),
      }));
    },
  };
}

export function workbenchWrites(c: SqlConnection): WorkbenchWrites {
  return {
    setWorkbenchPosition: async (annotatorId, datasetId, pairIdx) => {
      await c.run(
        'INSERT INTO workbench_positions (annotator_id, dataset_id, pair_idx, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (annotator_id, dataset_id) DO UPDATE SET pair_idx = excluded.pair_idx, updated_at = excluded.updated_at',
        [annotatorId, datasetId, pairIdx, c.now()],
      );
    },
  };
}
