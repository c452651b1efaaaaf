// Claims of one dataset by many connections at once (issue 22), on a real SQLite file and on the run's real
// PostgreSQL server. On PostgreSQL the claimers of one dataset no longer take turns (migration 11): each claim
// takes a pair's lock with a try and reads the pair's room afresh under it. What must hold however the claims
// interleave, checked here against what each connection was handed:
//  - no pair is held by more than k annotators at once (labels plus live claims), so with k = 1 no pair is
//    handed to two people, and no submission of a claimed pair is ever refused as full;
//  - no pair is starved: with labels, undos and abandoned (expiring) claims going on at once, every pair ends
//    with exactly k labels;
//  - the same with every annotator on her own login under the team's row-level security (PostgreSQL);
//  - a claim that lapsed and whose place another took is neither resumed nor renewed, even by a client whose
//    clock lags (the one rule that a claim's clock could break, on both databases);
//  - SQLite keeps its one writer; PostgreSQL's claimers do not wait for each other, only one annotator's own.
// Seen failing: the handing and labelling tests without the room read again under the pair's lock (pairs
// handed to k + 1); the waiting test and the lapsed-claim test (both databases) with the claim code before
// issue 22; the labelling test with a lapsed own claim resumed without its room read (a pair held by 3 at
// overlap 2).
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { saveLabel, undoLastLabel, type WorkbenchLabel } from '../../src/app/workbench';
import { ASSIGNMENT_ORDERS, openStore, PairFullError, type Store, type WorkSplit } from '../../src/store';
import { seedTeamDataset, setUpTeamDatabase } from '../../bench/support/team-load';
import { freshPostgresDatabase, loginUrl } from '../support/postgres';
import { tempDir } from '../support/helpers';
import { steppedServerClocks } from '../support/server-clock';

const server = inject('postgres');
const adapters = [
  { name: 'SQLite', skip: undefined as string | undefined, location: async () => join(tempDir(), 'claims.db') },
  {
    name: 'PostgreSQL',
    skip: 'skip' in server ? server.skip : undefined,
    location: () => freshPostgresDatabase('url' in server ? server.url : ''),
  },
];

/** Connections claiming at once (the issue asks for many claimers on one dataset, e.g. 40). */
const CONNECTIONS = 40;

const label = (rationale: string): WorkbenchLabel => ({
  value: 1,
  raw: null,
  shownFirst: 0,
  rationale,
  flagged: false,
  principles: [],
});

