// Team work on a dataset: the work split (overlap k and assignment order) and expiring claims on pairs, on
// any adapter. A pair is claimable by an annotator while its human labels plus the live claims of annotators
// who have not labelled it yet are fewer than k, and the annotator has not labelled it. Claims expire, so an
// absent annotator never starves the others. Claimers of one dataset take turns (SQLite's write lock; on
// PostgreSQL a transaction-scoped advisory lock, and FOR UPDATE SKIP LOCKED on the pair row claimed) for
// two statements: a read of the split and the claim floor, then the floor moved, the pick and the claim row
// (on PostgreSQL one statement, a WITH), then COMMIT.
import { UsageError } from '../../core/errors';
import type { TeamReads, TeamWrites, WorkSplit } from '../port';
import type { SqlConnection, SqlValue } from './connection';

/** Human labels on pair `p` (SQL expression). */
const HUMAN_LABELS = `(SELECT COUNT(*) FROM preferences hl JOIN annotators ha ON ha.id = hl.annotator_id WHERE hl.pair_id = p.id AND ha.kind = 'human')`;
/** Live claims on pair `p` of annotators who have not labelled it (SQL expression; one parameter: now). */
const LIVE_CLAIMS = `(SELECT COUNT(*) FROM claims lc WHERE lc.pair_id = p.id AND lc.expires_at > ?
  AND NOT EXISTS (SELECT 1 FROM preferences lp WHERE lp.pair_id = lc.pair_id AND lp.annotator_id = lc.annotator_id))`;

export function teamReads(c: SqlConnection): TeamReads {
  return {
    workSplit: async (datasetId) => {
      const r = await c.get<{ overlap: number | null; assignment: WorkSplit['assignment']; seed: number }>(
        'SELECT overlap, assignment, assignment_seed AS seed FROM datasets WHERE id = ?', [datasetId]);
      return r ?? { overlap: null, assignment: 'fixed', seed: 0 };
    },
    liveClaims: (datasetId, nowMs) => c.all(
      `SELECT p.idx AS "pairIdx", a.name AS annotator, cl.expires_at AS "expiresAt" FROM claims cl JOIN pairs p ON p.id = cl.pair_id JOIN annotators a ON a.id = cl.annotator_id
       WHERE p.dataset_id = ? AND cl.expires_at > ? ORDER BY p.idx, a.name`, [datasetId, nowMs]),
    labelCountHistogram: async (datasetId) => {
      const rows = await c.all<{ k: number; n: number }>(
        `SELECT k, COUNT(*) AS n FROM (SELECT ${HUMAN_LABELS} AS k FROM pairs p WHERE p.dataset_id = ?) counts GROUP BY k ORDER BY k`, [datasetId]);
      const out: number[] = Array.from({ length: rows.length ? rows[rows.length - 1].k + 1 : 1 }, () => 0);
      for (const r of rows) out[r.k] = r.n;
      return out;
    },
    teamProgress: async (datasetId, nowMs) => {
      const labels = await c.all<{ name: string; n: number; first: string | null; last: string | null }>(
        `SELECT a.name AS name, COUNT(*) AS n, MIN(pr.updated_at) AS first, MAX(pr.updated_at) AS last FROM preferences pr
         JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id WHERE p.dataset_id = ? AND a.kind = 'human' GROUP BY a.id, a.name`, [datasetId]);
      const claims = await c.all<{ name: string; n: number }>(
        `SELECT a.name AS name, COUNT(*) AS n FROM claims cl JOIN pairs p ON p.id = cl.pair_id JOIN annotators a ON a.id = cl.annotator_id
         WHERE p.dataset_id = ? AND cl.expires_at > ? AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = cl.pair_id AND x.annotator_id = cl.annotator_id)
         GROUP BY a.id, a.name`, [datasetId, nowMs]);
      const names = [...new Set([...labels.map((l) => l.name), ...claims.map((x) => x.name)])].sort();
      return names.map((annotator) => {
        const l = labels.find((x) => x.name === annotator);
        return { annotator, claimed: claims.find((x) => x.name === annotator)?.n ?? 0, labelled: l?.n ?? 0, firstLabelAt: l?.first ?? null, lastLabelAt: l?.last ?? null };
      });
    },
  };
}

