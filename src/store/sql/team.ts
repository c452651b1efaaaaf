// Team work on a dataset: the work split (overlap k and assignment order) and expiring claims on pairs, on
// any adapter. A pair is claimable by an annotator while its human labels plus the live claims of annotators
// who have not labelled it yet are fewer than k, and the annotator has not labelled it. Claims expire, so an
// absent annotator never starves the others. On SQLite claimers take turns (its one writer) through the walk
// below. On PostgreSQL the claimers of one dataset run at once (issue 22): the same walk is migration 11's
// discretion_claim_next, one round trip, where only one annotator's own claims take turns; it claims the first
// candidate whose pair lock it gets with a try and whose room, read afresh under that lock, is still there,
// and a floor is moved by whichever claim gets the floors' lock, without waiting either.
import { UsageError } from '../../core/errors';
import { PairFullError, type TeamReads, type TeamWrites, type WorkSplit } from '../port';
import type { SqlConnection } from './connection';

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
const humanLabelsOn = (pairRowId: string) => `(SELECT COUNT(*) FROM human_labels hl WHERE hl.pair_id = ${pairRowId})`;
const HUMAN_LABELS = humanLabelsOn('p.id');
/** Live claims on pair `p` of annotators who have not labelled it (SQL expression; one parameter: now). Through the view claim_holds, likewise. */
const liveClaimsOn = (pairRowId: string) =>
  `(SELECT COUNT(*) FROM claim_holds lc WHERE lc.pair_id = ${pairRowId} AND lc.expires_at > ?)`;
const LIVE_CLAIMS = liveClaimsOn('p.id');

/** The annotator's live claim on a pair of the dataset it has not labelled (FROM ... LIMIT 1; parameters: annotator, dataset, now). */
const OWN_CLAIM = `FROM claims cl JOIN pairs o ON o.id = cl.pair_id WHERE cl.annotator_id = ? AND o.dataset_id = ? AND cl.expires_at > ?
  AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = cl.pair_id AND x.annotator_id = cl.annotator_id) ORDER BY o.idx LIMIT 1`;

/**
 * least-annotated: the first pair by claim rank among those with the fewest human labels and others' live
 * claims that the annotator may claim. Level by level (L = 0 .. k-1), each from its own floor (claim_floors:
 * every pair ranked below it holds more than L labels; claims expire, so they do not move it), which moves
 * up to the first pair holding L labels or fewer: a claim reads a few pairs from an index instead of
 * counting the labels of every pair. SQLite's (one writer); PostgreSQL's is discretion_claim_next's.
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
    // conditional, as the claim floor: a label deleted meanwhile (its trigger moved the floor back) wins
    if (open > floor && floors.has(level))
      await c.run('UPDATE claim_floors SET floor = ? WHERE dataset_id = ? AND level = ? AND floor = ?', [
        open,
        datasetId,
        level,
        floor,
      ]);
    else if (open > floor)
      await c.run(
        'INSERT INTO claim_floors (dataset_id, level, floor) VALUES (?, ?, ?) ON CONFLICT (dataset_id, level) DO NOTHING',
        [datasetId, level, open],
      );
    if (open >= end) continue;
    // a pair's level counts the others' live claims too: annotators claiming at once spread over the pairs
    // (a pair's second claim waits until every pair has a first), and level < k leaves room for this claim
    const next = await c.get<{ id: number; idx: number }>(
      `SELECT p.id AS id, p.idx AS idx FROM pairs p WHERE p.dataset_id = ? AND p.claim_rank >= ? AND ${HUMAN_LABELS} + ${LIVE_CLAIMS} = ?
         AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?)
       ORDER BY p.claim_rank LIMIT 1`,
      [datasetId, open, nowMs, level, annotatorId],
    );
    if (next) return next;
  }
  return undefined;
}

/**
 * PostgreSQL's claim: migration 11's discretion_claim_next, the walk of claimNextPair below in one server
 * function (its statements keep their plans for the session, and a claim is one round trip), which claims
 * without waiting for the dataset's other claimers. Pairs without a claim rank are ranked here first. The
 * claim's time is the server's clock (never the client's), read in the same statement.
 */
