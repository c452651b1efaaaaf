// Team work on a dataset: the work split (overlap k and assignment order) and expiring claims on pairs, on
// any adapter. A pair is claimable by an annotator while its human labels plus the live claims of annotators
// who have not labelled it yet are fewer than k, and the annotator has not labelled it. Claims expire, so an
// absent annotator never starves the others. Claimers of one dataset take turns (SQLite's write lock; on
// PostgreSQL a transaction-scoped advisory lock, and FOR UPDATE SKIP LOCKED on the pair row claimed) for
// two statements: a read of the split and the claim floor, then the floor moved, the pick and the claim row
// (on PostgreSQL one statement, a WITH), then COMMIT.
import { UsageError } from '../../core/errors';
import { PairFullError, type TeamReads, type TeamWrites, type WorkSplit } from '../port';
import type { SqlConnection, SqlValue } from './connection';

/**
 * A pair's claim rank, its place in the assignment order (SQL expression over `idx`; two parameters: the
 * order and its seed). Random: a seeded permutation of the indices (a multiplicative hash modulo the prime
 * 2^31 - 1, so no two pairs share a rank), the same on both databases; otherwise the index itself.
 */
const CLAIM_RANK = `CASE WHEN ? = 'random' THEN (CAST(idx AS BIGINT) * 1103515245 + ?) % 2147483647 ELSE idx END`;
/**
 * Writes the claim rank of the dataset's pairs (all of them, or those without one) in the split's order; the
 * claim floors start over, since a pair may now rank below them. Then the planner's statistics, so the claims'
 * plans read the claim-rank index.
 */
async function rankPairs(
  c: SqlConnection,
  datasetId: number,
  split: Pick<WorkSplit, 'assignment' | 'seed'>,
  which: 'all' | 'unranked',
): Promise<void> {
  if (which === 'unranked' && c.definerFunctions) {
    // the same ranks (migration 9's discretion_rank_unranked writes CLAIM_RANK's expression), by any member
    await c.run('SELECT discretion_rank_unranked(?)', [datasetId]);
    c.wrote('pairs');
    await c.analyze('pairs');
    return;
  }
  await c.run(
    `UPDATE pairs SET claim_rank = ${CLAIM_RANK} WHERE dataset_id = ?${which === 'unranked' ? ' AND claim_rank IS NULL' : ''}`,
    [split.assignment, split.seed, datasetId],
  );
  await c.run('UPDATE datasets SET claim_floor = 0 WHERE id = ?', [datasetId]);
  await c.run('DELETE FROM claim_floors WHERE dataset_id = ?', [datasetId]);
  await c.analyze('pairs');
}
/**
 * Human labels on pair `p` (SQL expression). Through the view human_labels (migration 9): on PostgreSQL it
 * counts everyone's labels with the owner's rights, where a team's annotator reads only her own rows.
 */
const HUMAN_LABELS = `(SELECT COUNT(*) FROM human_labels hl WHERE hl.pair_id = p.id)`;
/** Live claims on pair `p` of annotators who have not labelled it (SQL expression; one parameter: now). Through the view claim_holds, likewise. */
const LIVE_CLAIMS = `(SELECT COUNT(*) FROM claim_holds lc WHERE lc.pair_id = p.id AND lc.expires_at > ?)`;

/** The annotator's live claim on a pair of the dataset it has not labelled (FROM ... LIMIT 1; parameters: annotator, dataset, now). */
const OWN_CLAIM = `FROM claims cl JOIN pairs o ON o.id = cl.pair_id WHERE cl.annotator_id = ? AND o.dataset_id = ? AND cl.expires_at > ?
  AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = cl.pair_id AND x.annotator_id = cl.annotator_id) ORDER BY o.idx LIMIT 1`;

/**
 * least-annotated: the first pair by claim rank among those with the fewest human labels and others' live
 * claims that the annotator may claim. Level by level (L = 0 .. k-1), each from its own floor (claim_floors:
 * every pair ranked below it holds more than L labels; claims expire, so they do not move it), which moves
 * up to the first pair holding L labels or fewer: a claim reads a few pairs from an index instead of
 * counting the labels of every pair. Under the claimers' lock.
 */
