// Schema migrations, applied in order by `PRAGMA user_version`. Append; never edit a shipped one. (The one
// exception: migration 9's overlap trigger, rewritten when the driver moved to libsql, whose SQLite could not
// read it; a file written with the first text is repaired on open, see OVERLAP_TRIGGER.)

/**
 * Overlap k on every insert of a human label, whatever the path (the workbench, import labels, sync), as
 * PostgreSQL's discretion_overlap_check: a new label on a pair of a split dataset that holds k human labels
 * from others is refused, and the adapter reads it as a PairFullError. SQLite before 3.48 (libsql's is 3.45)
 * allows only a constant RAISE message, so the trigger first notes which pair and what k in
 * overlap_refusals, then raises FAIL (which, unlike ABORT, keeps that note until the adapter has read it and
 * rolled the transaction back). Written with IF NOT EXISTS: `repairOverlapTrigger` (adapter) applies it again
 * to a file whose trigger an earlier build wrote in a newer SQLite's syntax.
 */
export const OVERLAP_TRIGGER = `
  CREATE TABLE IF NOT EXISTS overlap_refusals (pair_idx INTEGER NOT NULL, overlap INTEGER NOT NULL);
  CREATE TRIGGER IF NOT EXISTS preferences_overlap BEFORE INSERT ON preferences
  WHEN (SELECT d.overlap FROM pairs p JOIN datasets d ON d.id = p.dataset_id WHERE p.id = NEW.pair_id) IS NOT NULL
    AND (SELECT kind FROM annotators WHERE id = NEW.annotator_id) = 'human'
  BEGIN
    INSERT INTO overlap_refusals (pair_idx, overlap) SELECT p.idx, d.overlap FROM pairs p JOIN datasets d ON d.id = p.dataset_id
    WHERE p.id = NEW.pair_id
      AND NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = NEW.pair_id AND x.annotator_id = NEW.annotator_id)
      AND (SELECT COUNT(*) FROM human_labels hl WHERE hl.pair_id = NEW.pair_id) >= d.overlap;
    SELECT RAISE(FAIL, 'discretion: overlap') WHERE changes() > 0;
  END;
`;