async function claimOnServer(
  c: SqlConnection,
  reads: TeamReads,
  datasetId: number,
  annotatorId: number,
  ttlMs: number,
): Promise<number | undefined> {
  for (;;) {
    const r = (await c.get<{
      idx: number | null;
      unranked: boolean;
      floorMoved: boolean;
      levelsMoved: boolean;
      released: boolean;
    }>(
      `SELECT claimed_idx AS idx, unranked, floor_moved AS "floorMoved", levels_moved AS "levelsMoved", released
       FROM (SELECT discretion_now_ms() AS now) n, LATERAL discretion_claim_next(?, ?, n.now, n.now + ?)`,
      [datasetId, annotatorId, ttlMs],
    ))!;
    if (r.floorMoved) c.wrote('datasets');
    if (r.levelsMoved) c.wrote('claim_floors');
    if (r.released || r.idx !== null) c.wrote('claims');
    if (!r.unranked) return r.idx ?? undefined;
    // pairs of a database from before migration 8 (or added since the split); the floors start over
    await rankPairs(c, datasetId, await reads.workSplit(datasetId), 'unranked');
  }
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

export function teamWrites(c: SqlConnection, reads: TeamReads): TeamWrites {
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
      // PostgreSQL: the same walk in one server function, the dataset's claimers at once, on the server's clock
      // (claimOnServer)
      if (c.definerFunctions) return claimOnServer(c, reads, datasetId, annotatorId, ttlMs);
      // SQLite: the claimers take turns (its one writer, from BEGIN IMMEDIATE to COMMIT). The split, the claim
      // floor (a claim rank, migrations 7 and 8: every pair ranked below it holds `overlap` human labels), the
      // first pair from it that is not full (or the end), from which the claim looks, and whether some pairs
      // have no rank yet.
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
      const k = head.overlap;
      const from = k === null ? 0 : (head.open ?? head.end);
      // The floor moves up to that pair, with the claim (the pairs it passes are passed once). Conditional: a
      // label deleted meanwhile (its trigger moved the floor back) or a new split wins.
      if (k !== null && from > head.floor)
        await c.run('UPDATE datasets SET claim_floor = ? WHERE id = ? AND claim_floor = ? AND overlap = ?', [
          from,
          datasetId,
          head.floor,
          k,
        ]);
      const upsert = (pairRowId: number) =>
        c.run(
          'INSERT INTO claims (pair_id, annotator_id, expires_at) VALUES (?, ?, ?) ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at',
          [pairRowId, annotatorId, nowMs + ttlMs],
        );
      // The annotator's own live claim on a pair it has not labelled, renewed, while its pair has room for it
      // (the others' labels and live claims below k): a claim that lapsed and whose place a claimer with a
      // later clock took meanwhile is gone (let go here), not resumed.
      const own = await c.get<{ id: number; idx: number; others: number }>(
        `SELECT o.id AS id, o.idx AS idx, ${humanLabelsOn('o.id')} + ${liveClaimsOn('o.id')} - 1 AS others ${OWN_CLAIM}`,
        [nowMs, annotatorId, datasetId, nowMs],
      );
      if (own && (k === null || own.others < k)) {
        await upsert(own.id);
        return own.idx;
      }
      if (own) await c.run('DELETE FROM claims WHERE pair_id = ? AND annotator_id = ?', [own.id, annotatorId]);
      // Else the next pair in the split's order that the annotator has not labelled and that has room (human
      // labels + others' live claims < k), by its claim rank (read from the index); least-annotated with a
      // split: level by level.
      const next =
        head.assignment === 'least-annotated' && k !== null
          ? await pickLeastAnnotated(c, datasetId, annotatorId, nowMs, k, head.end)
          : await c.get<{ id: number; idx: number }>(
              `SELECT p.id AS id, p.idx AS idx FROM pairs p WHERE p.dataset_id = ? AND p.claim_rank >= ?
                 AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?)
                 ${k === null ? '' : `AND ${HUMAN_LABELS} + ${LIVE_CLAIMS} < ?`}
               ORDER BY ${head.assignment === 'least-annotated' ? `${HUMAN_LABELS}, ` : ''}p.claim_rank LIMIT 1`,
              k === null ? [datasetId, from, annotatorId] : [datasetId, from, annotatorId, nowMs, k],
            );
      if (!next) return undefined;
      await upsert(next.id);
      return next.idx;
    },
    renewClaim: async (pairRowId, annotatorId, nowMs, ttlMs) => {
      // Under the pair's lock, as a claim is taken: a claim that lapsed and whose place a claimer with a later
      // clock took meanwhile (the others' labels and live claims fill the pair) is gone, not renewed.
      await c.serialize(`pair:${pairRowId}`);
      const pair = await c.get<{ overlap: number | null; held: number; labelled: number }>(
        `SELECT d.overlap AS overlap, ${HUMAN_LABELS} + ${LIVE_CLAIMS} AS held,
           (SELECT COUNT(*) FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?) AS labelled
         FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = ?`,
        [nowMs, annotatorId, pairRowId],
      );
      // held counts this live, unlabelled claim once
      if (pair && pair.overlap !== null && pair.labelled === 0 && pair.held - 1 >= pair.overlap) return false;
      return (
        (
          await c.run('UPDATE claims SET expires_at = ? WHERE pair_id = ? AND annotator_id = ? AND expires_at > ?', [
            nowMs + ttlMs,
            pairRowId,
            annotatorId,
            nowMs,
          ])
        ).changes > 0
      );
    },
    releaseClaims: async (datasetId, annotatorId) =>
      (
        await c.run(
          `DELETE FROM claims WHERE pair_id IN (SELECT id FROM pairs WHERE dataset_id = ?)${annotatorId === undefined ? '' : ' AND annotator_id = ?'}`,
          annotatorId === undefined ? [datasetId] : [datasetId, annotatorId],
        )
      ).changes,
    checkRoomForLabel: async (pairRowId, annotatorId) => {
      // An early refusal, before anything is written. The rule itself is the overlap trigger's (migration 9, on
      // both databases): it counts the pair's labels under the pair's lock (on PostgreSQL the lock the claims
      // take; on SQLite the one writer), so of two people submitting the last label a pair needs at once, one
      // gets the PairFullError from the INSERT. Taken there rather than here, the lock is held from the label's
      // INSERT to COMMIT only, not for the whole submission, and claimers pass over the pair for that long.
      // (PostgreSQL: the same read in a server function, migration 11, whose plan the session keeps)
      const r = c.definerFunctions
        ? await c.get<{ overlap: number | null; idx: number | null; mine: number; others: number }>(
            'SELECT overlap, idx, mine, others FROM discretion_label_room(?, ?)',
            [pairRowId, annotatorId],
          )
        : await c.get<{ overlap: number | null; idx: number | null; mine: number; others: number }>(
            `SELECT d.overlap AS overlap, p.idx AS idx,
               (SELECT COUNT(*) FROM preferences x WHERE x.pair_id = p.id AND x.annotator_id = ?) AS mine,
               ${HUMAN_LABELS} AS others
             FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = ?`,
            [annotatorId, pairRowId],
          );
      if (!r || r.idx === null || r.overlap === null || r.mine > 0) return;
      if (r.others >= r.overlap) {
        throw new PairFullError(r.idx, r.overlap);
      }
    },
  };
}
