// `discretion team init|add|remove|members|whoami|split|status|release`: a team on a shared PostgreSQL database.
import type { Command } from 'commander';
import { UsageError } from '../../core/errors';
import { addTeamMember, initTeamDatabase, releaseClaims, removeTeamMember, requireLead, teamStatus, type Visibility } from '../../app/team';
import { isDatabaseUrl, VISIBILITIES, ASSIGNMENT_ORDERS, TEAM_ROLES, type TeamRole, type WorkSplit } from '../../store';
import { printJson, refusePassword, say, sayLines, table, withExistingStore, withStore } from '../context';
import { dbOption } from './data';

const fmt = (x: number | null, digits = 2) => (x === null ? '–' : x.toFixed(digits));

export function registerTeamCommands(program: Command): void {
  const team = program.command('team').description('team annotation on a shared PostgreSQL database: members and roles, the work split, progress and claims');

  team.command('init').description("set up (or upgrade) a team on a PostgreSQL database: the schema, the team's lead and annotator roles, their grants and row-level policies; run by the database's owner")
    .addOption(dbOption())
    .option('--visibility <v>', `blind: each annotator reads only her own labels; open: everyone's (${VISIBILITIES.join(', ')}; default: blind, or as set before)`)
    .option('--json', 'one JSON document')
    .action(async (o: { db: string; visibility?: string; json?: boolean }) => {
      if (o.visibility !== undefined && !(VISIBILITIES as readonly string[]).includes(o.visibility)) throw new UsageError(`--visibility must be one of ${VISIBILITIES.join(', ')}, not "${o.visibility}"`);
      if (!isDatabaseUrl(o.db)) throw new UsageError(`a team lives on a PostgreSQL database (--db postgres://...), not in the SQLite file ${o.db}`);
      refusePassword(o.db, '--db');
      const r = await initTeamDatabase(o.db, { visibility: o.visibility as Visibility | undefined });
      if (o.json) return printJson(r);
      say(`team database ${r.database}: schema version ${r.schemaVersion} (${r.migratedFrom === null ? 'created' : r.migratedFrom === r.schemaVersion ? 'up to date' : `upgraded from ${r.migratedFrom}`})`);
      say(`roles: ${r.leadRole} (leads), ${r.annotatorRole} (annotators); labels ${r.visibility === 'blind' ? 'blind: each annotator reads only her own' : "open: every member reads everyone's"}`);
      say('next: discretion team add LOGIN --annotator NAME [--role lead] for each member (their logins are the DBA\'s to create)');
    });

  team.command('add <login>').description("map a database login to an annotator name and give it a role in the team (a lead's or the owner's)")
    .addOption(dbOption())
    .requiredOption('--annotator <name>', "the annotator name the login's labels are written as")
    .option('--role <role>', `${TEAM_ROLES.join(' or ')}`, 'annotator')
    .action(async (login: string, o: { db: string; annotator: string; role: string }) => {
      if (!(TEAM_ROLES as readonly string[]).includes(o.role)) throw new UsageError(`--role must be one of ${TEAM_ROLES.join(', ')}, not "${o.role}"`);
      const m = await withStore(o.db, (store) => addTeamMember(store, login, o.annotator, o.role as TeamRole));
      say(`login ${m.login} is ${m.role === 'lead' ? 'a lead' : 'an annotator'} of the team, labelling as ${m.annotator}`);
    });

  team.command('remove <login>').description("take a login's role in the team away (its labels stay); a lead's or the owner's")
    .addOption(dbOption())
    .action(async (login: string, o: { db: string }) => {
      const gone = await withStore(o.db, (store) => removeTeamMember(store, login));
      say(gone ? `login ${login} is no longer a member of the team` : `login ${login} was no member of the team; nothing changed`);
    });

  team.command('members').description("the team's members: login, annotator name, role, who added them and when")
    .addOption(dbOption())
    .option('--json', 'one JSON document')
    .action(async (o: { db: string; json?: boolean }) => {
      const members = await withStore(o.db, (store) => store.teamMembers());
      if (o.json) return printJson({ schema: 'discretion-team-members/1', members });
      sayLines(members.length ? table(['login', 'annotator', 'role', 'added by', 'added at'], members.map((m) => [m.login, m.annotator, m.role, m.addedBy, m.addedAt])) : 'no members (discretion team add LOGIN --annotator NAME)');
    });

  team.command('whoami').description('who this login is on the database: its annotator name and role')
    .addOption(dbOption())
    .option('--json', 'one JSON document')
    .action(async (o: { db: string; json?: boolean }) => {
      const who = await withStore(o.db, (store) => store.identity());
      if (o.json) return printJson(who);
      if (who.login === null) return say(`${o.db} is a SQLite file: one person's, labelling under the name each command is given`);
      say(`login ${who.login}: ${who.role ? `${who.role} of the team, labelling as ${who.annotator}` : 'no member of the team'}${who.owner ? '; owns the database' : ''}${who.visibility ? `; labels are ${who.visibility}` : ''}`);
    });

  team.command('split').description('set how a dataset is split between annotators: labels wanted per pair (overlap) and the order pairs are handed out')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--overlap <k>', 'labels wanted per pair (1 or more), or "none" for no split (every annotator labels every pair)', '1')
    .option('--order <order>', `assignment order: ${ASSIGNMENT_ORDERS.join(', ')}`, 'fixed')
    .option('--seed <s>', 'seed of the random order', '0')
    .action(async (o: { db: string; dataset: string; overlap: string; order: string; seed: string }) => {
      const overlap = o.overlap === 'none' ? null : /^\d+$/.test(o.overlap) && Number(o.overlap) >= 1 ? Number(o.overlap) : undefined;
      if (overlap === undefined) throw new UsageError(`--overlap must be a whole number of labels per pair, 1 or more, or "none", not "${o.overlap}"`);
      if (!(ASSIGNMENT_ORDERS as readonly string[]).includes(o.order)) throw new UsageError(`--order must be one of ${ASSIGNMENT_ORDERS.join(', ')}, not "${o.order}"`);
      if (!/^\d+$/.test(o.seed)) throw new UsageError(`--seed must be a whole number, not "${o.seed}"`);
      const split: WorkSplit = { overlap, assignment: o.order as WorkSplit['assignment'], seed: Number(o.seed) };
      await withStore(o.db, async (store) => {
        await requireLead(store, 'splitting a dataset');
        const d = await store.requireDataset(o.dataset);
        await store.write((tx) => tx.setWorkSplit(d.id, split));
      });
      say(overlap === null ? `dataset "${o.dataset}": no split; every annotator labels every pair`
        : `dataset "${o.dataset}": ${overlap} label${overlap === 1 ? '' : 's'} per pair, handed out in ${o.order} order${o.order === 'random' ? ` (seed ${o.seed})` : ''}`);
    });

  team.command('status').description('per annotator: live claims, labels, labels per hour; pairs by how many labels they hold; pairwise agreement (Cohen\'s kappa)')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--json', 'one JSON document (schema discretion-team-status/1)')
    .action(async (o: { db: string; dataset: string; json?: boolean }) => {
      const s = await withExistingStore(o.db, '--db', (store) => teamStatus(store, o.dataset));
      if (o.json) return printJson(s);
      const k = s.split.overlap;
      say(`dataset "${s.dataset}": ${s.pairs} pairs; ${k === null ? 'no split (every annotator labels every pair)' : `${k} label${k === 1 ? '' : 's'} per pair, ${s.split.assignment} order`}`);
      say(`pairs by labels held: ${s.label_counts.map((n, i) => `${i}: ${n}`).join(', ')}`);
      say('');
      sayLines(table(['annotator', 'claimed', 'labelled', 'labels/hour', 'DA so far'], s.annotators.map((a) => [a.name, a.claimed, a.labelled, fmt(a.labels_per_hour, 1), a.da === null ? '–' : `${fmt(a.da)} (${a.da_n})`])));
      if (s.da_principles !== null) say(`DA so far: against each annotator's own principle labels of ${s.da_principles} (decisive consensus pairs in brackets)`);
      if (s.kappa.annotators.length > 1) {
        say('');
        say("Cohen's kappa of overall labels on the pairs both labelled:");
        sayLines(table(['', ...s.kappa.annotators], s.kappa.annotators.map((name, i) => [name, ...s.kappa.matrix[i].map((x, j) => (i === j ? '–' : `${fmt(x)} (${s.kappa.shared[i][j]})`))])));
      }
    });

  team.command('release').description('release live claims on a dataset (one annotator\'s, or everyone\'s), so their pairs go back to the queue')
    .addOption(dbOption())
    .requiredOption('--dataset <name>', 'dataset')
    .option('--annotator <name>', 'only this annotator\'s claims')
    .action(async (o: { db: string; dataset: string; annotator?: string }) => {
      const n = await withStore(o.db, (store) => releaseClaims(store, o.dataset, o.annotator));
      say(`released ${n} claim${n === 1 ? '' : 's'} on dataset "${o.dataset}"${o.annotator ? ` held by ${o.annotator}` : ''}`);
    });
}
