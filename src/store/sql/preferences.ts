// Overall and principle-specific preferences, and the workbench's label history, on SQLite.
import { json } from '../common';
import type {
  LabelHistoryAction,
  LabelState,
  LabelOfPair,
  PreferenceReads,
  PreferenceWrites,
  PrinciplePreferenceForPair,
} from '../port';
import { toStoredPair, type PairRecord } from './datasets';
import type { StoredPreference } from '../../core/preferences';
import type { SqlConnection } from './connection';

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(',');

export function preferenceReads(c: SqlConnection): PreferenceReads {
  return {
    pairsWithPreference: async (datasetId, annotatorId) =>
      new Set(
        (
          await c.all<{ idx: number }>(
            'SELECT p.idx FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ? AND pr.annotator_id = ?',
            [datasetId, annotatorId],
          )
        ).map((r) => r.idx),
      ),
    countPrinciplePreferences: async (datasetId, annotatorId, listId) =>
      (await c.get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id WHERE p.dataset_id = ? AND pp.annotator_id = ? AND pr.list_id = ?',
        [datasetId, annotatorId, listId],
      ))!.n,
    overallPreferences: async (datasetId) =>
      (
        await c.all<{ a: number; idx: number; v: StoredPreference }>(
          'SELECT pr.annotator_id AS a, p.idx AS idx, pr.value AS v FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ?',
          [datasetId],
        )
      ).map((r) => ({ annotatorId: r.a, pairIdx: r.idx, value: r.v })),
    preferenceDetails: async (datasetId) =>
      c.all(
        `SELECT pr.annotator_id AS "annotatorId", p.idx AS "pairIdx", pr.value AS value, pr.score_y0 AS "scoreY0", pr.score_y1 AS "scoreY1", pr.raw AS raw
       FROM preferences pr JOIN pairs p ON p.id = pr.pair_id WHERE p.dataset_id = ?`,
        [datasetId],
      ),
    principlePreferences: async (datasetId, listId) =>
      (
        await c.all<{ a: number; idx: number; pos: number; v: StoredPreference }>(
          `SELECT pp.annotator_id AS a, p.idx AS idx, pr.position AS pos, pp.value AS v
       FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN principles pr ON pr.id = pp.principle_id
       WHERE p.dataset_id = ? AND pr.list_id = ?`,
          [datasetId, listId],
        )
      ).map((r) => ({ annotatorId: r.a, pairIdx: r.idx, position: r.pos, value: r.v })),
    preferencesForPairs: async (pairRowIds) =>
      pairRowIds.length === 0
        ? []
        : c.all(
            `SELECT pr.pair_id AS "pairRowId", a.name AS annotator, a.kind AS kind, pr.value AS value, pr.score_y0 AS "scoreY0", pr.score_y1 AS "scoreY1",
              pr.raw AS raw, pr.shown_first AS "shownFirst", pr.rationale AS rationale, pr.flagged AS flagged
       FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE pr.pair_id IN (${placeholders(pairRowIds.length)}) ORDER BY a.id`,
            pairRowIds,
          ),
    pairsWithLabels: async (datasetId, afterIdx, limit) => {
      const pairs = (
        await c.all<PairRecord>(
          'SELECT id, idx, source_id, prompt, y0, y1, meta FROM pairs WHERE dataset_id = ? AND idx > ? ORDER BY idx LIMIT ?',
          [datasetId, afterIdx, limit],
        )
      ).map(toStoredPair);
      if (pairs.length === 0) return { pairs, preferences: [], principlePreferences: [] };
      const range = [datasetId, afterIdx, pairs[pairs.length - 1]!.idx];
      const [preferences, principlePreferences] = await Promise.all([
        c.all<LabelOfPair>(
          `SELECT pr.pair_id AS "pairRowId", pr.annotator_id AS "annotatorId", pr.value AS value, pr.raw AS raw, pr.rationale AS rationale
       FROM pairs p JOIN preferences pr ON pr.pair_id = p.id WHERE p.dataset_id = ? AND p.idx > ? AND p.idx <= ?`,
          range,
        ),
        c.all<PrinciplePreferenceForPair>(
          `SELECT pp.pair_id AS "pairRowId", a.name AS annotator, l.name AS list, l.version AS "listVersion", pr.key AS key, pr.position AS position, pp.value AS value
       FROM pairs p JOIN principle_preferences pp ON pp.pair_id = p.id JOIN annotators a ON a.id = pp.annotator_id
         JOIN principles pr ON pr.id = pp.principle_id JOIN principle_lists l ON l.id = pr.list_id
       WHERE p.dataset_id = ? AND p.idx > ? AND p.idx <= ? ORDER BY pp.pair_id, a.id, pr.position`,
          range,
        ),
      ]);
      return { pairs, preferences, principlePreferences };
    },
    principlePreferencesForPairs: async (pairRowIds) =>
      pairRowIds.length === 0
        ? []
        : c.all(
            `SELECT pp.pair_id AS "pairRowId", a.name AS annotator, l.name AS list, l.version AS "listVersion", pr.key AS key, pr.position AS position, pp.value AS value
       FROM principle_preferences pp JOIN annotators a ON a.id = pp.annotator_id JOIN principles pr ON pr.id = pp.principle_id JOIN principle_lists l ON l.id = pr.list_id
       WHERE pp.pair_id IN (${placeholders(pairRowIds.length)}) ORDER BY a.id, pr.position`,
            pairRowIds,
          ),
    labelState: async (annotatorId, pairRowId) => {
      const pref = await c.get<LabelState['preference'] & object>(
        'SELECT value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at FROM preferences WHERE annotator_id = ? AND pair_id = ?',
        [annotatorId, pairRowId],
      );
      const principles = await c.all<LabelState['principles'][number]>(
        'SELECT principle_id, value, prob_a, prob_b, prob_na, shown_first, raw, created_at FROM principle_preferences WHERE annotator_id = ? AND pair_id = ? ORDER BY principle_id',
        [annotatorId, pairRowId],
      );
      return { preference: pref ?? null, principles };
    },
    labelHistory: async (annotatorId) =>
      (
        await c.all<{
          id: number;
          pair_id: number;
          action: LabelHistoryAction;
          before_state: string;
          after_state: string;
          undone: number;
        }>(
          'SELECT id, pair_id, action, before_state, after_state, undone FROM label_history WHERE annotator_id = ? ORDER BY id',
          [annotatorId],
        )
      ).map((r) => ({
        id: r.id,
        pairRowId: r.pair_id,
        action: r.action,
        before: JSON.parse(r.before_state),
        after: JSON.parse(r.after_state),
        undone: r.undone === 1,
      })),
  };
}

