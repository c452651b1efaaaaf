// The team load bench's engine, shared by `npm run bench -- team` (bench/team.ts) and its tests
// (test/store/team-bench.test.ts, test/store/crash-postgres.test.ts): seed a dataset with a work split,
// run simulated annotators as separate processes (bench/support/team-worker.ts), and audit the database
// against what the processes acknowledged.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { initTeamDatabase, openStore, type LabelState, type Store, type WorkSplit } from '../../src/store';
import { createTeamLogins, loginUrl } from '../../test/support/postgres';
import { goLine } from './start-signal';

/** The project root (the folder with package.json), from wherever this file was bundled or loaded. */
export function projectRoot(from = __dirname): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'bench'))) return d;
    if (dirname(d) === d) throw new Error(`no project root above ${from}`);
  }
}

/**
 * Bundles the worker (bench/support/team-worker.ts, or another entry of that folder: team-crowd) into `outDir`;
 * its path. sqlite3 stays external (NODE_PATH points at the project's).
 */
export async function buildTeamWorker(
  outDir: string,
  root = projectRoot(),
  entry: 'team-worker' | 'team-crowd' = 'team-worker',
): Promise<string> {
  const outfile = join(outDir, `${entry}.cjs`);
  await build({
    entryPoints: [join(root, 'bench', 'support', `${entry}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['sqlite3', 'vscode', 'onnxruntime-node'],
    logLevel: 'warning',
  });
  return outfile;
}

const pairText = (i: number) => ({
  idx: i,
  sourceId: `t${i}`,
  prompt: `Human: how do I store cleaning products safely? (case ${i})`,
  y0: `Keep them apart, ventilated, out of reach (${i}).`,
  y1: `Any cupboard will do (${i}).`,
});

/** A dataset of `pairs` pairs with the split (overlap k, fixed order); its row id. */
export async function seedTeamDataset(location: string, name: string, pairs: number, overlap: number): Promise<number> {
  const s = await openStore(location);
  try {
    return await s.write(
      async (tx) => {
        const id = await tx.createDataset(name, 'jsonl', null);
        const first = await tx.nextPairRowId();
        for (let i = 0; i < pairs; i += 5000) {
          const n = Math.min(5000, pairs - i);
          await tx.insertPairs(
            id,
            Array.from({ length: n }, (_, j) => pairText(i + j)),
            Array.from({ length: n }, (_, j) => first + i + j),
          );
        }
        await tx.setWorkSplit(id, { overlap, assignment: 'fixed', seed: 0 });
        return id;
      },
      { checkForeignKeys: false },
    );
  } finally {
    await s.close();
  }
}

export interface WorkerStats {
  claimMs: number[];
  submitMs: number[];
  refusals: number;
  empty: number;
  errors: number;
  firstError: string | null;
}
export interface Ack {
  idx: number;
  seq: number;
}
export interface WorkerRun {
  name: string;
  child: ChildProcess;
  acks: Ack[];
  stderr: string;
  stats?: WorkerStats;
  exited: Promise<number | null>;
  ready: Promise<void>;
}

/** Starts one annotator process; it waits for `go(deadline)`. `env`: added to the process's environment (PGPASSWORD). */
export function startWorker(
  script: string,
  root: string,
  location: string,
  dataset: string,
  name: string,
  ttlMs = 600_000,
  untilDone = false,
  env: NodeJS.ProcessEnv = {},
): WorkerRun {
  const child = spawn(process.execPath, [script, location, dataset, name, String(ttlMs), untilDone ? '1' : '0'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, NODE_PATH: join(root, 'node_modules') },
  });
  const run: WorkerRun = { name, child, acks: [], stderr: '', exited: undefined!, ready: undefined! };
  let buffered = '';
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  run.ready = new Promise<void>((res, rej) => {
    readyResolve = res;
    readyReject = rej;
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buffered += d;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const l = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (l === 'ready') readyResolve();
      else if (l.startsWith('ack ')) {
        const [, idx, seq] = l.split(' ');
        run.acks.push({ idx: Number(idx), seq: Number(seq) });
      } else if (l.startsWith('done ')) run.stats = JSON.parse(l.slice(5)) as WorkerStats;
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    run.stderr += d;
  });
  child.stdin!.on('error', () => undefined); // a killed worker's stdin
  run.exited = new Promise((resolve) =>
    child.on('exit', (code) => {
      readyReject(new Error(`annotator ${name} exited (${code}) before it was ready: ${run.stderr.trim()}`));
      resolve(code);
    }),
  );
  run.ready.catch(() => undefined);
  return run;
}

export const go = (w: WorkerRun, deadline: number) => w.child.stdin!.write(goLine(deadline));

export interface TeamLoadResult {
  workers: WorkerRun[];
  seconds: number;
}

/** The name of the load's i-th annotator (0-based): ann01, ann02, ... */
export const annotatorName = (i: number, prefix = 'ann') => `${prefix}${String(i + 1).padStart(2, '0')}`;

/**
 * `annotators` processes labelling `dataset` for `seconds` (measured from the moment all are ready); with
 * `untilDone` each also stops at its first empty claim. `locationOf`: each annotator's own location (a team's
 * login per annotator), else `location` for all; `env`: added to each process's environment (PGPASSWORD).
 */
export async function runTeamLoad(o: {
  script: string;
  root: string;
  location: string;
  dataset: string;
  annotators: number;
  seconds: number;
  prefix?: string;
  ttlMs?: number;
  untilDone?: boolean;
  locationOf?: (name: string) => string;
  env?: NodeJS.ProcessEnv;
}): Promise<TeamLoadResult> {
  const workers = Array.from({ length: o.annotators }, (_, i) => {
    const name = annotatorName(i, o.prefix);
    return startWorker(
      o.script,
      o.root,
      o.locationOf?.(name) ?? o.location,
      o.dataset,
      name,
      o.ttlMs,
      o.untilDone,
      o.env,
    );
  });
  try {
    await Promise.all(workers.map((w) => w.ready));
  } catch (e) {
    for (const w of workers) w.child.kill('SIGKILL');
    throw e;
  }
  const t0 = Date.now();
  const deadline = t0 + o.seconds * 1000;
  for (const w of workers) go(w, deadline);
  const codes = await Promise.all(workers.map((w) => w.exited));
  const seconds = (Date.now() - t0) / 1000;
  codes.forEach((c, i) => {
    if (c !== 0) throw new Error(`annotator ${workers[i].name} exited with ${c}: ${workers[i].stderr.trim()}`);
  });
  return { workers, seconds };
}

/**
 * The audit: every acknowledged label is stored exactly once (its preference row carries the rationale
 * "NAME#SEQ" of its ack, and the label history holds exactly one submission of it); no stored label of
 * these annotators lacks an ack (up to `unackedAllowed` per annotator: a submission in flight when a
 * process was killed); no pair holds more than `overlap` human labels; and each annotator's label
 * history replays to the labels stored (every row's `before` is the previous row's `after`, the last
 * `after` is the current label). Resolves with the problems found, empty when all hold.
 */
export async function auditTeam(
  store: Store,
  datasetName: string,
  overlap: number,
  acks: Map<string, Ack[]>,
  unackedAllowed = 0,
): Promise<string[]> {
  const problems: string[] = [];
  const dataset = (await store.requireDataset(datasetName)).id;
  const pairRowIds = await store.pairRowIds(dataset);
  const pairIdxOf = new Map([...pairRowIds].map(([pairIdx, row]) => [row, pairIdx]));
  const info = await store.info();
  const humans = new Set<number>();
  for (const a of info.annotators) if (a.kind === 'human') humans.add((await store.requireAnnotator(a.name)).id);
  const prefs = await store.overallPreferences(dataset);
  const perPair = new Map<number, number>();
  for (const p of prefs) if (humans.has(p.annotatorId)) perPair.set(p.pairIdx, (perPair.get(p.pairIdx) ?? 0) + 1);
  for (const [pairIdx, n] of perPair)
    if (n > overlap) problems.push(`pair ${pairIdx} holds ${n} human labels, more than the overlap ${overlap}`);

  for (const [name, list] of acks) {
    const annotator = await store.getAnnotator(name);
    if (!annotator) {
      if (list.length) problems.push(`annotator ${name} acknowledged ${list.length} labels but is not in the database`);
      continue;
    }
    const stored = prefs.filter((p) => p.annotatorId === annotator.id);
    const storedIdx = new Set(stored.map((p) => p.pairIdx));
    const history = (await store.labelHistory(annotator.id)).filter((h) => pairIdxOf.has(h.pairRowId));
    const submits = new Map<number, typeof history>();
    for (const h of history)
      if (h.action === 'submit' && !h.undone)
        submits.set(pairIdxOf.get(h.pairRowId)!, [...(submits.get(pairIdxOf.get(h.pairRowId)!) ?? []), h]);
    const rows = await store.preferencesForPairs(stored.map((p) => pairRowIds.get(p.pairIdx)!));
    const rationale = new Map(
      rows.filter((r) => r.annotator === name).map((r) => [pairIdxOf.get(r.pairRowId)!, r.rationale]),
    );
    const seen = new Set<number>();
    for (const a of list) {
      if (seen.has(a.idx)) problems.push(`${name} acknowledged pair ${a.idx} twice`);
      seen.add(a.idx);
      if (!storedIdx.has(a.idx)) {
        problems.push(`${name}'s acknowledged label on pair ${a.idx} (#${a.seq}) is not stored`);
        continue;
      }
      if (rationale.get(a.idx) !== `${name}#${a.seq}`)
        problems.push(
          `${name}'s label on pair ${a.idx} is not the acknowledged one (#${a.seq}): rationale ${JSON.stringify(rationale.get(a.idx))}`,
        );
      const n = submits.get(a.idx)?.length ?? 0;
      if (n !== 1)
        problems.push(`${name}'s acknowledged label on pair ${a.idx} has ${n} submissions in the label history, not 1`);
    }
    const unacked = [...storedIdx].filter((pairIdx) => !seen.has(pairIdx));
    if (unacked.length > unackedAllowed)
      problems.push(
        `${name} has ${unacked.length} stored labels without an acknowledgement (pairs ${unacked.slice(0, 5).join(', ')}${unacked.length > 5 ? ', ...' : ''})`,
      );
    // the history replays to the stored labels, pair by pair
    const last = new Map<number, LabelState>();
    for (const h of history) {
      const pairIdx = pairIdxOf.get(h.pairRowId)!;
      const prev = last.get(pairIdx) ?? { preference: null, principles: [] };
      if (JSON.stringify(h.before) !== JSON.stringify(prev))
        problems.push(
          `${name}'s label history on pair ${pairIdx} (row ${h.id}) does not start from the previous state`,
        );
      last.set(pairIdx, h.after);
    }
    for (const pairIdx of new Set([...storedIdx, ...last.keys()])) {
      const fromHistory = last.get(pairIdx)?.preference ?? null;
      const isStored = storedIdx.has(pairIdx);
      if ((fromHistory !== null) !== isStored)
        problems.push(
          `${name}'s label history on pair ${pairIdx} ends ${fromHistory ? 'with a label' : 'without a label'}, the database ${isStored ? 'holds one' : 'holds none'}`,
        );
      else if (fromHistory && fromHistory.rationale !== rationale.get(pairIdx))
        problems.push(
          `${name}'s label history on pair ${pairIdx} ends with ${JSON.stringify(fromHistory.rationale)}, the database holds ${JSON.stringify(rationale.get(pairIdx))}`,
        );
    }
  }
  return problems;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The figures of one load run, one line. */
export function describeLoad(r: TeamLoadResult): string {
  const stats = r.workers.map((w) => w.stats!);
  const submits = stats.flatMap((s) => s.submitMs);
  const claims = stats.flatMap((s) => s.claimMs);
  const sum = (f: (s: WorkerStats) => number) => stats.reduce((x, s) => x + f(s), 0);
  const errors = sum((s) => s.errors);
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  return (
    `${r.workers.length} annotators, ${r.seconds.toFixed(1)} s: ${submits.length} labels, ${(submits.length / r.seconds).toFixed(1)} submits/s; ` +
    `submit p50 ${ms(percentile(submits, 50))}, p95 ${ms(percentile(submits, 95))}; claim p50 ${ms(percentile(claims, 50))}, p95 ${ms(percentile(claims, 95))}, max ${ms(Math.max(...claims))}; ` +
    `contention: ${sum((s) => s.refusals)} refused submits (pair full), ${sum((s) => s.empty)} empty claims${errors ? `; ${errors} errors (first: ${stats.find((s) => s.firstError)?.firstError})` : ''}`
  );
}

export const acksOf = (r: { workers: WorkerRun[] }) => new Map(r.workers.map((w) => [w.name, w.acks]));

/**
 * Claim latency on a large, mostly done dataset: `pairs` pairs at overlap 2 whose first `full` pairs already
 * hold 2 human labels; `claims` fresh annotators claim one pair each (ms per claim, in order).
 */
/** Claim latencies (ms) of `claims` fresh annotators, one claim each, on a new `pairs`-pair dataset at overlap 2 in this order. */
export async function claimInOrder(
  location: string,
  pairs: number,
  order: WorkSplit['assignment'],
  claims: number,
): Promise<number[]> {
  const dataset = await seedTeamDataset(location, `order-${order}`, pairs, 2);
  const s = await openStore(location);
  try {
    await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 2, assignment: order, seed: 7 }));
    const ids: number[] = [];
    await s.write(async (tx) => {
      for (let i = 0; i < claims; i++) ids.push((await tx.ensureAnnotator(`${order}${i}`, 'human', null)).id);
    });
    const out: number[] = [];
    for (const id of ids) {
      const t0 = performance.now();
      if ((await s.claimNextPair(dataset, id, Date.now(), 600_000)) === undefined)
        throw new Error(`no pair claimed in ${order} order`);
      out.push(performance.now() - t0);
    }
    return out;
  } finally {
    await s.close();
  }
}