async function pickLeastAnnotated(
  c: SqlConnection,
  datasetId: number,
  annotatorId: number,
  nowMs: number,
  overlap: number,
  end: number,
): Promise<{ id: number; idx: number } | undefined> {
  const floors = new Map(
    (
      await c.all<{ level: number; floor: number }>('SELECT level, floor FROM claim_floors WHERE dataset_id = ?', [
        datasetId,
      ])
    ).map((r) => [r.level, r.floor]),
  );
  for (let level = 0; level < overlap; level++) {
    const floor = floors.get(level) ?? 0;
    const open =
      (
        await c.get<{ rank: number }>(
          `SELECT p.claim_rank AS rank FROM pairs p WHERE p.dataset_id = ? AND p.claim_rank >= ? AND ${HUMAN_LABELS} <= ? ORDER BY p.claim_rank LIMIT 1`,
          [datasetId, floor, level],
        )
      )?.rank ?? end;
    if (open > floor && c.definerFunctions) {
      // checked against the labels and conditional, with the owner's rights (migration 9)
      await c.run('SELECT discretion_move_level_floor(?, ?, ?, ?)', [
        datasetId,
        level,
        floors.has(level) ? floor : null,
        open,
      ]);
      c.wrote('claim_floors');
    } else if (open > floor) {
      // conditional, as the claim floor: a label deleted meanwhile (its trigger moved the floor back) wins
      if (floors.has(level))
        await c.run('UPDATE claim_floors SET floor = ? WHERE dataset_id = ? AND level = ? AND floor = ?', [
          open,
          datasetId,
          level,
          floor,
        ]);
      else
        await c.run(
          'INSERT INTO claim_floors (dataset_id, level, floor) VALUES (?, ?, ?) ON CONFLICT (dataset_id, level) DO NOTHING',
          [datasetId, level, open],
        );
    }
    if (open >= end) continue;
    // a pair's level counts the others' live claims too: annotators claiming at once spread over the pairs
    // (a pair's second claim waits until every pair has a first), and level < k leaves room for this claim
    const next = await c.get<{ id: number; idx: number }>(
      `SELECT p.id AS id, p.idx AS idx FROM pairs p WHERE p.dataset_id = ? AND p.claim_rank >= ? AND ${HUMAN_LABELS} + ${LIVE_CLAIMS} = ?
         AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?)
       ORDER BY p.claim_rank LIMIT 1${c.skipLockedPairs}`,
      [datasetId, open, nowMs, level, annotatorId],
    );
    if (next) return next;
  }
  return undefined;
}

export function teamReads(c: SqlConnection): TeamReads {
  return {
    workSplit: async (datasetId) => {
      const r = await c.get<{ overlap: number | null; assignment: WorkSplit['assignment']; seed: number }>(
        'SELECT overlap, assignment, assignment_seed AS seed FROM datasets WHERE id = ?',
        [datasetId],
      );
      return r ?? { overlap: null, assignment: 'fixed', seed: 0 };
    },
    liveClaims: (datasetId, nowMs) =>
      c.all(
        `SELECT p.idx AS "pairIdx", a.name AS annotator, cl.expires_at AS "expiresAt" FROM claims cl JOIN pairs p ON p.id = cl.pair_id JOIN annotators a ON a.id = cl.annotator_id
       WHERE p.dataset_id = ? AND cl.expires_at > ? ORDER BY p.idx, a.name`,
        [datasetId, nowMs],
      ),
    labelCountHistogram: async (datasetId) => {
      const rows = await c.all<{ k: number; n: number }>(
        `SELECT k, COUNT(*) AS n FROM (SELECT ${HUMAN_LABELS} AS k FROM pairs p WHERE p.dataset_id = ?) counts GROUP BY k ORDER BY k`,
        [datasetId],
      );
      const out: number[] = Array.from({ length: rows.length ? rows[rows.length - 1].k + 1 : 1 }, () => 0);
      for (const r of rows) out[r.k] = r.n;
      return out;
    },
    teamProgress: async (datasetId, nowMs) => {
      // through the views (migration 9): counts of everyone's labels and claims, whoever reads them
      const labels = await c.all<{ name: string; n: number; first: string | null; last: string | null }>(
        'SELECT annotator AS name, labelled AS n, first_at AS first, last_at AS last FROM label_progress WHERE dataset_id = ?',
        [datasetId],
      );
      const claims = await c.all<{ name: string; n: number }>(
        'SELECT annotator AS name, COUNT(*) AS n FROM claim_progress WHERE dataset_id = ? AND expires_at > ? GROUP BY annotator',
        [datasetId, nowMs],
      );
      const names = [...new Set([...labels.map((l) => l.name), ...claims.map((x) => x.name)])].sort();
      return names.map((annotator) => {
        const l = labels.find((x) => x.name === annotator);
        return {
          annotator,
          claimed: claims.find((x) => x.name === annotator)?.n ?? 0,
          labelled: l?.n ?? 0,
          firstLabelAt: l?.first ?? null,
          lastLabelAt: l?.last ?? null,
        };
      });
    },
    claimFreedInMs: async (datasetId, annotatorId, nowMs) =>
      (
        await c.get<{ t: number | null }>(
          `SELECT MIN(h.expires_at) - ? AS t FROM claim_holds h JOIN pairs p ON p.id = h.pair_id WHERE p.dataset_id = ? AND h.expires_at > ?
         AND NOT EXISTS (SELECT 1 FROM claims own WHERE own.pair_id = h.pair_id AND own.annotator_id = ?)
         AND NOT EXISTS (SELECT 1 FROM preferences mine WHERE mine.pair_id = h.pair_id AND mine.annotator_id = ?)`,
          [nowMs, datasetId, nowMs, annotatorId, annotatorId],
        )
      )?.t ?? undefined,
  };
}

