// Saved metric runs (parameters, input hashes, results), on SQLite.
import { UsageError } from '../../core/errors';

import type { MetricRunReads, MetricRunWrites } from '../port';
import type { SqlConnection } from './connection';

export function metricRunReads(c: SqlConnection): MetricRunReads {
  return {
    listMetricRuns: async () =>
      (
        await c.all<{
          id: number;
          created_at: string;
          dataset: string | null;
          tool_version: string;
          params: string;
          input_hashes: string;
        }>(
          'SELECT m.id, m.created_at, d.name AS dataset, m.tool_version, m.params, m.input_hashes FROM metric_runs m LEFT JOIN datasets d ON d.id = m.dataset_id ORDER BY m.id',
        )
      ).map((r) => ({
        id: r.id,
        createdAt: r.created_at,
        datasetName: r.dataset,
        toolVersion: r.tool_version,
        params: JSON.parse(r.params),
        inputHashes: JSON.parse(r.input_hashes),
      })),
    getMetricRun: async (id) => {
      const r = await c.get<{
        id: number;
        created_at: string;
        dataset: string | null;
        tool_version: string;
        params: string;
        input_hashes: string;
        results: string;
      }>(
        'SELECT m.*, d.name AS dataset FROM metric_runs m LEFT JOIN datasets d ON d.id = m.dataset_id WHERE m.id = ?',
        [id],
      );
      if (!r) throw new UsageError(`no metric run with id ${id} (list them with "discretion runs")`);
      return {
        id: r.id,
        createdAt: r.created_at,
        datasetName: r.dataset,
        toolVersion: r.tool_version,
        params: JSON.parse(r.params),
        inputHashes: JSON.parse(r.input_hashes),
        results: JSON.parse(r.results),
      };
    },
  };
}

export function metricRunWrites(c: SqlConnection): MetricRunWrites {
  return {
    insertMetricRun: (datasetId, toolVersion, params, inputHashes, results) =>
      c.insertId(
        'INSERT INTO metric_runs (created_at, dataset_id, tool_version, params, input_hashes, results) VALUES (?, ?, ?, ?, ?, ?)',
        [c.now(), datasetId, toolVersion, JSON.stringify(params), JSON.stringify(inputHashes), JSON.stringify(results)],
      ),
  };
}