export async function claimOnMostlyDone(
  location: string,
  pairs: number,
  full: number,
  claims: number,
): Promise<number[]> {
  await seedTeamDataset(location, 'large', pairs, 2);
  const s = await openStore(location);
  try {
    const dataset = (await s.requireDataset('large')).id;
    await s.write(async (tx) => {
      const pairRowIds = await tx.pairRowIds(dataset);
      for (const name of ['done1', 'done2']) {
        const a = (await tx.ensureAnnotator(name, 'human', null)).id;
        await tx.insertPreferences(
          a,
          Array.from({ length: full }, (_, i) => ({ pairIdx: i, value: 1 as const })),
          (i) => pairRowIds.get(i)!,
        );
      }
    });
    const ids: number[] = [];
    await s.write(async (tx) => {
      for (let i = 0; i < claims; i++) ids.push((await tx.ensureAnnotator(`late${i}`, 'human', null)).id);
    });
    const out: number[] = [];
    for (const id of ids) {
      const t0 = performance.now();
      const pairIdx = await s.claimNextPair(dataset, id, Date.now(), 600_000);
      out.push(performance.now() - t0);
      if (pairIdx === undefined || pairIdx < full)
        throw new Error(`claim on the mostly done dataset gave ${pairIdx}, expected a pair from ${full} on`);
    }
    return out;
  } finally {
    await s.close();
  }
}

