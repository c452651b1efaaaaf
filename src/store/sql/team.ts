// Team work on a dataset: the work split (overlap k and assignment order) and expiring claims on pairs, on
// any adapter. A pair is claimable by an annotator while its human labels plus the live claims of annotators
// who have not labelled it yet are fewer than k, and the annotator has not labelled it. Claims expire, so an
// absent annotator never starves the others. Claimers of one dataset take turns (SQLite's write lock; on
// PostgreSQL a transaction-scoped advisory lock, and FOR UPDATE SKIP LOCKED on the pair row claimed).
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
  const claim = async (pairRowId: number, annotatorId: number, expiresAt: number) => {
    await c.run(
      'INSERT INTO claims (pair_id, annotator_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at',
      [pairRowId, annotatorId, expiresAt]);
  };
  /**
   * Moves the dataset's claim floor (migration 7: every pair below it holds `overlap` human labels) up to
   * `open`, the first pair from the floor that does not (undefined: none does); its new value. Under the
   * claimers' lock. The pairs it passes are passed once (the floor only moves forward here), so claims no
   * longer probe every full pair from the first. The update is conditional: a label deleted meanwhile (its
   * trigger moved the floor back) or a new split wins.
   */
  const moveClaimFloor = async (datasetId: number, overlap: number, floor: number, open: number | null): Promise<number> => {
    const next = open ?? (await c.get<{ n: number }>('SELECT COALESCE(MAX(idx), -1) + 1 AS n FROM pairs WHERE dataset_id = ?', [datasetId]))!.n;
    if (next === floor) return floor;
    const moved = await c.run('UPDATE datasets SET claim_floor = ? WHERE id = ? AND claim_floor = ? AND overlap = ?', [next, datasetId, floor, overlap]);
    return moved.changes > 0 ? next : floor;
  };
  return {
    setWorkSplit: async (datasetId, split) => {
      if (split.overlap !== null && (!Number.isInteger(split.overlap) || split.overlap < 1)) throw new UsageError(`the overlap must be a whole number of labels per pair, 1 or more, not ${split.overlap}`);
      // a new overlap may make full pairs claimable again: the claim floor starts over
      await c.run('UPDATE datasets SET overlap = ?, assignment = ?, assignment_seed = ?, claim_floor = 0 WHERE id = ?', [split.overlap, split.assignment, split.seed, datasetId]);
    },
    claimNextPair: async (datasetId, annotatorId, nowMs, ttlMs) => {
      // Claimers of one dataset take turns (a claim is a few milliseconds): the room for a pair counts the
      // claims committed before this statement, which a concurrent claimer's snapshot could miss.
      await c.serialize(`claims:${datasetId}`);
      // One round trip for the split, the claim floor, the annotator's own live claim and the first pair from
      // the floor that is not full (every statement here is waited for by the other claimers).
      const head = (await c.get<WorkSplit & { floor: number; ownIdx: number | null; open: number | null }>(
        `SELECT d.overlap AS overlap, d.assignment AS assignment, d.assignment_seed AS seed, d.claim_floor AS floor,
           (SELECT p.idx FROM claims cl JOIN pairs p ON p.id = cl.pair_id WHERE cl.annotator_id = ? AND p.dataset_id = d.id AND cl.expires_at > ?
              AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?) ORDER BY p.idx LIMIT 1) AS "ownIdx",
           (SELECT p.idx FROM pairs p WHERE p.dataset_id = d.id AND p.idx >= d.claim_floor AND ${HUMAN_LABELS} < d.overlap ORDER BY p.idx LIMIT 1) AS open
         FROM datasets d WHERE d.id = ?`, [annotatorId, nowMs, annotatorId, datasetId]))
        ?? { overlap: null, assignment: 'fixed', seed: 0, floor: 0, ownIdx: null, open: null };
      const split: WorkSplit = head;
      if (head.ownIdx !== null) {
        const own = (await c.get<{ id: number }>('SELECT id FROM pairs WHERE dataset_id = ? AND idx = ?', [datasetId, head.ownIdx]))!;
        await claim(own.id, annotatorId, nowMs + ttlMs);
        return head.ownIdx;
      }
      let floor = 0;
      if (split.overlap !== null) floor = await moveClaimFloor(datasetId, split.overlap, head.floor, head.open);
      const params: SqlValue[] = [datasetId, floor, annotatorId];
      let room = '';
      if (split.overlap !== null) {
        room = `AND ${HUMAN_LABELS} + ${LIVE_CLAIMS} < ?`;
        params.push(nowMs, split.overlap);
      }
      let order = 'p.idx';
      if (split.assignment === 'random') {
        // A seeded permutation of the pair indices (a multiplicative hash), the same on both databases.
        order = '(CAST(p.idx AS BIGINT) * 1103515245 + ?) % 2147483647, p.idx';
        params.push(split.seed);
      } else if (split.assignment === 'least-annotated') {
        order = `${HUMAN_LABELS}, p.idx`;
      }
      const next = await c.get<{ id: number; idx: number }>(
        `SELECT p.id, p.idx FROM pairs p WHERE p.dataset_id = ? AND p.idx >= ?
         AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?) ${room}
         ORDER BY ${order} LIMIT 1${c.skipLockedPairs}`, params);
      if (!next) return undefined;
      await claim(next.id, annotatorId, nowMs + ttlMs);
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
