// Datasets and their pairs, on SQLite.
import { UsageError } from '../../core/errors';
import type { Pair } from '../../core/types';
import { json, requireNamed } from '../common';
import type { DatasetReads, DatasetRow, DatasetWrites, StoredPair } from '../port';
import type { SqlConnection } from './connection';

export interface PairRecord {
  id: number;
  idx: number;
  source_id: string;
  prompt: string;
  y0: string;
  y1: string;
  meta: string | null;
}
const toPair = (r: PairRecord): Pair => ({
  idx: r.idx,
  sourceId: r.source_id,
  prompt: r.prompt,
  y0: r.y0,
  y1: r.y1,
  meta: r.meta ? JSON.parse(r.meta) : undefined,
});
export const toStoredPair = (r: PairRecord): StoredPair => ({ pairRowId: r.id, ...toPair(r) });

export function datasetReads(c: SqlConnection): DatasetReads {
  const getDataset = async (name: string): Promise<DatasetRow | undefined> => {
    const row = await c.get<{
      id: number;
      name: string;
      format: string;
      source_path: string | null;
      content_hash: string | null;
      created_at: string;
    }>('SELECT * FROM datasets WHERE name = ?', [name]);
    return (
      row && {
        id: row.id,
        name: row.name,
        format: row.format,
        sourcePath: row.source_path,
        contentHash: row.content_hash,
        createdAt: row.created_at,
      }
    );
  };
  return {
    getDataset,
    requireDataset: async (name) =>
      requireNamed('dataset', name, await getDataset(name), async () =>
        (await c.all<{ name: string }>('SELECT name FROM datasets ORDER BY name')).map((r) => r.name),
      ),
    countPairs: async (datasetId) =>
      (await c.get<{ n: number }>('SELECT COUNT(*) AS n FROM pairs WHERE dataset_id = ?', [datasetId]))!.n,
    pairRowIds: async (datasetId) => {
      const rows = await c.all<{ id: number; idx: number }>('SELECT id, idx FROM pairs WHERE dataset_id = ?', [
        datasetId,
      ]);
      return new Map(rows.map((r) => [r.idx, r.id]));
    },
    listPairs: async (datasetId, offset, limit) =>
      (
        await c.all<PairRecord>(
          'SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? ORDER BY idx LIMIT ? OFFSET ?',
          [datasetId, limit, offset],
        )
      ).map(toStoredPair),
    pairSourceIds: (datasetId) =>
      c.all('SELECT idx AS "pairIdx", source_id AS "sourceId" FROM pairs WHERE dataset_id = ?', [datasetId]),
    pairsByIndex: async (datasetId, indices) => {
      const out: Pair[] = [];
      for (let i = 0; i < indices.length; i += 500) {
        const chunk = indices.slice(i, i + 500);
        const rows = await c.all<PairRecord>(
          `SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? AND idx IN (${chunk.map(() => '?').join(',')})`,
          [datasetId, ...chunk],
        );
        for (const r of rows) out.push(toPair(r));
      }
      return out;
    },
  };
}

export function datasetWrites(c: SqlConnection, reads: DatasetReads): DatasetWrites {
  return {
    createDataset: async (name, format, sourcePath) => {
      if (await reads.getDataset(name))
        throw new UsageError(`dataset "${name}" already exists; choose another dataset name`, 'dataset');
      return c.insertId('INSERT INTO datasets (name, format, source_path, created_at) VALUES (?, ?, ?, ?)', [
        name,
        format,
        sourcePath,
        c.now(),
      ]);
    },
    setDatasetHash: async (datasetId, contentHash) => {
      await c.run('UPDATE datasets SET content_hash = ? WHERE id = ?', [contentHash, datasetId]);
    },
    // Under the writers' lock on pair ids, ids from here on are this writer's to assign.
    nextPairRowId: async () => {
      await c.serialize('pairs');
      return ((await c.get<{ m: number | null }>('SELECT MAX(id) AS m FROM pairs'))?.m ?? 0) + 1;
    },
    // A uniqueness check in the database (conflict 'ignore' on (dataset_id, source_id)) keeps the importer's
    // memory flat however large the file; the ids not inserted are the duplicates.
    insertPairs: async (datasetId, pairs, pairRowIds) => {
      const inserted = await c.insertRows(
        'pairs',
        ['id', 'dataset_id', 'idx', 'source_id', 'prompt', 'y0', 'y1', 'meta'],
        pairs.map((p, i) => [
          pairRowIds[i],
          datasetId,
          p.idx,
          p.sourceId,
          p.prompt,
          p.y0,
          p.y1,
          json(p.meta && Object.keys(p.meta).length ? p.meta : null),
        ]),
        'ignore',
      );
      if (inserted === pairs.length) return [];
      const present = new Set(
        (
          await c.all<{ id: number }>('SELECT id FROM pairs WHERE id BETWEEN ? AND ?', [
            pairRowIds[0],
            pairRowIds[pairRowIds.length - 1],
          ])
        ).map((r) => r.id),
      );
      const duplicates: { pair: Pair; firstIdx: number }[] = [];
      for (let i = 0; i < pairs.length; i++) {
        if (present.has(pairRowIds[i])) continue;
        const first = await c.get<{ idx: number }>('SELECT idx FROM pairs WHERE dataset_id = ? AND source_id = ?', [
          datasetId,
          pairs[i].sourceId,
        ]);
        duplicates.push({ pair: pairs[i], firstIdx: first!.idx });
      }
      return duplicates;
    },
  };
}
