// A team on one PostgreSQL database: its two group roles, the grants and the row-level policies that hold the
// team's rules for every client (the CLI, the extension, a sync, a raw psql session alike). Written by
// `discretion team init`, run by the database's owner (a login with CREATEROLE, not a superuser); applied
// again by every later init, so a new table of a later migration is covered the same way.
//
// Who may do what (docs: README "Team annotation on PostgreSQL"):
//  - the owner: everything (owns the tables; not subject to the policies);
//  - the lead role: reads everything; imports datasets, principle lists and model judgments, splits,
//    releases, adjudicates, saves metric runs, manages members; writes labels only as itself or as an
//    annotator no login is mapped to (a model, `adjudicated`, a dataset's own labels);
//  - the annotator role: reads datasets, pairs, lists, annotators, and its own labels (plus the models'
//    judgments; everybody's labels with --visibility open); writes only its own labels, history, claims and
//    position. Counts and progress of the others come through views and functions with the owner's rights
//    (human_labels, claim_holds, label_progress, claim_progress; migration 9; claim_times, migration 11) that say how
//    many, never whose or what.
import type pg from 'pg';
import { KEY_CHECK_FUNCTIONS, KEY_ERROR_FUNCTIONS } from './schema';

export type Visibility = 'blind' | 'open';
export const VISIBILITIES: readonly Visibility[] = ['blind', 'open'];

/** The team's tables (every table of the schema), and the views the annotators read. */
const TABLES = [
  'datasets',
  'pairs',
  'principle_lists',
  'principles',
  'annotators',
  'preferences',
  'principle_preferences',
  'metric_runs',
  'label_history',
  'workbench_positions',
  'claims',
  'claim_floors',
  'discretion_schema',
  'team_config',
  'team_members',
] as const;
const VIEWS = ['human_labels', 'claim_holds', 'claim_times', 'label_progress', 'claim_progress'] as const;
/** A claim, its pick under each pair's lock, a label's room (migration 11): the caller's rights, so the policies hold. */
const CLAIM_FUNCTIONS = [
  'discretion_claim_next(integer, integer, bigint, bigint)',
  'discretion_claim_pairs(integer, integer[], integer, integer, bigint, bigint)',
  'discretion_label_room(integer, integer)',
];
/** Functions a member calls (the others are trigger functions, which need no grant to fire). */
const MEMBER_FUNCTIONS = [
  'discretion_me()',
  'discretion_now_ms()',
  'discretion_is_lead()',
  'discretion_move_claim_floor(integer, bigint, bigint, integer)',
  'discretion_move_level_floor(integer, integer, bigint, bigint)',
  'discretion_rank_unranked(integer)',
  'discretion_analyze(text)',
  ...CLAIM_FUNCTIONS,
];
const LEAD_FUNCTIONS = ['discretion_team_add(text, text, text)', 'discretion_team_remove(text)'];
/** Functions that run with the owner's rights: their search_path is pinned, so no object a member creates elsewhere is found first. */
const DEFINER_FUNCTIONS = [
  ...MEMBER_FUNCTIONS.filter((f) => !['discretion_me()', 'discretion_now_ms()', ...CLAIM_FUNCTIONS].includes(f)),
  ...LEAD_FUNCTIONS,
  'discretion_lead_config(text)',
  'discretion_claim_floor()',
  ...KEY_CHECK_FUNCTIONS,
];
/**
 * Functions that read tables with the caller's rights, pinned too: a session searches its own temporary tables
 * first (before pg_catalog even), so a member's temporary team_members would answer discretion_me() in every
 * policy (she would be whoever she wrote there), a temporary pg_class the history's append-only trigger, and a
 * temporary human_labels a claim's room (she would claim full pairs).
 */
const CALLER_FUNCTIONS = ['discretion_me()', 'discretion_label_history_append_only()', ...CLAIM_FUNCTIONS];
/** Tables whose rows belong to an annotator: row-level security on `annotator_id`. */
const LABEL_TABLES = ['preferences', 'principle_preferences', 'label_history'] as const;
/** Every table with row-level policies (the adapter sends their bulk rows through INSERT ... SELECT, which COPY FROM refuses there). */
export const ROW_SECURITY_TABLES = [...LABEL_TABLES, 'claims', 'workbench_positions', 'annotators'] as const;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The team's group roles of a database: one pair per database, so two teams on one server never share authority. */
export function teamRoleNames(database: string): { lead: string; annotator: string } {
  const base = database
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .slice(0, 40);
  return { lead: `discretion_${base}_lead`, annotator: `discretion_${base}_annotator` };
}

/** What a role's comment says, so a role of the same name made for another database is never taken over. */
const roleComment = (database: string, which: 'lead' | 'annotator') =>
  `Discretion Workbench: the ${which} role of the team of database ${database}`;

/**
 * Creates the team's roles when missing and (re)writes every grant and policy. Runs inside the caller's
 * transaction, as the database's owner, after the migrations.
 */