export function preferenceWrites(c: SqlConnection): PreferenceWrites {
  return {
    insertPreferences: (annotatorId, prefs, pairRowId, options = {}) => {
      const t = c.now();
      return c.insertRows(
        'preferences',
        [
          'annotator_id',
          'pair_id',
          'value',
          'score_y0',
          'score_y1',
          'raw',
          'shown_first',
          'rationale',
          'flagged',
          'created_at',
          'updated_at',
        ],
        prefs.map((p) => [
          annotatorId,
          pairRowId(p.pairIdx),
          p.value,
          p.scoreY0 ?? null,
          p.scoreY1 ?? null,
          json(p.raw),
          p.shownFirst ?? null,
          p.rationale ?? null,
          p.flagged ? 1 : 0,
          t,
          t,
        ]),
        options.existing === 'skip' ? 'ignore' : 'fail',
      );
    },
    insertPrinciplePreferences: (annotatorId, prefs, pairRowId, principleRowIds, options = {}) => {
      const t = c.now();
      return c.insertRows(
        'principle_preferences',
        [
          'annotator_id',
          'pair_id',
          'principle_id',
          'value',
          'prob_a',
          'prob_b',
          'prob_na',
          'shown_first',
          'raw',
          'created_at',
        ],
        prefs.map((p) => [
          annotatorId,
          pairRowId(p.pairIdx),
          principleRowIds[p.principleIndex],
          p.value,
          p.probA ?? null,
          p.probB ?? null,
          p.probNA ?? null,
          p.shownFirst ?? null,
          json(p.raw),
          t,
        ]),
        options.existing === 'skip' ? 'ignore' : 'fail',
      );
    },
    putLabelState: async (annotatorId, pairRowId, state) => {
      await c.run('DELETE FROM principle_preferences WHERE annotator_id = ? AND pair_id = ?', [annotatorId, pairRowId]);
      await c.run('DELETE FROM preferences WHERE annotator_id = ? AND pair_id = ?', [annotatorId, pairRowId]);
      const p = state.preference;
      if (p) {
        await c.run(
          'INSERT INTO preferences (annotator_id, pair_id, value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            annotatorId,
            pairRowId,
            p.value,
            p.score_y0,
            p.score_y1,
            p.raw,
            p.shown_first,
            p.rationale,
            p.flagged,
            p.created_at,
            p.updated_at,
          ],
        );
      }
      for (const q of state.principles) {
        await c.run(
          'INSERT INTO principle_preferences (annotator_id, pair_id, principle_id, value, prob_a, prob_b, prob_na, shown_first, raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [
            annotatorId,
            pairRowId,
            q.principle_id,
            q.value,
            q.prob_a,
            q.prob_b,
            q.prob_na,
            q.shown_first,
            q.raw,
            q.created_at,
          ],
        );
      }
    },
    appendLabelHistory: (annotatorId, pairRowId, action, before, after) =>
      c.insertId(
        'INSERT INTO label_history (annotator_id, pair_id, action, before_state, after_state, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [annotatorId, pairRowId, action, JSON.stringify(before), JSON.stringify(after), c.now()],
      ),
    takeLastSubmission: async (annotatorId, datasetId) => {
      const h = await c.get<{ id: number; pair_id: number; before_state: string; idx: number }>(
        `SELECT h.id, h.pair_id, h.before_state, p.idx FROM label_history h JOIN pairs p ON p.id = h.pair_id
         WHERE h.annotator_id = ? AND p.dataset_id = ? AND h.action = 'submit' AND h.undone = 0
           -- a submission that a sync merge followed on its pair is no longer the label there (undo would drop the merged one)
           AND NOT EXISTS (SELECT 1 FROM label_history m WHERE m.annotator_id = h.annotator_id AND m.pair_id = h.pair_id AND m.action = 'merge' AND m.id > h.id)
         ORDER BY h.id DESC LIMIT 1`,
        [annotatorId, datasetId],
      );
      if (!h) return undefined;
      await c.run('UPDATE label_history SET undone = 1 WHERE id = ?', [h.id]);
      return { pairRowId: h.pair_id, pairIdx: h.idx, before: JSON.parse(h.before_state) as LabelState };
    },
  };
}