export function teamWrites(c: SqlConnection, _reads: TeamReads): TeamWrites {
  return {
    setWorkSplit: async (datasetId, split) => {
      if (split.overlap !== null && (!Number.isInteger(split.overlap) || split.overlap < 1))
        throw new UsageError(`the overlap must be a whole number of labels per pair, 1 or more, not ${split.overlap}`);
      // a new overlap may make full pairs claimable again, a new order ranks the pairs anew: the claim floor starts over
      await c.run('UPDATE datasets SET overlap = ?, assignment = ?, assignment_seed = ? WHERE id = ?', [
        split.overlap,
        split.assignment,
        split.seed,
        datasetId,
      ]);
      await rankPairs(c, datasetId, split, 'all');
    },
    claimNextPair: async (datasetId, annotatorId, nowMs, ttlMs) => {
      // Claimers of one dataset take turns (until COMMIT): the room for a pair counts the claims committed
      // before the statements below, which a concurrent claimer's snapshot could miss.
      await c.serialize(`claims:${datasetId}`);
      // The split, the claim floor (a claim rank, migrations 7 and 8: every pair ranked below it holds
      // `overlap` human labels), the first pair from it that is not full (or the end), from which the claim
      // looks, and whether some pairs have no rank yet.
      const headSql = `SELECT d.overlap AS overlap, d.assignment AS assignment, d.assignment_seed AS seed, d.claim_floor AS floor,
           (SELECT p.claim_rank FROM pairs p WHERE p.dataset_id = d.id AND p.claim_rank >= d.claim_floor AND ${HUMAN_LABELS} < d.overlap ORDER BY p.claim_rank LIMIT 1) AS open,
           (SELECT COALESCE(MAX(p.claim_rank), -1) + 1 FROM pairs p WHERE p.dataset_id = d.id) AS "end",
           (SELECT COUNT(*) FROM (SELECT 1 FROM pairs p WHERE p.dataset_id = d.id AND p.claim_rank IS NULL LIMIT 1) u) AS unranked
         FROM datasets d WHERE d.id = ?`;
      let head = await c.get<WorkSplit & { floor: number; open: number | null; end: number; unranked: number }>(
        headSql,
        [datasetId],
      );
      if (!head) return undefined;
      if (head.unranked > 0) {
        // pairs of a database from before migration 8 (or added since the split): ranked now, and the floor
        // starts over since their ranks may fall below it
        await rankPairs(c, datasetId, head, 'unranked');
        head = (await c.get<WorkSplit & { floor: number; open: number | null; end: number; unranked: number }>(
          headSql,
          [datasetId],
        ))!;
      }
      const from = head.overlap === null ? 0 : (head.open ?? head.end);
      // The floor moves up to that pair, with the claim (the pairs it passes are passed once). Conditional: a
      // label deleted meanwhile (its trigger moved the floor back) or a new split wins. Either form yields
      // `moved` (1 when it moved), for the one-statement claim below.
      const floor =
        head.overlap === null || from <= head.floor
          ? undefined
          : c.definerFunctions
            ? // checked against the labels, with the owner's rights (migration 9)
              {
                sql: 'SELECT discretion_move_claim_floor(?, ?, ?, ?) AS moved',
                params: [datasetId, head.floor, from, head.overlap],
              }
            : {
                sql: 'UPDATE datasets SET claim_floor = ? WHERE id = ? AND claim_floor = ? AND overlap = ? RETURNING 1 AS moved',
                params: [from, datasetId, head.floor, head.overlap],
              };
      // The annotator's own live claim on a pair it has not labelled (renewed), else the next pair in the
      // split's order that it has not labelled and that has room (human labels + others' live claims < k),
      // by its claim rank (read from the index); least-annotated with a split: level by level (below).
      const levels = head.assignment === 'least-annotated' && head.overlap !== null;
      const params: SqlValue[] = [annotatorId, datasetId, nowMs, datasetId, from, annotatorId, nowMs];
      const order = head.assignment === 'least-annotated' ? `${HUMAN_LABELS}, p.claim_rank` : 'p.claim_rank';
      const pick = `SELECT n.id AS id, n.idx AS idx FROM pairs n WHERE n.id = COALESCE(
          (SELECT cl.pair_id ${OWN_CLAIM}),
          (SELECT p.id FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.dataset_id = ? AND p.claim_rank >= ?
             AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?)
             AND (d.overlap IS NULL OR ${HUMAN_LABELS} + ${LIVE_CLAIMS} < d.overlap)
           ORDER BY ${order} LIMIT 1${c.skipLockedPairs}))`;
      const upsert = 'ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at';
      if (c.writableCtes && !levels) {
        // PostgreSQL: the floor, the pick and the claim in one statement (one round trip while the others wait)
        const row = (await c.get<{ idx: number | null; moved: number }>(
          `WITH ${floor ? `moved AS (${floor.sql}), ` : ''}pick AS (${pick}),
             claimed AS (INSERT INTO claims (pair_id, annotator_id, expires_at) SELECT id, ?, ? FROM pick ${upsert} RETURNING pair_id)
           SELECT (SELECT pick.idx FROM pick JOIN claimed ON claimed.pair_id = pick.id) AS idx, ${floor ? '(SELECT COALESCE(SUM(moved), 0) FROM moved)' : '0'} AS moved`,
          [...(floor?.params ?? []), ...params, annotatorId, nowMs + ttlMs],
        ))!;
        if (row.moved > 0) c.wrote('datasets');
        if (row.idx === null) return undefined;
        c.wrote('claims');
        return row.idx;
      }
      if (floor) await c.run(floor.sql, floor.params);
      const next = levels
        ? ((await c.get<{ id: number; idx: number }>(`SELECT o.id AS id, o.idx AS idx ${OWN_CLAIM}`, [
            annotatorId,
            datasetId,
            nowMs,
          ])) ?? (await pickLeastAnnotated(c, datasetId, annotatorId, nowMs, head.overlap!, head.end)))
        : await c.get<{ id: number; idx: number }>(pick, params);
      if (!next) return undefined;
      await c.run(`INSERT INTO claims (pair_id, annotator_id, expires_at) VALUES (?, ?, ?) ${upsert}`, [
        next.id,
        annotatorId,
        nowMs + ttlMs,
      ]);
      return next.idx;
    },
    renewClaim: async (pairRowId, annotatorId, nowMs, ttlMs) =>
      (
        await c.run('UPDATE claims SET expires_at = ? WHERE pair_id = ? AND annotator_id = ? AND expires_at > ?', [
          nowMs + ttlMs,
          pairRowId,
          annotatorId,
          nowMs,
        ])
      ).changes > 0,
    releaseClaims: async (datasetId, annotatorId) =>
      (
        await c.run(
          `DELETE FROM claims WHERE pair_id IN (SELECT id FROM pairs WHERE dataset_id = ?)${annotatorId === undefined ? '' : ' AND annotator_id = ?'}`,
          annotatorId === undefined ? [datasetId] : [datasetId, annotatorId],
        )
      ).changes,
    checkRoomForLabel: async (pairRowId, annotatorId) => {
      // One submitter at a time per pair: the last label a pair needs goes to one of two people submitting at once.
      await c.serialize(`pair:${pairRowId}`);
      const r = await c.get<{ overlap: number | null; idx: number; mine: number; others: number }>(
        `SELECT d.overlap AS overlap, p.idx AS idx,
           (SELECT COUNT(*) FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?) AS mine,
           ${HUMAN_LABELS} AS others
         FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = ?`,
        [annotatorId, pairRowId],
      );
      if (!r || r.overlap === null || r.mine > 0) return;
      if (r.others >= r.overlap) {
        throw new PairFullError(r.idx, r.overlap);
      }
    },
  };
}