export async function applyTeamSecurity(
  client: pg.ClientBase,
  visibility: Visibility | undefined,
): Promise<{ lead: string; annotator: string; visibility: Visibility }> {
  const db = (
    await client.query<{ db: string; schema: string }>('SELECT current_database() AS db, current_schema() AS schema')
  ).rows[0];
  const existing = (
    await client.query<{ lead_role: string; annotator_role: string; visibility: Visibility }>(
      'SELECT lead_role, annotator_role, visibility FROM team_config',
    )
  ).rows[0];
  const roles = existing ? { lead: existing.lead_role, annotator: existing.annotator_role } : teamRoleNames(db.db);
  const vis = visibility ?? existing?.visibility ?? 'blind';
  for (const which of ['lead', 'annotator'] as const) {
    const name = roles[which];
    const found = (
      await client.query<{ comment: string | null }>(
        "SELECT shobj_description(oid, 'pg_authid') AS comment FROM pg_roles WHERE rolname = $1",
        [name],
      )
    ).rows[0];
    if (!found) {
      await client.query(`CREATE ROLE ${ident(name)} NOLOGIN`);
      await client.query(`COMMENT ON ROLE ${ident(name)} IS ${literal(roleComment(db.db, which))}`);
    } else if (found.comment !== roleComment(db.db, which)) {
      throw new TeamSetupError(
        `the server has a role ${name} already that is not this database's ${which} role (its comment says ${JSON.stringify(found.comment ?? '')}); rename or drop it, or ask the DBA`,
      );
    }
  }
  await client.query(
    'INSERT INTO team_config (lead_role, annotator_role, visibility) VALUES ($1, $2, $3) ON CONFLICT (singleton) DO UPDATE SET visibility = excluded.visibility',
    [roles.lead, roles.annotator, vis],
  );
  const L = ident(roles.lead);
  const A = ident(roles.annotator);
  const both = `${L}, ${A}`;
  const me = '(SELECT discretion_me())';
  const unmapped = (t: string) => `NOT EXISTS (SELECT 1 FROM team_members m WHERE m.annotator_id = ${t}.annotator_id)`;
  const sql: string[] = [
    // The database: only the team's roles connect (their members through them); nobody else creates here.
    `REVOKE ALL ON DATABASE ${ident(db.db)} FROM PUBLIC`,
    `GRANT CONNECT, TEMPORARY ON DATABASE ${ident(db.db)} TO ${both}`,
    `REVOKE CREATE ON SCHEMA ${ident(db.schema)} FROM PUBLIC`,
    `GRANT USAGE ON SCHEMA ${ident(db.schema)} TO ${both}`,
    ...[...TABLES, ...VIEWS].map((t) => `REVOKE ALL ON ${t} FROM PUBLIC, ${both}`),
    `GRANT SELECT ON datasets, pairs, principle_lists, principles, annotators, metric_runs, claim_floors, discretion_schema, team_config, team_members, ${VIEWS.join(', ')} TO ${both}`,
    // Rows of one's own: the policies below say whose. The key columns are never updated (a label cannot move to another pair or annotator).
    `GRANT SELECT, INSERT, DELETE, UPDATE (value, score_y0, score_y1, raw, shown_first, rationale, flagged, created_at, updated_at) ON preferences TO ${both}`,
    `GRANT SELECT, INSERT, DELETE, UPDATE (value, prob_a, prob_b, prob_na, shown_first, raw, created_at) ON principle_preferences TO ${both}`,
    `GRANT SELECT, INSERT, UPDATE (undone) ON label_history TO ${both}`,
    `GRANT SELECT, INSERT, DELETE, UPDATE (expires_at) ON claims TO ${both}`,
    `GRANT SELECT, INSERT, DELETE, UPDATE (pair_idx, updated_at) ON workbench_positions TO ${both}`,
    // an annotator's own row: where her labels came from (an import merges its file into the provenance)
    `GRANT UPDATE (provenance) ON annotators TO ${A}`,
    // The lead's work: imports, splits, groups, metric runs.
    `GRANT INSERT, UPDATE ON datasets, pairs, principle_lists, principles, annotators TO ${L}`,
    `GRANT INSERT ON metric_runs TO ${L}`,
    `GRANT INSERT, UPDATE, DELETE ON claim_floors TO ${L}`,
    `GRANT USAGE, SELECT ON SEQUENCE discretion_changes TO ${both}`,
    // Functions: nobody but the team; those with the owner's rights find only this schema's objects.
    ...[
      ...MEMBER_FUNCTIONS,
      ...LEAD_FUNCTIONS,
      'discretion_lead_config(text)',
      'discretion_claim_floor()',
      ...KEY_CHECK_FUNCTIONS,
      ...KEY_ERROR_FUNCTIONS,
      'discretion_label_history_stamp()',
      'discretion_label_history_append_only()',
      'discretion_claim_bound()',
    ].map((f) => `REVOKE ALL ON FUNCTION ${f} FROM PUBLIC`),
    ...MEMBER_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO ${both}`),
    ...LEAD_FUNCTIONS.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO ${L}`),
    ...[...DEFINER_FUNCTIONS, ...CALLER_FUNCTIONS].map(
      (f) => `ALTER FUNCTION ${f} SET search_path = ${ident(db.schema)}, pg_temp`,
    ),
  ];
  // The ids the database assigns (identity columns): the sequences behind them.
  const sequences = (
    await client.query<{ table: string; seq: string | null }>(
      `SELECT t AS table, pg_get_serial_sequence(t, 'id') AS seq FROM unnest($1::text[]) t`,
      [['datasets', 'principle_lists', 'principles', 'annotators', 'metric_runs', 'label_history']],
    )
  ).rows;
  for (const s of sequences)
    if (s.seq) sql.push(`GRANT USAGE, SELECT ON SEQUENCE ${s.seq} TO ${s.table === 'label_history' ? both : L}`);
  // Row-level security: policies are rewritten from scratch each time.
  const policies = (
    await client.query<{ tablename: string; policyname: string }>(
      `SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema() AND policyname LIKE 'discretion_%'`,
    )
  ).rows;
  for (const p of policies) sql.push(`DROP POLICY ${ident(p.policyname)} ON ${ident(p.tablename)}`);
  for (const t of ROW_SECURITY_TABLES) sql.push(`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`);
  for (const t of LABEL_TABLES) {
    const mayWrite = `annotator_id = ${me} OR ${unmapped(t)}`;
    sql.push(
      `CREATE POLICY discretion_lead_read ON ${t} FOR SELECT TO ${L} USING (true)`,
      `CREATE POLICY discretion_lead_insert ON ${t} FOR INSERT TO ${L} WITH CHECK (${mayWrite})`,
      `CREATE POLICY discretion_lead_update ON ${t} FOR UPDATE TO ${L} USING (${mayWrite}) WITH CHECK (${mayWrite})`,
      `CREATE POLICY discretion_lead_delete ON ${t} FOR DELETE TO ${L} USING (${mayWrite})`,
      `CREATE POLICY discretion_own ON ${t} FOR ALL TO ${A} USING (annotator_id = ${me}) WITH CHECK (annotator_id = ${me})`,
    );
    if (t !== 'label_history') {
      // the models' judgments are no person's choice: the workbench shows them after a submission
      sql.push(
        `CREATE POLICY discretion_models_read ON ${t} FOR SELECT TO ${A} USING (EXISTS (SELECT 1 FROM annotators va WHERE va.id = ${t}.annotator_id AND va.kind NOT IN ('human', 'adjudicator')))`,
      );
    }
    if (vis === 'open') sql.push(`CREATE POLICY discretion_open_read ON ${t} FOR SELECT TO ${A} USING (true)`);
  }
  sql.push(
    `CREATE POLICY discretion_lead_all ON claims FOR ALL TO ${L} USING (true) WITH CHECK (true)`,
    `CREATE POLICY discretion_own ON claims FOR ALL TO ${A} USING (annotator_id = ${me}) WITH CHECK (annotator_id = ${me})`,
    `CREATE POLICY discretion_own ON workbench_positions FOR ALL TO ${both} USING (annotator_id = ${me}) WITH CHECK (annotator_id = ${me})`,
    `CREATE POLICY discretion_lead_all ON annotators FOR ALL TO ${L} USING (true) WITH CHECK (true)`,
    `CREATE POLICY discretion_read ON annotators FOR SELECT TO ${A} USING (true)`,
    `CREATE POLICY discretion_own ON annotators FOR UPDATE TO ${A} USING (id = ${me}) WITH CHECK (id = ${me})`,
  );
  for (const s of sql) await client.query(s);
  return { ...roles, visibility: vis };
}