export function teamWrites(c: SqlConnection, _reads: TeamReads): TeamWrites {
  return {
    setWorkSplit: async (datasetId, split) => {
      if (split.overlap !== null && (!Number.isInteger(split.overlap) || split.overlap < 1)) throw new UsageError(`the overlap must be a whole number of labels per pair, 1 or more, not ${split.overlap}`);
      // a new overlap may make full pairs claimable again: the claim floor starts over
      await c.run('UPDATE datasets SET overlap = ?, assignment = ?, assignment_seed = ?, claim_floor = 0 WHERE id = ?', [split.overlap, split.assignment, split.seed, datasetId]);
    },
    claimNextPair: async (datasetId, annotatorId, nowMs, ttlMs) => {
      // Claimers of one dataset take turns (until COMMIT): the room for a pair counts the claims committed
      // before the statements below, which a concurrent claimer's snapshot could miss.
      await c.serialize(`claims:${datasetId}`);
      // The split, the claim floor (migration 7: every pair below it holds `overlap` human labels) and the
      // first pair from it that is not full (or the end), from which the claim looks.
      const head = await c.get<WorkSplit & { floor: number; open: number | null; end: number }>(
        `SELECT d.overlap AS overlap, d.assignment AS assignment, d.assignment_seed AS seed, d.claim_floor AS floor,
           (SELECT p.idx FROM pairs p WHERE p.dataset_id = d.id AND p.idx >= d.claim_floor AND ${HUMAN_LABELS} < d.overlap ORDER BY p.idx LIMIT 1) AS open,
           (SELECT COALESCE(MAX(p.idx), -1) + 1 FROM pairs p WHERE p.dataset_id = d.id) AS "end"
         FROM datasets d WHERE d.id = ?`, [datasetId]);
      if (!head) return undefined;
      const from = head.overlap === null ? 0 : head.open ?? head.end;
      // The floor moves up to that pair, with the claim (the pairs it passes are passed once). Conditional: a
      // label deleted meanwhile (its trigger moved the floor back) or a new split wins.
      const floor = head.overlap !== null && from > head.floor
        ? { sql: 'UPDATE datasets SET claim_floor = ? WHERE id = ? AND claim_floor = ? AND overlap = ?', params: [from, datasetId, head.floor, head.overlap] }
        : undefined;
      // The annotator's own live claim on a pair it has not labelled (renewed), else the next pair in the
      // split's order that it has not labelled and that has room (human labels + others' live claims < k).
      const params: SqlValue[] = [annotatorId, datasetId, nowMs, datasetId, from, annotatorId, nowMs];
      let order = 'p.idx';
      if (head.assignment === 'random') {
        // A seeded permutation of the pair indices (a multiplicative hash), the same on both databases.
        order = '(CAST(p.idx AS BIGINT) * 1103515245 + ?) % 2147483647, p.idx';
        params.push(head.seed);
      } else if (head.assignment === 'least-annotated') {
        order = `${HUMAN_LABELS}, p.idx`;
      }
      const pick = `SELECT n.id AS id, n.idx AS idx FROM pairs n WHERE n.id = COALESCE(
          (SELECT cl.pair_id FROM claims cl JOIN pairs o ON o.id = cl.pair_id WHERE cl.annotator_id = ? AND o.dataset_id = ? AND cl.expires_at > ?
             AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = cl.pair_id AND x.annotator_id = cl.annotator_id) ORDER BY o.idx LIMIT 1),
          (SELECT p.id FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.dataset_id = ? AND p.idx >= ?
             AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?)
             AND (d.overlap IS NULL OR ${HUMAN_LABELS} + ${LIVE_CLAIMS} < d.overlap)
           ORDER BY ${order} LIMIT 1${c.skipLockedPairs}))`;
      const upsert = 'ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at';
      if (c.writableCtes) {
        // PostgreSQL: the floor, the pick and the claim in one statement (one round trip while the others wait)
        const row = (await c.get<{ idx: number | null; moved: number }>(
          `WITH ${floor ? `moved AS (${floor.sql} RETURNING id), ` : ''}pick AS (${pick}),
             claimed AS (INSERT INTO claims (pair_id, annotator_id, expires_at) SELECT id, ?, ? FROM pick ${upsert} RETURNING pair_id)
           SELECT (SELECT pick.idx FROM pick JOIN claimed ON claimed.pair_id = pick.id) AS idx, ${floor ? '(SELECT COUNT(*) FROM moved)' : '0'} AS moved`,
          [...(floor?.params ?? []), ...params, annotatorId, nowMs + ttlMs]))!;
        if (row.moved > 0) c.wrote('datasets');
        if (row.idx === null) return undefined;
        c.wrote('claims');
        return row.idx;
      }
      if (floor) await c.run(floor.sql, floor.params);
      const next = await c.get<{ id: number; idx: number }>(pick, params);
      if (!next) return undefined;
      await c.run(`INSERT INTO claims (pair_id, annotator_id, expires_at) VALUES (?, ?, ?) ${upsert}`, [next.id, annotatorId, nowMs + ttlMs]);
      return next.idx;
    },
    renewClaim: async (pairRowId, annotatorId, nowMs, ttlMs) => (await c.run(
      'UPDATE claims SET expires_at = ? WHERE pair_id = ? AND annotator_id = ? AND expires_at > ?', [nowMs + ttlMs, pairRowId, annotatorId, nowMs])).changes > 0,
    releaseClaims: async (datasetId, annotatorId) => (await c.run(
      `DELETE FROM claims WHERE pair_id IN (SELECT id FROM pairs WHERE dataset_id = ?)${annotatorId === undefined ? '' : ' AND annotator_id = ?'}`,
      annotatorId === undefined ? [datasetId] : [datasetId, annotatorId])).changes,
    checkRoomForLabel: async (pairRowId, annotatorId) => {
      // One submitter at a time per pair: the last label a pair needs goes to one of two people submitting at once.
      await c.serialize(`pair:${pairRowId}`);
      const r = await c.get<{ overlap: number | null; idx: number; mine: number; others: number }>(
        `SELECT d.overlap AS overlap, p.idx AS idx,
           (SELECT COUNT(*) FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?) AS mine,
           ${HUMAN_LABELS} AS others
         FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = ?`, [annotatorId, pairRowId]);
      if (!r || r.overlap === null || r.mine > 0) return;
      if (r.others >= r.overlap) {
        throw new UsageError(`pair ${r.idx} already has the ${r.overlap} label${r.overlap === 1 ? '' : 's'} it needs (its claim had expired); your label was not stored, take the next pair`);
      }
    },
  };
}
