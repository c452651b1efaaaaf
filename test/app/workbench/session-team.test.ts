// The workbench on a dataset split among a team: cards handed out by claims, renewed while open, a label on a
// pair that got its k labels from others refused with one message and the session on its next claim. Run on a
// real SQLite file and on the run's real PostgreSQL server, each annotator with its own connection.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { importDataset } from '../../../src/importers/datasets';
import { importPrincipleList } from '../../../src/importers/principles';
import {
  PairTakenError,
  READ_AHEAD,
  saveLabel,
  undoLastLabel,
  WorkbenchSession,
  type FreedPairHooks,
  type WorkbenchLabel,
} from '../../../src/app/workbench';
import { openStore, type Store } from '../../../src/store';
import { ROOT, tempDir } from '../../support/helpers';
import { freshPostgresDatabase, pooledRun } from '../../support/postgres';
import { steppedServerClocks } from '../../support/server-clock';

const SAMPLE = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl'); // 30 pairs
const LIST = join(ROOT, 'media', 'principles', 'demo-safety.yaml'); // 6 principles

const server = inject('postgres');
const adapters = [
  { name: 'SQLite', skip: undefined, location: async () => join(tempDir(), 'team.db') },
  {
    name: 'PostgreSQL',
    skip: 'skip' in server ? server.skip : undefined,
    location: () => freshPostgresDatabase('url' in server ? server.url : ''),
  },
].filter((a) => a.name !== 'SQLite' || !pooledRun(server));

const grid = [null, null, null, null, null, null] as const;