export const MIGRATIONS: readonly string[] = [
  // 1: datasets, pairs, principle lists, annotators, preferences, metric runs.
  `
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    source_path TEXT,
    content_hash TEXT,
    created_at TEXT NOT NULL
  );
  CREATE TABLE pairs (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    source_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    y0 TEXT NOT NULL,
    y1 TEXT NOT NULL,
    meta TEXT,
    UNIQUE (dataset_id, idx),
    UNIQUE (dataset_id, source_id)
  );
  CREATE TABLE principle_lists (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    source_path TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (name, version),
    UNIQUE (name, content_hash)
  );
  CREATE TABLE principles (
    id INTEGER PRIMARY KEY,
    list_id INTEGER NOT NULL REFERENCES principle_lists(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    short TEXT NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (list_id, position),
    UNIQUE (list_id, key)
  );
  CREATE TABLE annotators (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('human', 'reward-model', 'llm-judge', 'oracle', 'policy-model')),
    provenance TEXT,
    created_at TEXT NOT NULL
  );
  -- The current overall preference of an annotator on a pair; value NULL = missing. Keyed by
  -- (pair, annotator) without a rowid: one B-tree serves lookups by pair and keeps bulk imports cheap.
  CREATE TABLE preferences (
    pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
    value INTEGER CHECK (value IN (-1, 0, 1)),
    score_y0 REAL,
    score_y1 REAL,
    raw TEXT,
    shown_first INTEGER CHECK (shown_first IN (0, 1)),
    rationale TEXT,
    flagged INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (pair_id, annotator_id)
  ) WITHOUT ROWID;
  -- Principle-specific preferences c_i(k), from a human's grid or a model acting as oracle.
  CREATE TABLE principle_preferences (
    pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
    principle_id INTEGER NOT NULL REFERENCES principles(id) ON DELETE CASCADE,
    value INTEGER CHECK (value IN (-1, 0, 1)),
    prob_a REAL,
    prob_b REAL,
    prob_na REAL,
    shown_order INTEGER CHECK (shown_order IN (0, 1)),
    raw TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (pair_id, annotator_id, principle_id)
  ) WITHOUT ROWID;
  CREATE TABLE metric_runs (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    tool_version TEXT NOT NULL,
    params TEXT NOT NULL,
    input_hashes TEXT NOT NULL,
    results TEXT NOT NULL
  );
  `,
  // 2: label history for the annotation workbench. Every submission and every undo appends a row with
  // the annotator's labels on the pair before and after (JSON), so undo restores the previous label
  // exactly and no label is ever lost; and each annotator's position per dataset.
  `
  CREATE TABLE label_history (
    id INTEGER PRIMARY KEY,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
    pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('submit', 'undo')),
    before_state TEXT,
    after_state TEXT,
    undone INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );
  CREATE INDEX label_history_annotator ON label_history (annotator_id, id);
  -- Where each annotator is in each dataset, so the workbench resumes there (any window, any reload).
  CREATE TABLE workbench_positions (
    annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    pair_idx INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (annotator_id, dataset_id)
  );
  `,
  // 3: preferences by annotator. How many pairs an annotator has labelled (the workbench's progress,
  // after every card) otherwise probes every pair of the dataset: 480 ms on a million-pair dataset,
  // 1 ms with this index.
  `
  CREATE INDEX preferences_by_annotator ON preferences (annotator_id, pair_id);
  `,
  // 4: the consistency suite. Annotators gain an optional group (a label the lead assigns: region,
  // expertise, "reward-models") and the kind 'ensemble' (a derived annotator). SQLite cannot alter a
  // CHECK constraint, so the table is rebuilt (SQLite's documented procedure; the runner turns the
  // foreign keys off around migrations and checks them before committing).
  `
  CREATE TABLE annotators_v4 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('human', 'reward-model', 'llm-judge', 'oracle', 'policy-model', 'ensemble')),
    provenance TEXT,
    created_at TEXT NOT NULL,
    group_name TEXT
  );
  INSERT INTO annotators_v4 (id, name, kind, provenance, created_at) SELECT id, name, kind, provenance, created_at FROM annotators;
  DROP TABLE annotators;
  ALTER TABLE annotators_v4 RENAME TO annotators;
  `,
  // 5: team work. Per dataset a work split (overlap: labels wanted per pair, NULL = every annotator labels
  // every pair; the assignment order and its seed) and expiring claims on pairs (expires_at in epoch ms).
  `
  ALTER TABLE datasets ADD COLUMN overlap INTEGER CHECK (overlap IS NULL OR overlap >= 1);
  ALTER TABLE datasets ADD COLUMN assignment TEXT NOT NULL DEFAULT 'fixed' CHECK (assignment IN ('fixed', 'random', 'least-annotated'));
  ALTER TABLE datasets ADD COLUMN assignment_seed INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE claims (
    pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (pair_id, annotator_id)
  );
  CREATE INDEX claims_by_annotator ON claims (annotator_id, expires_at);
  `,
  // 6: review and sync. Annotators gain the kind 'adjudicator' (the lead's adjudicated labels of the review
  // queue, annotator "adjudicated"; every count of human labels leaves it out by its kind), and the label
  // history the action 'merge' (discretion sync: a label from another database that met a different one
  // here; both stay in the history). Both CHECKs are widened by rebuilding the tables (as in migration 4).
  `
  CREATE TABLE annotators_v6 (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('human', 'reward-model', 'llm-judge', 'oracle', 'policy-model', 'ensemble', 'adjudicator')),
    provenance TEXT,
    created_at TEXT NOT NULL,
    group_name TEXT
  );
  INSERT INTO annotators_v6 (id, name, kind, provenance, created_at, group_name) SELECT id, name, kind, provenance, created_at, group_name FROM annotators;
  DROP TABLE annotators;
  ALTER TABLE annotators_v6 RENAME TO annotators;
  CREATE TABLE label_history_v6 (
    id INTEGER PRIMARY KEY,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id) ON DELETE CASCADE,
    pair_id INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('submit', 'undo', 'merge')),
    before_state TEXT,
    after_state TEXT,
    undone INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  );
  INSERT INTO label_history_v6 (id, annotator_id, pair_id, action, before_state, after_state, undone, created_at)
    SELECT id, annotator_id, pair_id, action, before_state, after_state, undone, created_at FROM label_history;
  DROP TABLE label_history;
  ALTER TABLE label_history_v6 RENAME TO label_history;
  CREATE INDEX label_history_annotator ON label_history (annotator_id, id);
  `,
  // 7: the claim floor. Per dataset a pair index below which every pair holds its overlap's worth of human
  // labels, so claimNextPair looks from there instead of from the first pair (on a 100,000-pair dataset
  // whose first 99,000 pairs are full every claim probed 99,000 pairs). claimNextPair moves it forward
  // under the claimers' lock; a deleted label (an undo, a relabel) moves it back to its pair (this
  // trigger); a new work split sets it to 0.
  `
  ALTER TABLE datasets ADD COLUMN claim_floor INTEGER NOT NULL DEFAULT 0;
  CREATE TRIGGER preferences_claim_floor AFTER DELETE ON preferences BEGIN
    UPDATE datasets SET claim_floor = (SELECT idx FROM pairs WHERE id = OLD.pair_id)
    WHERE id = (SELECT dataset_id FROM pairs WHERE id = OLD.pair_id) AND claim_floor > (SELECT idx FROM pairs WHERE id = OLD.pair_id);
  END;
  `,
  // 8: the claim rank and the level floors. Per pair its place in the dataset's assignment order (fixed and
  // least-annotated: its index; random: the seeded hash of it), indexed, so a claim reads the next pairs
  // from an index instead of hashing or counting and sorting every pair (100,000 pairs: 400-550 ms a claim
  // on PostgreSQL, 70-85 ms on SQLite, while the other claimers wait). Written by a work split, and by a
  // claim that finds pairs without one (older databases, pairs added later). The claim floor is a rank from
  // now on (it starts over); least-annotated keeps one floor per level L below k (claim_floors: every pair
  // ranked below it holds more than L human labels). A deleted label moves every floor back to its pair.
  `
  ALTER TABLE pairs ADD COLUMN claim_rank INTEGER;
  CREATE INDEX pairs_claim_rank ON pairs (dataset_id, claim_rank);
  UPDATE datasets SET claim_floor = 0;
  CREATE TABLE claim_floors (
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    level INTEGER NOT NULL,
    floor INTEGER NOT NULL,
    PRIMARY KEY (dataset_id, level)
  );
  DROP TRIGGER preferences_claim_floor;
  CREATE TRIGGER preferences_claim_floor AFTER DELETE ON preferences BEGIN
    UPDATE datasets SET claim_floor = (SELECT COALESCE(claim_rank, 0) FROM pairs WHERE id = OLD.pair_id)
    WHERE id = (SELECT dataset_id FROM pairs WHERE id = OLD.pair_id) AND claim_floor > (SELECT COALESCE(claim_rank, 0) FROM pairs WHERE id = OLD.pair_id);
    UPDATE claim_floors SET floor = (SELECT COALESCE(claim_rank, 0) FROM pairs WHERE id = OLD.pair_id)
    WHERE dataset_id = (SELECT dataset_id FROM pairs WHERE id = OLD.pair_id) AND floor > (SELECT COALESCE(claim_rank, 0) FROM pairs WHERE id = OLD.pair_id);
  END;
  `,
  // 9: team security (PostgreSQL's migration 9 adds roles' tables and policies; here only what both
  // databases share). The label history records the login of each write (null on a SQLite file: one person).
  // Views that the claims and the team's progress read instead of other people's rows: on PostgreSQL they
  // return only what an annotator may know of the others' work (how many human labels a pair holds, until
  // when it is held, each member's counts), with the owner's rights; here they are the same queries.
  `
  ALTER TABLE label_history ADD COLUMN login TEXT;
  CREATE VIEW human_labels AS SELECT pr.pair_id AS pair_id FROM preferences pr JOIN annotators a ON a.id = pr.annotator_id WHERE a.kind = 'human';
  CREATE VIEW claim_holds AS SELECT c.pair_id AS pair_id, c.expires_at AS expires_at FROM claims c
    WHERE NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = c.pair_id AND x.annotator_id = c.annotator_id);
  CREATE VIEW label_progress AS SELECT p.dataset_id AS dataset_id, a.name AS annotator, COUNT(*) AS labelled, MIN(pr.updated_at) AS first_at, MAX(pr.updated_at) AS last_at
    FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN annotators a ON a.id = pr.annotator_id WHERE a.kind = 'human' GROUP BY p.dataset_id, a.id, a.name;
  CREATE VIEW claim_progress AS SELECT p.dataset_id AS dataset_id, a.name AS annotator, c.expires_at AS expires_at
    FROM claims c JOIN pairs p ON p.id = c.pair_id JOIN annotators a ON a.id = c.annotator_id
    WHERE NOT EXISTS (SELECT 1 FROM preferences x WHERE x.pair_id = c.pair_id AND x.annotator_id = c.annotator_id);
${OVERLAP_TRIGGER}
  `,
  // 10: one encoding of the response shown first (issue 21). principle_preferences.shown_order said it the
  // other way round from preferences.shown_first (0 = A was y1); it becomes shown_first, as preferences say
  // it (0 = A was y0, 1 = A was y1): renamed, and inverted (NULL stays NULL). The label history's states name
  // the column in their JSON, so they change the same way. That JSON is JSON.stringify's compact text, where
  // the key reads exactly "shown_order": followed by 0, 1 or null, and where that text inside a string value
  // would have its quotes escaped: a plain replacement finds the keys only, and keeps the text otherwise
  // byte for byte. (As PostgreSQL's migration 10.)
  `
  ALTER TABLE principle_preferences RENAME COLUMN shown_order TO shown_first;
  UPDATE principle_preferences SET shown_first = 1 - shown_first WHERE shown_first IS NOT NULL;
  UPDATE label_history SET
    before_state = REPLACE(REPLACE(REPLACE(before_state, '"shown_order":0', '"shown_first":1'), '"shown_order":1', '"shown_first":0'), '"shown_order":null', '"shown_first":null'),
    after_state = REPLACE(REPLACE(REPLACE(after_state, '"shown_order":0', '"shown_first":1'), '"shown_order":1', '"shown_first":0'), '"shown_order":null', '"shown_first":null')
    WHERE before_state LIKE '%"shown_order"%' OR after_state LIKE '%"shown_order"%';
  `,
  // 11: claims that do not queue (issue 22): PostgreSQL's claimers of one dataset run at once (its
  // migration 11: a function that claims under each pair's lock, floors moved under a lock taken with a
  // try). SQLite's one writer already serialises every claim; only the view that migration adds, which the
  // claims read there, so both databases hold the same views.
  `
  CREATE VIEW claim_times AS SELECT c.pair_id AS pair_id, c.expires_at AS expires_at FROM claims c;
  `,
  // 12: a bulk load at COPY speed (issue 22): PostgreSQL checks the foreign keys of pairs and preferences once
  // per statement instead of row by row (its migration 12). Nothing changes here: SQLite's importer already
  // checks none while it writes the keys it made itself, and PRAGMA foreign_key_check finds any broken one.
  `
  -- nothing to change on SQLite
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
