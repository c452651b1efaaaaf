// Many simulated annotators in one process, each with its own store (its own PostgreSQL connections), for the
// team bench's open-loop and saturation loads (bench/team.ts): a few of these processes drive hundreds of
// annotators from 2 cores, where bench/support/team-worker.ts spends a process on each.
// Argument: one JSON CrowdConfig. It opens a store per annotator, registers the annotators, prints "ready",
// waits for "go DEADLINE" (epoch ms) on stdin, runs until DEADLINE, closes its stores and prints one line
// "done {json}" (CrowdResult). Every label's rationale is "NAME#SEQ" (the team audit matches it to its ack).
// Each annotator has labelled one card and holds the next (claimed before the clock starts) when the load begins.
//  - open: each annotator works at a person's pace: a claim gives the card; after a think time (paceMs,
//    jittered by +-jitter, from a seeded random stream) it submits the label and claims the next card. The
//    times are scheduled, not waited for after each answer: a slow server makes the next event late (lags),
//    not rarer.
//  - closed: each annotator claims and submits as fast as the server answers (saturation).
//  - claims: each annotator claims and lets the claim go (releaseClaims) as fast as the server answers: the
//    claim path alone at saturation, every claim a new one (a pair let go is claimable at once).
import { setTimeout as sleep } from 'node:timers/promises';
import { saveLabel, type WorkbenchLabel } from '../../src/app/workbench';
import { openStore, PairFullError, type Store } from '../../src/store';
import { Rng } from '../../src/core/metrics/prng';
import { readyThenAwaitGo } from './start-signal';

export interface CrowdConfig {
  location: string;
  dataset: string;
  names: string[];
  mode: 'open' | 'closed' | 'claims';
  paceMs: number;
  jitter: number;
  ttlMs: number;
  seed: number;
}

export interface CrowdResult {
  claimMs: number[];
  submitMs: number[];
  /** open: how late each event started against its schedule (ms). */
  lagMs: number[];
  /** open: each event's submit and next claim together (ms): what the annotator waits between two cards. */
  eventMs: number[];
  /** [annotator, pair index, seq] of every acknowledged (committed) label. */
  acks: [string, number, number][];
  refusals: number;
  empty: number;
  errors: number;
  firstError: string | null;
}

/** A seeded uniform [0, 1) stream (the project's one PRNG), so two runs of one configuration schedule the same events. */
function random(seed: number): () => number {
  const r = new Rng(seed, 'team-crowd');
  return () => r.uniform();
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.env.DISCRETION_CROWD_CONFIG ?? '{}') as CrowdConfig;
  const stores: Store[] = [];
  const result: CrowdResult = {
    claimMs: [],
    submitMs: [],
    lagMs: [],
    eventMs: [],
    acks: [],
    refusals: 0,
    empty: 0,
    errors: 0,
    firstError: null,
  };
  const fail = (e: unknown) => {
    result.errors++;
    result.firstError ??= (e as Error).message;
  };
  try {
    // opened a few at a time: hundreds of connections at once would queue at the server's authentication
    const annotators: { name: string; store: Store; id: number }[] = [];
    for (let i = 0; i < cfg.names.length; i += 8) {
      const opened = await Promise.all(
        cfg.names.slice(i, i + 8).map(async (name) => {
          const store = await openStore(cfg.location);
          stores.push(store);
          return { name, store, id: (await store.write((tx) => tx.ensureAnnotator(name, 'human', null))).id };
        }),
      );
      annotators.push(...opened);
    }
    const dataset = (await stores[0].requireDataset(cfg.dataset)).id;
    const pairRowIds = await stores[0].pairRowIds(dataset);
    const claim = async (a: (typeof annotators)[number]): Promise<number | undefined> => {
      const t0 = performance.now();
      try {
        const pairIdx = await a.store.claimNextPair(dataset, a.id, Date.now(), cfg.ttlMs);
        result.claimMs.push(performance.now() - t0);
        if (pairIdx === undefined) result.empty++;
        return pairIdx;
      } catch (e) {
        fail(e);
        return undefined;
      }
    };
    let seq = 0;
    const submit = async (a: (typeof annotators)[number], pairIdx: number): Promise<void> => {
      const n = ++seq;
      const label: WorkbenchLabel = {
        value: n % 3 === 0 ? -1 : 1,
        raw: null,
        shownFirst: n % 2 === 0 ? 0 : 1,
        rationale: `${a.name}#${n}`,
        flagged: false,
        principles: [],
      };
      const t0 = performance.now();
      try {
        await saveLabel(a.store, a.id, pairRowIds.get(pairIdx)!, label);
      } catch (e) {
        if (e instanceof PairFullError) result.refusals++;
        else fail(e);
        return;
      }
      result.submitMs.push(performance.now() - t0);
      result.acks.push([a.name, pairIdx, n]);
    };
    // Before the clock starts, each annotator claims a card, labels it (closed and open loads; claims: lets it
    // go) and claims the next, as one who has been at work a while: the first claim and label of a
    // connection set up the server's side of it (the claim and room functions' plans, the triggers', kept for
    // the session, which a team member's window holds for hours), at a cost a 25-second load of fresh
    // sessions would count hundreds of times. Not counted in the load's figures (its labels are acknowledged).
    const cards = new Map<string, number | undefined>();
    for (let i = 0; i < annotators.length; i += 8)
      await Promise.all(
        annotators.slice(i, i + 8).map(async (a) => {
          const first = await claim(a);
          if (cfg.mode === 'claims') await a.store.write((tx) => tx.releaseClaims(dataset, a.id));
          else if (first !== undefined) await submit(a, first);
          cards.set(a.name, await claim(a));
          if (cfg.mode === 'claims') await a.store.write((tx) => tx.releaseClaims(dataset, a.id));
        }),
      );
    result.claimMs = [];
    result.submitMs = [];
    result.empty = 0;
    const deadline = await readyThenAwaitGo();

    await Promise.all(
      annotators.map(async (a, i) => {
        if (cfg.mode === 'claims') {
          while (Date.now() < deadline) {
            if ((await claim(a)) === undefined) await sleep(20);
            else await a.store.write((tx) => tx.releaseClaims(dataset, a.id)).catch(fail);
          }
          return;
        }
        let pairIdx = cards.get(a.name);
        if (cfg.mode === 'closed') {
          while (Date.now() < deadline) {
            if (pairIdx === undefined) await sleep(20);
            else await submit(a, pairIdx);
            pairIdx = await claim(a);
          }
          return;
        }
        const rand = random(cfg.seed * 100_003 + i);
        const think = () => cfg.paceMs * (1 + cfg.jitter * (2 * rand() - 1));
        // the annotators start spread over one think time, as a team whose members opened the workbench at
        // different moments
        let due = Date.now() + rand() * cfg.paceMs;
        for (;;) {
          if (due >= deadline) return;
          await sleep(Math.max(0, due - Date.now()));
          result.lagMs.push(Math.max(0, Date.now() - due));
          // the card in hand is labelled and the next one claimed; none (the queue was empty): claim again
          const t0 = performance.now();
          if (pairIdx !== undefined) await submit(a, pairIdx);
          pairIdx = await claim(a);
          result.eventMs.push(performance.now() - t0);
          due += think();
        }
      }),
    );
  } finally {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
  }
  process.stdout.write(`done ${JSON.stringify(result)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`team-crowd: ${(e as Error).message}\n`);
  process.exit(1);
});