for (const adapter of adapters) {
  describe.skipIf(adapter.skip)(`workbench by claims: ${adapter.name}`, () => {
    const open: Store[] = [];
    afterAll(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
    });
    /** On PostgreSQL claims follow the server's clock: the test steps the server's clock to the session's (test/support/postgres.ts). */
    const timed = steppedServerClocks(adapter.name === 'PostgreSQL');
    const connect = async (location: string) => {
      const s = await openStore(location);
      open.push(s);
      return timed(s, location);
    };
    /** The sample dataset and the demo list, split with overlap k; the location to open more connections on. */
    const setup = async (k: number | null) => {
      const location = await adapter.location();
      const store = await connect(location);
      await importDataset(store, {
        format: 'jsonl',
        file: SAMPLE,
        dataset: 'sample',
        mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' },
      });
      await importPrincipleList(store, { file: LIST, name: 'demo' });
      const ds = (await store.getDataset('sample'))!;
      await store.write((tx) => tx.setWorkSplit(ds.id, { overlap: k, assignment: 'fixed', seed: 0 }));
      return { location, store, ds };
    };
    const session = async (location: string, annotator: string, now?: () => number) =>
      WorkbenchSession.open(
        await connect(location),
        { dataset: 'sample', annotator, principleList: 'demo' },
        { claimTtlMs: 60_000, now, renewTimer: false },
      );
    /** Labels until the session has no claim left; resolves with the pairs it labelled. */
    const labelAll = async (s: WorkbenchSession) => {
      const done: number[] = [];
      await s.start();
      while (s.current !== undefined) {
        const card = (await s.card())!;
        expect(s.claimedIdx).toBe(card.pairIdx);
        expect(await s.readAhead()).toEqual([]); // nothing is read ahead: the next pair is claimed after this label
        await s.submit({
          type: 'submit',
          seq: card.seq,
          pairIdx: card.pairIdx,
          overall: 'A',
          grid: [...grid],
          rationale: '',
          flagged: false,
          ahead: null,
        });
        done.push(card.pairIdx);
        expect(await s.follow(card.pairIdx, null)).toBe(false);
      }
      expect(s.claimedIdx).toBeUndefined();
      return done;
    };
    /** Human labels per pair index, and by whom. */
    const labelsByPair = async (store: Store, datasetId: number) => {
      const names = new Map((await store.listAnnotators()).map((a) => [a.id, a.name]));
      const out = new Map<number, string[]>();
      for (const p of await store.overallPreferences(datasetId))
        out.set(p.pairIdx, [...(out.get(p.pairIdx) ?? []), names.get(p.annotatorId)!].sort());
      return out;
    };

    it('two annotators on k = 2, labelling at once, each with its own connection: every pair ends with exactly 2 labels', async () => {
      const { location, store, ds } = await setup(2);
      const [alice, bob] = await Promise.all([session(location, 'alice'), session(location, 'bob')]);
      expect(alice.claimMode).toBe(true);
      const [a, b] = await Promise.all([labelAll(alice), labelAll(bob)]);
      // k = 2 with two annotators: each labels all 30 pairs (about in the fixed order: on PostgreSQL a claim
      // skips a pair row the other's commit holds locked, and takes it later)
      const all = Array.from({ length: 30 }, (_, i) => i);
      expect([...a].sort((x, y) => x - y)).toEqual(all);
      expect([...b].sort((x, y) => x - y)).toEqual(all);
      const labels = await labelsByPair(store, ds.id);
      expect(labels.size).toBe(30);
      for (const who of labels.values()) expect(who).toEqual(['alice', 'bob']);
      expect(await store.labelCountHistogram(ds.id)).toEqual([0, 0, 30]);
    });

    it('three annotators on k = 2: 60 labels, every pair exactly 2 from 2 different annotators', async () => {
      const { location, store, ds } = await setup(2);
      const sessions = await Promise.all(['ann', 'ben', 'cat'].map((n) => session(location, n)));
      const done = await Promise.all(sessions.map(labelAll));
      expect(done.reduce((n, d) => n + d.length, 0)).toBe(60);
      const labels = await labelsByPair(store, ds.id);
      expect(labels.size).toBe(30);
      for (const who of labels.values()) {
        expect(who).toHaveLength(2);
        expect(new Set(who).size).toBe(2);
      }
      expect(await store.labelCountHistogram(ds.id)).toEqual([0, 0, 30]);
    });

    it('a claim that expired loses its pair to another annotator; the late label is refused and the session moves to its next claim', async () => {
      const { location, store, ds } = await setup(1);
      let clock = 1_000_000;
      const now = () => clock;
      const alice = await session(location, 'alice', now);
      const bob = await session(location, 'bob', now);
      expect(await alice.start()).toBe(0);
      expect(await bob.start()).toBe(1); // k = 1: alice's live claim keeps pair 0 from bob
      const aliceCard = (await alice.card())!;
      // alice's card stays open past the TTL without a renewal (a laptop asleep)
      clock += 60_001;
      expect(await alice.renewClaim()).toBe(false); // an expired claim is not renewed
      const b1 = (await bob.card())!;
      await bob.submit({
        type: 'submit',
        seq: b1.seq,
        pairIdx: 1,
        overall: 'B',
        grid: [...grid],
        rationale: '',
        flagged: false,
        ahead: null,
      });
      await bob.follow(1, null);
      expect(bob.current).toBe(0); // the expired claim's pair goes to bob
      const b0 = (await bob.card())!;
      await bob.submit({
        type: 'submit',
        seq: b0.seq,
        pairIdx: 0,
        overall: 'A',
        grid: [...grid],
        rationale: '',
        flagged: false,
        ahead: null,
      });
      await bob.follow(0, null);
      expect(bob.current).toBe(2);
      // alice submits pair 0 now: refused, nothing stored, and she holds pair 3 (bob holds 2)
      const refused = await alice
        .submit({
          type: 'submit',
          seq: aliceCard.seq,
          pairIdx: 0,
          overall: 'B',
          grid: [...grid],
          rationale: 'late',
          flagged: false,
          ahead: null,
        })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(PairTakenError);
      expect((refused as PairTakenError).message).toBe(
        'pair 0 of sample got the 1 label it needs from others while its card was open (your claim had expired); your label was not stored. On to pair 3.',
      );
      expect((refused as PairTakenError).nextIdx).toBe(3);
      expect(alice.current).toBe(3);
      expect(alice.claimedIdx).toBe(3);
      const labels = await labelsByPair(store, ds.id);
      expect([...labels.entries()].sort((x, y) => x[0] - y[0])).toEqual([
        [0, ['bob']],
        [1, ['bob']],
      ]);
      const aliceRow = (await store.getAnnotator('alice'))!;
      expect(
        (await store.labelState(aliceRow.id, (await store.workbenchPair(ds.id, 0))!.pairRowId)).preference,
      ).toBeNull();
      // the card of pair 3 is hers to label; the refused card is spent
      const a3 = (await alice.card())!;
      expect(a3.pairIdx).toBe(3);
      await alice.submit({
        type: 'submit',
        seq: a3.seq,
        pairIdx: 3,
        overall: 'A',
        grid: [...grid],
        rationale: '',
        flagged: false,
        ahead: null,
      });
      // claims not expired (a claim row outlives its label): bob's on 0 and 2 (his on 1 was taken before the clock moved), alice's on 3
      expect((await store.liveClaims(ds.id, clock)).map((c) => [c.pairIdx, c.annotator])).toEqual([
        [0, 'bob'],
        [2, 'bob'],
        [3, 'alice'],
      ]);
      expect((await store.teamProgress(ds.id, clock)).map((p) => [p.annotator, p.claimed, p.labelled])).toEqual([
        ['alice', 0, 1],
        ['bob', 1, 2],
      ]);
    });

    it("at the end of the queue: the next expiry of the others' claims is known, and a pair freed by it is claimed", async () => {
      const { location } = await setup(2);
      let clock = 2_000_000;
      const now = () => clock;
      // alice has labelled every pair; bob has labelled all but the last, pair 29, and holds its claim (TTL 60 s).
      const alice = await session(location, 'alice', now);
      const bob = await session(location, 'bob', now);
      const carol = await session(location, 'carol', now);
      for (const who of [alice, bob]) {
        await who.start();
        while (who.current !== undefined && !(who === bob && who.current === 29)) {
          const card = (await who.card())!;
          await who.submit({
            type: 'submit',
            seq: card.seq,
            pairIdx: card.pairIdx,
            overall: 'A',
            grid: [...grid],
            rationale: '',
            flagged: false,
            ahead: null,
          });
          await who.follow(card.pairIdx, null);
        }
      }
      expect(bob.current).toBe(29);
      // carol: pair 29 has alice's label and bob's live claim (2 of k = 2), every other pair its 2 labels
      expect(await carol.start()).toBeUndefined();
      expect(carol.isTeam).toBe(true);
      expect(await carol.othersClaimFreedInMs()).toBe(2_000_000 + 60_000 - clock); // bob's claim on 29, taken at 2,000,000
      expect(await carol.claimFreedPair()).toBe(false); // not yet expired
      clock += 60_001; // bob's window closed: his claim runs out
      expect(await carol.othersClaimFreedInMs()).toBeUndefined();
      expect(await carol.claimFreedPair()).toBe(true);
      expect(carol.current).toBe(29);
      expect(carol.claimedIdx).toBe(29);
      expect(await alice.othersClaimFreedInMs()).toBeUndefined(); // carol's claim is on pair 29, which alice labelled: it frees nothing for her
      expect(await (await session(location, 'dave', now)).claimFreedPair()).toBe(false); // a session not started at the end: nothing to retry
    });

    /**
     * k = 2: alice has labelled every pair, bob every pair but 29, on which he holds the only claim (TTL `bobTtlMs`,
     * from the real clock); carol's session, on the real clock, is started at the end of her queue.
     */
    const endOfQueue = async (bobTtlMs: number) => {
      const { location, store, ds } = await setup(2);
      const rows = await store.pairRowIds(ds.id);
      const [alice, bob] = await store.write(async (tx) => [
        await tx.ensureAnnotator('alice', 'human', null),
        await tx.ensureAnnotator('bob', 'human', null),
      ]);
      const label: WorkbenchLabel = {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      for (let pairIdx = 0; pairIdx < 30; pairIdx++) await saveLabel(store, alice.id, rows.get(pairIdx)!, label);
      for (let pairIdx = 0; pairIdx < 29; pairIdx++) await saveLabel(store, bob.id, rows.get(pairIdx)!, label);
      const carol = await session(location, 'carol');
      expect(await store.claimNextPair(ds.id, bob.id, Date.now(), bobTtlMs)).toBe(29);
      expect(await carol.start()).toBeUndefined(); // pair 29: alice's label and bob's live claim
      const claims = await store.liveClaims(ds.id, Date.now());
      expect(claims.map((c) => [c.pairIdx, c.annotator])).toEqual([[29, 'bob']]);
      return { store, ds, alice, carol, bobExpiry: Number(claims[0].expiresAt) };
    };
    /** Hooks that count the retries run and note when a freed pair was announced. */
    const waitHooks = () => {
      const seen = { runs: 0, freedAt: undefined as number | undefined };
      let announce!: () => void;
      const freed = new Promise<void>((resolve) => (announce = resolve));
      const hooks: FreedPairHooks = {
        run: async (step) => {
          seen.runs++;
          await step();
        },
        onFreed: async () => {
          seen.freedAt = Date.now();
          announce();
        },
      };
      return { seen, freed, hooks };
    };

    it("at the end of the queue, the wait for a freed pair retries when the first of the others' claims expires, and claims it", async () => {
      const { carol, bobExpiry } = await endOfQueue(1500);
      const { seen, freed, hooks } = waitHooks();
      try {
        await carol.waitForFreedPair(hooks);
        expect(seen.runs).toBe(0); // nothing is retried before the expiry
        await Promise.race([
          freed,
          new Promise((_, reject) => setTimeout(() => reject(new Error('no pair was freed within 10 s')), 10_000)),
        ]);
        // one retry, a little after bob's claim ran out (no polling before it)
        expect(seen.runs).toBe(1);
        expect(seen.freedAt).toBeGreaterThanOrEqual(bobExpiry);
        expect(seen.freedAt).toBeLessThan(bobExpiry + 2000);
        expect(carol.current).toBe(29);
        expect(carol.claimedIdx).toBe(29);
      } finally {
        carol.dispose();
      }
    });

    it('at the end of the queue, the wait for a freed pair retries on every write heard (a label undone frees a pair) until stopped or freed', async () => {
      const { store, ds, alice, carol } = await endOfQueue(60_000);
      const { seen, freed, hooks } = waitHooks();
      try {
        await carol.waitForFreedPair(hooks);
        await carol.writeHeard(); // a write that frees nothing: retried, still waiting
        expect(seen.runs).toBe(1);
        expect(seen.freedAt).toBeUndefined();
        expect(carol.current).toBeUndefined();
        carol.stopWaiting(); // (the panel shows another card)
        await carol.writeHeard();
        expect(seen.runs).toBe(1);
        await carol.waitForFreedPair(hooks);
        expect(await undoLastLabel(store, alice.id, ds.id)).toBe(29); // alice's last label: pair 29 has room again
        await carol.writeHeard();
        await freed;
        expect(seen.runs).toBe(2);
        expect(carol.current).toBe(29);
        expect(carol.claimedIdx).toBe(29);
        await carol.writeHeard(); // freed: the wait is over
        expect(seen.runs).toBe(2);
      } finally {
        carol.dispose();
      }
    });

    it('a renewed claim outlives its first TTL; the next card waits for the label; previous walks back the pairs handed out', async () => {
      const { location, ds } = await setup(1);
      let clock = 5_000_000;
      const now = () => clock;
      const alice = await session(location, 'alice', now);
      const bob = await session(location, 'bob', now);
      expect(await alice.start()).toBe(0);
      clock += 40_000;
      expect(await alice.renewClaim()).toBe(true); // now lives until +100 s
      clock += 40_000; // past the first expiry (+60 s)
      expect(await bob.start()).toBe(1);
      // skip / next on an unlabelled claimed pair keeps it (the claim is the annotator's until labelled)
      expect(await alice.move('next')).toBe(false);
      expect(alice.current).toBe(0);
      const c0 = (await alice.card())!;
      await alice.submit({
        type: 'submit',
        seq: c0.seq,
        pairIdx: 0,
        overall: 'A',
        grid: [...grid],
        rationale: '',
        flagged: false,
        ahead: null,
      });
      await alice.follow(0, null);
      expect(alice.current).toBe(2);
      expect((await alice.card())!.hasPrevious).toBe(true);
      expect(await alice.move('previous')).toBe(true);
      expect(alice.current).toBe(0);
      expect((await alice.card())!.existing?.overall).toBe('A');
      expect(await alice.move('next')).toBe(true);
      expect(alice.current).toBe(2);
      // a team dataset cannot be filtered (its pairs are handed out by claims)
      await expect(alice.setFilter({ kind: 'conflict' })).rejects.toThrow(/split among a team/);
      const store = open.at(-1)!;
      expect((await store.liveClaims(ds.id, clock)).map((c) => [c.pairIdx, c.annotator])).toEqual([
        [0, 'alice'],
        [1, 'bob'],
        [2, 'alice'],
      ]);
    });

    it('renews its claim on a timer every third of the TTL while open, and stops at dispose', async () => {
      const { location, ds, store } = await setup(1);
      const s = await WorkbenchSession.open(
        await connect(location),
        { dataset: 'sample', annotator: 'alice', principleList: 'demo' },
        { claimTtlMs: 3000 },
      );
      try {
        expect(await s.start()).toBe(0);
        const expiry = async () => (await store.liveClaims(ds.id, 0)).find((c) => c.annotator === 'alice')!.expiresAt;
        const first = await expiry();
        await new Promise((r) => setTimeout(r, 1400)); // one renewal (every 1000 ms) has run
        const renewed = await expiry();
        expect(renewed).toBeGreaterThan(first);
        s.dispose();
        await new Promise((r) => setTimeout(r, 1400));
        expect(await expiry()).toBe(renewed);
      } finally {
        s.dispose();
      }
    });

    it('without a split the session walks every pair as before', async () => {
      const { location } = await setup(null);
      const s = await session(location, 'alice');
      expect(s.claimMode).toBe(false);
      expect(await s.start()).toBe(0);
      expect(await s.readAhead()).toHaveLength(READ_AHEAD);
      expect(s.claimedIdx).toBeUndefined();
    });
  });
}
