// One simulated annotator of the team bench (bench/team.ts) and the crash tests: a process of its own with its
// own store connection. It opens the store, registers its annotator, prints "ready", waits for "go DEADLINE"
// on stdin, then loops claimNextPair -> saveLabel (the store's claim and the workbench's save, as the
// workbench calls them) until DEADLINE (epoch ms). Each committed submission is acknowledged on stdout as
// "ack IDX SEQ" before the next claim starts (the label's rationale is "ANNOTATOR#SEQ", so the audit can
// match every stored label to its acknowledgement). At the end one line "done {json}" with the claim and
// submit latencies (ms), the refusals (a full pair's checkRoomForLabel) and the empty claims.
// Arguments: LOCATION DATASET ANNOTATOR [TTL_MS] [UNTIL_DONE]: with UNTIL_DONE=1 it also stops at its first empty
// claim (every pair left is full, its own, or claimed by a process that will label it). On a team's database
// LOCATION is the annotator's own login (its password in PGPASSWORD), mapped to ANNOTATOR by `team add`.
import { saveLabel, type WorkbenchLabel } from '../../src/app/workbench';
import { openStore, PairFullError } from '../../src/store';
import { readyThenAwaitGo } from './start-signal';

async function main(): Promise<void> {
  const [location, datasetName, annotator, ttlArg, untilDone] = process.argv.slice(2);
  const ttlMs = Number(ttlArg ?? 600_000);
  const store = await openStore(location);
  const dataset = (await store.requireDataset(datasetName)).id;
  // A team member's login labels as the annotator the lead mapped it to (it may not create annotators); any
  // other login (a superuser's, a SQLite file) registers the name it is given.
  const who = await store.identity();
  if (who.role && who.annotator !== annotator)
    throw new Error(`login ${who.login} labels as ${who.annotator}, not ${annotator}`);
  const me = who.role
    ? (await store.requireAnnotator(annotator)).id
    : (await store.write((tx) => tx.ensureAnnotator(annotator, 'human', null))).id;
  const pairRowIds = await store.pairRowIds(dataset);
  const deadline = await readyThenAwaitGo();
  const claimMs: number[] = [];
  const submitMs: number[] = [];
  let refusals = 0,
    empty = 0,
    errors = 0,
    seq = 0;
  const firstError: string[] = [];
  while (Date.now() < deadline) {
    const t0 = performance.now();
    let pairIdx: number | undefined;
    try {
      pairIdx = await store.claimNextPair(dataset, me, Date.now(), ttlMs);
    } catch (e) {
      errors++;
      if (!firstError.length) firstError.push((e as Error).message);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    claimMs.push(performance.now() - t0);
    if (pairIdx === undefined) {
      empty++;
      if (untilDone === '1') break;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    const n = ++seq;
    const label: WorkbenchLabel = {
      value: n % 3 === 0 ? -1 : 1,
      raw: null,
      shownFirst: n % 2 === 0 ? 0 : 1,
      rationale: `${annotator}#${n}`,
      flagged: false,
      principles: [],
    };
    const t1 = performance.now();
    try {
      await saveLabel(store, me, pairRowIds.get(pairIdx)!, label);
    } catch (e) {
      if (e instanceof PairFullError) refusals++;
      else {
        errors++;
        if (!firstError.length) firstError.push((e as Error).message);
      }
      continue;
    }
    submitMs.push(performance.now() - t1);
    process.stdout.write(`ack ${pairIdx} ${n}\n`);
  }
  await store.close();
  process.stdout.write(
    `done ${JSON.stringify({ claimMs, submitMs, refusals, empty, errors, firstError: firstError[0] ?? null })}\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`team-worker: ${(e as Error).message}\n`);
  process.exit(1);
});