/** A team cannot be set up as asked (a clash of role names, a login without the rights to do it). */
export class TeamSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TeamSetupError';
  }
}

/** What the session's login may do here: the owner (or a superuser), a team member's role, or none. */
export async function loginRole(client: pg.ClientBase | pg.Pool): Promise<{
  login: string;
  owner: boolean;
  createRole: boolean;
  team: { role: 'lead' | 'annotator'; annotator: string } | undefined;
  visibility: Visibility | undefined;
}> {
  const r = (
    await client.query<{ login: string; owner: boolean; createrole: boolean; team: boolean }>(
      `SELECT session_user AS login,
       pg_has_role(session_user, (SELECT datdba FROM pg_database WHERE datname = current_database()), 'MEMBER') AS owner,
       (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = session_user) AS createrole,
       to_regclass('team_members') IS NOT NULL AS team`,
    )
  ).rows[0];
  const who = { login: r.login, owner: r.owner, createRole: r.createrole };
  if (!r.team) return { ...who, team: undefined, visibility: undefined };
  // the tables exist only from migration 9 on: asked once they do, in one statement
  const m = (
    await client.query<{ role: 'lead' | 'annotator' | null; annotator: string | null; visibility: Visibility | null }>(
      `SELECT m.role AS role, a.name AS annotator, (SELECT visibility FROM team_config) AS visibility
       FROM (SELECT 1) one LEFT JOIN team_members m ON m.login = session_user LEFT JOIN annotators a ON a.id = m.annotator_id`,
    )
  ).rows[0];
  return {
    ...who,
    team: m.role !== null && m.annotator !== null ? { role: m.role, annotator: m.annotator } : undefined,
    visibility: m.visibility ?? undefined,
  };
}
