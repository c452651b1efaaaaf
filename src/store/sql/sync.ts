// What `discretion sync` (src/app/sync.ts) reads and writes beyond the other aggregates: whole rows, by
// pages, on any adapter. The rows keep their timestamps, so a label copied to another database is the
// same label there (the sync's event id of a label is derived from its content and timestamps).
import type {
  DatasetRow,
  LabelState,
  PreferenceRow,
  PrincipleIdentity,
  PrinciplePreferenceRow,
  SyncReads,
  SyncWrites,
} from '../port';
import type { SqlConnection } from './connection';
import { toStoredPair } from './datasets';

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');
const CHUNK = 500;

async function chunked<T>(ids: number[], query: (chunk: number[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) out.push(...(await query(ids.slice(i, i + CHUNK))));
  return out;
}

const PREFERENCE_COLUMNS = [
  'pair_id',
  'annotator_id',
  'value',
  'score_y0',
  'score_y1',
  'raw',
  'shown_first',
  'rationale',
  'flagged',
  'created_at',
  'updated_at',
] as const;
const PRINCIPLE_COLUMNS = [
  'pair_id',
  'annotator_id',
  'principle_id',
  'value',
  'prob_a',
  'prob_b',
  'prob_na',
  'shown_first',
  'raw',
  'created_at',
] as const;

export function syncReads(c: SqlConnection): SyncReads {
  return {
    listDatasets: async () =>
      (
        await c.all<{
          id: number;
          name: string;
          format: string;
          source_path: string | null;
          content_hash: string | null;
          created_at: string;
        }>('SELECT id, name, format, source_path, content_hash, created_at FROM datasets ORDER BY id')
      ).map((r): DatasetRow => ({
        id: r.id,
        name: r.name,
        format: r.format,
        sourcePath: r.source_path,
        contentHash: r.content_hash,
        createdAt: r.created_at,
      })),
    pairsAfter: async (datasetId, afterIdx, limit) =>
      (
        await c.all<{
          id: number;
          idx: number;
          source_id: string;
          prompt: string;
          y0: string;
          y1: string;
          meta: string | null;
        }>(
          'SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? AND idx > ? ORDER BY idx LIMIT ?',
          [datasetId, afterIdx, limit],
        )
      ).map(toStoredPair),
    principleIdentities: () =>
      c.all<PrincipleIdentity>(
        `SELECT p.id AS id, l.id AS "listId", l.name AS list, l.version AS version, l.content_hash AS "contentHash", p.key AS key, p.position AS position
       FROM principles p JOIN principle_lists l ON l.id = p.list_id ORDER BY l.name, l.version, p.position`,
      ),
    labelRows: async (pairRowIds) => ({
      preferences: await chunked(pairRowIds, (ids) =>
        c.all<PreferenceRow>(
          `SELECT ${PREFERENCE_COLUMNS.join(', ')} FROM preferences WHERE pair_id IN (${placeholders(ids.length)}) ORDER BY pair_id, annotator_id`,
          ids,
        ),
      ),
      principles: await chunked(pairRowIds, (ids) =>
        c.all<PrinciplePreferenceRow>(
          `SELECT ${PRINCIPLE_COLUMNS.join(', ')} FROM principle_preferences WHERE pair_id IN (${placeholders(ids.length)}) ORDER BY pair_id, annotator_id, principle_id`,
          ids,
        ),
      ),
    }),
    labelHistoryOfPairs: async (pairRowIds) =>
      (
        await chunked(pairRowIds, (ids) =>
          c.all<{
            id: number;
            annotator_id: number;
            pair_id: number;
            before_state: string | null;
            after_state: string | null;
          }>(
            `SELECT id, annotator_id, pair_id, before_state, after_state FROM label_history WHERE pair_id IN (${placeholders(ids.length)})`,
            ids,
          ),
        )
      )
        .sort((a, b) => a.id - b.id)
        .map((r) => ({
          annotatorId: r.annotator_id,
          pairRowId: r.pair_id,
          before: parseState(r.before_state),
          after: parseState(r.after_state),
        })),
  };
}

function parseState(text: string | null): LabelState {
  const s = text ? (JSON.parse(text) as LabelState | null) : null;
  return { preference: s?.preference ?? null, principles: s?.principles ?? [] };
}

export function syncWrites(c: SqlConnection): SyncWrites {
  return {
    insertLabelRows: async (preferences, principles) => {
      if (preferences.length)
        await c.insertRows(
          'preferences',
          PREFERENCE_COLUMNS,
          preferences.map((r) => PREFERENCE_COLUMNS.map((k) => r[k])),
        );
      if (principles.length)
        await c.insertRows(
          'principle_preferences',
          PRINCIPLE_COLUMNS,
          principles.map((r) => PRINCIPLE_COLUMNS.map((k) => r[k])),
        );
    },
    insertMetricRunAt: (createdAt, datasetId, toolVersion, params, inputHashes, results) =>
      c.insertId(
        'INSERT INTO metric_runs (created_at, dataset_id, tool_version, params, input_hashes, results) VALUES (?, ?, ?, ?, ?, ?)',
        [
          createdAt,
          datasetId,
          toolVersion,
          JSON.stringify(params),
          JSON.stringify(inputHashes),
          JSON.stringify(results),
        ],
      ),
  };
}