/**
 * A team's database on `serverUrl` (a superuser's URL) as a DBA and a lead set one up: a lead login that owns
 * it (CREATEROLE), `team init`, and one annotator login per name, added to the team under that name. Login
 * names are the server's: `prefix` keeps two teams on one server apart. Resolves with the lead's URL (with its
 * password, for this process's own connections) and each annotator's URL without one (the password goes in
 * PGPASSWORD, as the CLI asks).
 */
export async function setUpTeamDatabase(
  serverUrl: string,
  password: string,
  database: string,
  names: string[],
  prefix = '',
): Promise<{ leadUrl: string; annotatorUrl: (name: string) => string }> {
  const lead = `${prefix}lead`;
  await createTeamLogins(serverUrl, { database, lead, members: names.map((n) => `${prefix}${n}`), password });
  const at = (login: string, withPassword: boolean) =>
    loginUrl(serverUrl, login, database, withPassword ? password : undefined);
  await initTeamDatabase(at(lead, true));
  const s = await openStore(at(lead, true));
  try {
    for (const n of names) await s.addTeamMember(`${prefix}${n}`, n, 'annotator');
  } finally {
    await s.close();
  }
  return { leadUrl: at(lead, true), annotatorUrl: (n) => at(`${prefix}${n}`, false) };
}