for (const adapter of adapters) {
  describe.skipIf(adapter.skip)(`claims at once: ${adapter.name}`, () => {
    const open: Store[] = [];
    afterAll(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
    });
    const connect = async (location: string) => {
      const s = await openStore(location);
      open.push(s);
      return s;
    };
    const closeAll = async (stores: Store[]) => {
      for (const s of stores) {
        await s.close();
        open.splice(open.indexOf(s), 1);
      }
    };
    /** A dataset of `pairs` pairs split with overlap k in this order, `annotators` humans, and CONNECTIONS connections to it. */
    const setUp = async (pairs: number, k: number, order: WorkSplit['assignment'], annotators: number) => {
      const location = await adapter.location();
      const dataset = await seedTeamDataset(location, 'team', pairs, k);
      const first = await connect(location);
      await first.write((tx) => tx.setWorkSplit(dataset, { overlap: k, assignment: order, seed: 11 }));
      const ids = await first.write(async (tx) => {
        const out: number[] = [];
        for (let i = 0; i < annotators; i++) out.push((await tx.ensureAnnotator(`a${i}`, 'human', null)).id);
        return out;
      });
      const stores = [first];
      while (stores.length < CONNECTIONS) stores.push(await connect(location));
      return { location, dataset, ids, stores, pairRowIds: await first.pairRowIds(dataset) };
    };

    for (const k of [1, 2]) {
      for (const order of ASSIGNMENT_ORDERS) {
        it(`overlap ${k}, ${order} order: ${CONNECTIONS} connections claim at once; no pair is handed to more than ${k}, every slot is handed once`, async () => {
          // 30 pairs x k slots, 5 annotators a connection (200 claims in all): the slots run out while claims
          // are still coming, so the last ones race for the last slots. No claim ends (a long TTL, no label).
          const pairs = 30;
          const { dataset, ids, stores } = await setUp(pairs, k, order, CONNECTIONS * 5);
          const handed = new Map<number, Set<number>>();
          await Promise.all(
            stores.map(async (s, conn) => {
              for (let j = 0; j < 5; j++) {
                const annotator = ids[conn * 5 + j];
                const pairIdx = await s.claimNextPair(dataset, annotator, Date.now(), 600_000);
                if (pairIdx === undefined) continue;
                const holders = handed.get(pairIdx) ?? new Set<number>();
                expect(holders.has(annotator), `annotator ${annotator} handed pair ${pairIdx} twice`).toBe(false);
                handed.set(pairIdx, holders.add(annotator));
              }
            }),
          );
          // every pair handed to exactly k annotators: never more (the rule), never fewer (a claim that answered
          // "none" while a slot was free); 30 x k claims in all, the rest answered none
          expect([...handed.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: pairs }, (_, i) => i));
          for (const [pairIdx, holders] of handed) expect(holders.size, `pair ${pairIdx}`).toBe(k);
          // and the database holds exactly those claims
          const live = await stores[0].liveClaims(dataset, Date.now());
          expect(live).toHaveLength(pairs * k);
          const names = new Map(ids.map((id, i) => [id, `a${i}`]));
          expect(live.map((c) => `${c.pairIdx} ${c.annotator}`).sort()).toEqual(
            [...handed].flatMap(([pairIdx, h]) => [...h].map((a) => `${pairIdx} ${names.get(a)}`)).sort(),
          );
          await closeAll(stores);
        }, 120_000);
      }
    }

    for (const order of ASSIGNMENT_ORDERS) {
      it(`overlap 2, ${order} order: ${CONNECTIONS} annotators claim, label, undo and abandon claims at once; every pair ends with exactly 2 labels, no claimed pair is refused`, async () => {
        // Each connection is one annotator. Every 7th claim is abandoned (a 300 ms claim, never labelled: it
        // expires and its pair goes to someone else); every 5th label is undone at once (its pair returns,
        // to the queue's floors too). An annotator stops when nothing is left to claim and no claim of the
        // others could still be freed for it.
        const pairs = 60;
        const { dataset, ids, stores, pairRowIds } = await setUp(pairs, 2, order, CONNECTIONS);
        // live holders of each pair (labels and claims that will be labelled), counted on the safe side: a
        // holder is added once its claim has committed and removed before its undo starts
        const holders = new Map<number, Set<number>>();
        let refused = 0;
        let undone = 0;
        let abandoned = 0;
        await Promise.all(
          stores.map(async (s, conn) => {
            const me = ids[conn];
            for (let n = 1; ; n++) {
              const abandon = (n + conn) % 7 === 0;
              const pairIdx = await s.claimNextPair(dataset, me, Date.now(), abandon ? 300 : 600_000);
              if (pairIdx === undefined) {
                const freed = await s.claimFreedInMs(dataset, me, Date.now());
                if (freed === undefined) return;
                await sleep(Math.min(freed, 300) + 5);
                continue;
              }
              if (abandon) {
                abandoned++;
                continue;
              }
              const h = holders.get(pairIdx) ?? new Set<number>();
              holders.set(pairIdx, h.add(me));
              expect(h.size, `pair ${pairIdx} held by ${[...h].join(', ')}`).toBeLessThanOrEqual(2);
              try {
                await saveLabel(s, me, pairRowIds.get(pairIdx)!, label(`${me}#${n}`));
              } catch (e) {
                if (!(e instanceof PairFullError)) throw e;
                refused++;
                continue;
              }
              if ((n + conn) % 5 === 0) {
                h.delete(me);
                expect(await undoLastLabel(s, me, dataset)).toBe(pairIdx);
                undone++;
              }
            }
          }),
        );
        expect(refused).toBe(0);
        // the run did what it set out to: some labels undone, some claims abandoned
        expect(undone).toBeGreaterThan(0);
        expect(abandoned).toBeGreaterThan(0);
        // every pair got its 2 labels: none left behind by an undo, an expired claim or a floor
        expect(await stores[0].labelCountHistogram(dataset)).toEqual([0, 0, pairs]);
        const perPair = new Map<number, Set<number>>();
        for (const p of await stores[0].overallPreferences(dataset))
          perPair.set(p.pairIdx, (perPair.get(p.pairIdx) ?? new Set()).add(p.annotatorId));
        for (const [pairIdx, who] of perPair) expect(who.size, `pair ${pairIdx}`).toBe(2);
        await closeAll(stores);
      }, 180_000);
    }

    // PostgreSQL only: a SQLite file has no logins
    if (adapter.name === 'PostgreSQL')
      it(`overlap 2: ${CONNECTIONS} team members, each her own login under the team's row-level security, claim and label at once; every pair ends with exactly 2 labels, none refused`, async () => {
        // as a team runs it: the lead's login sets the split up, each annotator claims through her own login
        // (the claim functions run with the caller's rights, under the claims' policies)
        const pg = server as { url: string; password: string };
        const tag = `${process.pid}_${Date.now().toString(36)}`;
        const database = `claims_team_${tag}`;
        const names = Array.from({ length: CONNECTIONS }, (_, i) => `m${i}`);
        const team = await setUpTeamDatabase(pg.url, pg.password, database, names, `c${tag}_`);
        const pairs = 50;
        const dataset = await seedTeamDataset(team.leadUrl, 'team', pairs, 2);
        const members = await Promise.all(
          names.map((n) => connect(loginUrl(pg.url, `c${tag}_${n}`, database, pg.password))),
        );
        const pairRowIds = await members[0].pairRowIds(dataset);
        let refused = 0;
        const labelled = await Promise.all(
          members.map(async (s, i) => {
            const me = (await s.requireAnnotator(names[i])).id;
            let n = 0;
            for (;;) {
              const pairIdx = await s.claimNextPair(dataset, me, Date.now(), 600_000);
              if (pairIdx === undefined) return n;
              try {
                await saveLabel(s, me, pairRowIds.get(pairIdx)!, label(`${names[i]}#${n + 1}`));
                n++;
              } catch (e) {
                if (!(e instanceof PairFullError)) throw e;
                refused++;
              }
            }
          }),
        );
        expect(refused).toBe(0);
        expect(labelled.reduce((a, b) => a + b, 0)).toBe(pairs * 2);
        const lead = await connect(team.leadUrl);
        expect(await lead.labelCountHistogram(dataset)).toEqual([0, 0, pairs]);
        await closeAll([...members, lead]);
      }, 120_000);

    it('a lapsed claim whose place another took is neither resumed nor renewed by its annotator, even with a clock that lags', async () => {
      // On PostgreSQL the claims' times are the server's: the test steps the server's clock (test/support/server-clock.ts).
      const timed = steppedServerClocks(adapter.name === 'PostgreSQL');
      const { location, dataset, ids, stores, pairRowIds } = await setUp(3, 1, 'fixed', 2);
      await closeAll(stores.splice(2));
      const [a, b] = [await timed(stores[0], location), await timed(stores[1], location)];
      const [alice, bilal] = ids;
      expect(await a.claimNextPair(dataset, alice, 1_000, 100)).toBe(0); // until 1,100
      expect(await b.claimNextPair(dataset, bilal, 1_200, 100)).toBe(0); // alice's claim has lapsed: pair 0 is bilal's
      // alice's window, its clock behind (1,050: her claim still looks live), renews and claims: pair 0 is
      // taken, so her claim is gone and her next pair is 1; never a second holder of pair 0 (overlap 1)
      expect(await a.write((tx) => tx.renewClaim(pairRowIds.get(0)!, alice, 1_050, 100))).toBe(false);
      expect(await a.claimNextPair(dataset, alice, 1_050, 100)).toBe(1);
      expect((await a.liveClaims(dataset, 1_060)).map((c) => [c.pairIdx, c.annotator])).toEqual([
        [0, 'a1'],
        [1, 'a0'],
      ]);
      await closeAll(stores);
    });

    it(
      adapter.name === 'PostgreSQL'
        ? "a claim does not wait for another annotator's claim on the dataset, only for the same annotator's"
        : 'a claim waits for any other write (SQLite: one writer), and one annotator in two windows gets one pair',
      async () => {
        const { dataset, ids, stores } = await setUp(10, 2, 'fixed', 2);
        const [a, b, c] = stores;
        const [alice, bilal] = ids;
        // alice's claim in a transaction held open until the test lets it go
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        let claimed!: (pairIdx: number | undefined) => void;
        const aliceClaimed = new Promise<number | undefined>((r) => {
          claimed = r;
        });
        const held = a.write(async (tx) => {
          claimed(await tx.claimNextPair(dataset, alice, Date.now(), 600_000));
          await gate;
        });
        expect(await aliceClaimed).toBe(0);
        const settledWithin = <T>(p: Promise<T>, ms: number) =>
          Promise.race([p.then(() => true), sleep(ms).then(() => false)]);
        // bilal claims on another connection; alice, in a second window, too
        const bilalClaim = b.claimNextPair(dataset, bilal, Date.now(), 600_000);
        const aliceAgain = c.claimNextPair(dataset, alice, Date.now(), 600_000);
        try {
          if (adapter.name === 'PostgreSQL') {
            // bilal's claim goes through while alice's transaction is open: pair 1 (pair 0 is locked by alice's claim)
            expect(await settledWithin(bilalClaim, 5_000)).toBe(true);
            expect(await bilalClaim).toBe(1);
            // alice's second window waits for her first (one annotator's claims take turns) ...
            expect(await settledWithin(aliceAgain, 500)).toBe(false);
          } else {
            expect(await settledWithin(bilalClaim, 500)).toBe(false);
          }
        } finally {
          release(); // also when an expectation failed: the open transaction would hold the others
          await held;
        }
        // ... and then resumes the same claim; on SQLite bilal's claim, after alice's, finds room for 2 on pair 0
        expect(await aliceAgain).toBe(0);
        expect(await bilalClaim).toBe(adapter.name === 'PostgreSQL' ? 1 : 0);
        await closeAll(stores);
      },
      60_000,
    );
  });
}
