// The store port's contract: every operation, run against both adapters: a real SQLite file and a real
// PostgreSQL server (started by the run's globalSetup). Expected values are written out by hand from the
// rows each test puts in.
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { UsageError } from '../../src/core/errors';
import type { Pair } from '../../src/core/types';
import { openStore, PairFullError, type Store, type Transaction } from '../../src/store';
import { saveLabel, undoLastLabel, type WorkbenchLabel } from '../../src/app/workbench';
import { freshPostgresDatabase, pooledRun } from '../support/postgres';
import { steppedServerClocks } from '../support/server-clock';
import { tempDir } from '../support/helpers';

const server = inject('postgres');
const pgSkip = 'skip' in server ? server.skip : undefined;

const adapters: { name: string; skip?: string; location: () => Promise<string> }[] = [
  { name: 'SQLite', location: async () => join(tempDir(), 'contract.db') },
  { name: 'PostgreSQL', skip: pgSkip, location: () => freshPostgresDatabase('url' in server ? server.url : '') },
].filter((a) => a.name !== 'SQLite' || !pooledRun(server));

const pair = (pairIdx: number, sourceId = `s${pairIdx}`, meta?: Record<string, unknown>): Pair => ({
  idx: pairIdx,
  sourceId,
  prompt: `prompt ${pairIdx}\ttab\nnewline \\ back`,
  y0: `a${pairIdx}`,
  y1: `b${pairIdx}`,
  meta,
});

for (const adapter of adapters) {
  describe.skipIf(adapter.skip)(`store contract: ${adapter.name}`, () => {
    const open: Store[] = [];
    afterAll(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
    });
    /** On PostgreSQL the claims' times are the server's: the test steps the server's clock (test/support/postgres.ts). */
    const timed = steppedServerClocks(adapter.name === 'PostgreSQL');
    const fresh = async (): Promise<Store> => {
      const location = await adapter.location();
      const s = await openStore(location);
      open.push(s);
      return timed(s, location);
    };

    /** A dataset of `n` pairs, a 3-principle list and two annotators (a human and a reward model). */
    const seeded = async (n = 4) => {
      const s = await fresh();
      const ids = await s.write(async (tx) => {
        const dataset = await tx.createDataset('d', 'jsonl', '/data/d.jsonl');
        const first = await tx.nextPairRowId();
        await tx.insertPairs(
          dataset,
          Array.from({ length: n }, (_, i) => pair(i, `s${i}`, i === 0 ? { harm: 'x' } : undefined)),
          Array.from({ length: n }, (_, i) => first + i),
        );
        const { list } = await tx.savePrincipleList(
          'pl',
          [
            { id: 'p0', short: 'zero', text: 'Zero' },
            { id: 'p1', short: 'one', text: 'One' },
            { id: 'p2', short: 'two', text: 'Two' },
          ],
          null,
        );
        const human = await tx.ensureAnnotator('alice', 'human', null);
        const model = await tx.ensureAnnotator('rm', 'reward-model', { model: 'x' });
        return { dataset, list: list.id, human: human.id, model: model.id };
      });
      const pairRowIds = await s.pairRowIds(ids.dataset);
      return { s, ...ids, pairRowIds, row: (pairIdx: number) => pairRowIds.get(pairIdx)! };
    };

    it('creates the schema and opens it again', async () => {
      const location = await adapter.location();
      const a = await openStore(location);
      await a.close();
      const b = await openStore(location);
      expect((await b.info()).datasets).toEqual([]);
      await b.close();
    });

    it('datasets and pairs: create, refuse a taken name, duplicates by source id, paging, lookups', async () => {
      const s = await fresh();
      const dataset = await s.write((tx) => tx.createDataset('d', 'jsonl', null));
      await expect(s.write((tx) => tx.createDataset('d', 'csv', null))).rejects.toThrow(/dataset "d" already exists/);
      const dups = await s.write(async (tx) => {
        const first = await tx.nextPairRowId();
        const d = await tx.insertPairs(
          dataset,
          [pair(0, 'x'), pair(1, 'y'), pair(2, 'x'), pair(3, 'z', { k: [1, 'two'] })],
          [first, first + 1, first + 2, first + 3],
        );
        await tx.setDatasetHash(dataset, 'abc');
        return d;
      });
      expect(dups.map((d) => [d.pair.idx, d.firstIdx])).toEqual([[2, 0]]);
      expect(await s.countPairs(dataset)).toBe(3);
      expect(await s.getDataset('d')).toMatchObject({
        name: 'd',
        format: 'jsonl',
        sourcePath: null,
        contentHash: 'abc',
      });
      const page = await s.listPairs(dataset, 1, 5);
      expect(page.map((p) => [p.idx, p.sourceId])).toEqual([
        [1, 'y'],
        [3, 'z'],
      ]);
      expect(page[1].meta).toEqual({ k: [1, 'two'] });
      expect(page[0].prompt).toBe('prompt 1\ttab\nnewline \\ back');
      expect((await s.pairsByIndex(dataset, [3, 0, 99])).map((p) => p.idx).sort()).toEqual([0, 3]);
      expect((await s.pairSourceIds(dataset)).sort((a, b) => a.pairIdx - b.pairIdx)).toEqual([
        { pairIdx: 0, sourceId: 'x' },
        { pairIdx: 1, sourceId: 'y' },
        { pairIdx: 3, sourceId: 'z' },
      ]);
      expect([...(await s.pairRowIds(dataset)).keys()].sort()).toEqual([0, 1, 3]);
      await expect(s.requireDataset('nope')).rejects.toThrow(/unknown dataset "nope" \(known: d\)/);
      expect(await s.workbenchPair(dataset, 1, 1)).toMatchObject({ idx: 3, sourceId: 'z' });
      expect(await s.workbenchPair(dataset, 3, -1)).toMatchObject({ idx: 1 });
      expect(await s.workbenchPair(dataset, 2)).toBeUndefined();
    });

    it('rolls a failed write back completely', async () => {
      const { s, dataset } = await seeded();
      const before = await s.dumpTables();
      await expect(
        s.write(async (tx) => {
          await tx.createDataset('e', 'jsonl', null);
          await tx.insertPreferences((await tx.requireAnnotator('alice')).id, [{ pairIdx: 0, value: 1 }], () => -1);
        }),
      ).rejects.toThrow();
      await expect(
        s.write(async (tx) => {
          const id = await tx.createDataset('f', 'jsonl', null);
          const first = await tx.nextPairRowId();
          await tx.insertPairs(id, [pair(0)], [first]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await s.dumpTables()).toEqual(before);
      expect(await s.countPairs(dataset)).toBe(4);
      expect(await s.checkIntegrity()).toEqual([]);
    });

    it('a writer that throws with statements still in flight leaves nothing behind, and the handle is closed after', async () => {
      // What the dataset importer does when its reader fails (or is cancelled) while batches are queued:
      // the CI run of 2026-12-02 found a cancelled import's pairs committed by statements that ran after
      // the ROLLBACK.
      const { s } = await seeded();
      const before = await s.dumpTables();
      let kept: Transaction | undefined;
      const inFlight: Promise<unknown>[] = [];
      await expect(
        s.write(async (tx) => {
          kept = tx;
          const id = await tx.createDataset('late', 'jsonl', null);
          const first = await tx.nextPairRowId();
          for (let b = 0; b < 5; b++) {
            const p = tx.insertPairs(
              id,
              Array.from({ length: 2000 }, (_, i) => pair(b * 2000 + i)),
              Array.from({ length: 2000 }, (_, i) => first + b * 2000 + i),
            );
            p.catch(() => undefined);
            inFlight.push(p);
          }
          throw new Error('reader failed');
        }),
      ).rejects.toThrow('reader failed');
      await Promise.allSettled(inFlight);
      await expect(kept!.createDataset('after', 'jsonl', null)).rejects.toThrow(/after its transaction ended/);
      expect(await s.dumpTables()).toEqual(before);
      expect(await s.checkIntegrity()).toEqual([]);
    });

    it('principle lists: versioned by content, name@version, row ids by position, the list of lists', async () => {
      const s = await fresh();
      const a = [
        { id: 'p0', short: 's0', text: 'T0' },
        { id: 'p1', short: 's1', text: 'T1' },
      ];
      const b = [{ id: 'p0', short: 's0', text: 'T0 changed' }];
      const r1 = await s.write((tx) => tx.savePrincipleList('L', a, 'a.yaml'));
      const r2 = await s.write((tx) => tx.savePrincipleList('L', a, 'a.yaml'));
      const r3 = await s.write((tx) => tx.savePrincipleList('L', b, null));
      expect([r1.created, r2.created, r3.created]).toEqual([true, false, true]);
      expect([r1.list.version, r2.list.version, r3.list.version]).toEqual([1, 1, 2]);
      expect(r2.list.id).toBe(r1.list.id);
      expect((await s.requirePrincipleList('L')).principles).toEqual(b);
      expect((await s.requirePrincipleList('L@1')).principles).toEqual(a);
      await expect(s.requirePrincipleList('L@3')).rejects.toThrow(/unknown principle list "L@3" \(known: L\)/);
      expect((await s.principleRowIds(r1.list.id)).length).toBe(2);
      expect(await s.listPrincipleLists()).toEqual([
        { id: r3.list.id, name: 'L', version: 2, size: 1 },
        { id: r1.list.id, name: 'L', version: 1, size: 2 },
      ]);
    });

    it('principle lists: a name holding "@N" is selected by its whole name unless that reads as an existing version; NAME@N@V picks its version', async () => {
      const s = await fresh();
      const p = (text: string) => [{ id: 'p0', short: 's', text }];
      await s.write((tx) => tx.savePrincipleList('team', p('team v1'), null));
      await s.write((tx) => tx.savePrincipleList('team@2', p('team@2 v1'), null));
      await s.write((tx) => tx.savePrincipleList('team@2', p('team@2 v2'), null));
      const text = async (ref: string) => (await s.requirePrincipleList(ref)).principles[0].text;
      // "team" has no version 2: the whole ref names the list "team@2", its latest version
      expect(await text('team@2')).toBe('team@2 v2');
      expect(await text('team@2@1')).toBe('team@2 v1');
      expect(await text('team@2@2')).toBe('team@2 v2');
      expect(await text('team')).toBe('team v1');
      expect(await text('team@1')).toBe('team v1');
      await expect(s.requirePrincipleList('team@2@3')).rejects.toThrow(
        /^unknown principle list "team@2@3" \(known: team, team@2\)$/,
      );
      // once "team" has a version 2, "team@2" is that version (NAME@VERSION always means it); the list "team@2" is "team@2@2"
      await s.write((tx) => tx.savePrincipleList('team', p('team v2'), null));
      expect(await text('team@2')).toBe('team v2');
      expect(await text('team@2@2')).toBe('team@2 v2');
      expect(await text('team')).toBe('team v2');
      // a version too long for an INTEGER column is no version: the ref is looked up as a name and not found
      await expect(s.requirePrincipleList('team@99999999999')).rejects.toThrow(
        /^unknown principle list "team@99999999999"/,
      );
    });

    it('read-only: every read works, every write is refused with one line and nothing changes', async () => {
      const location = await adapter.location();
      const s = await openStore(location);
      open.push(s);
      const { dataset, human, pairRow } = await s.write(async (tx) => {
        const dataset = await tx.createDataset('d', 'jsonl', null);
        const first = await tx.nextPairRowId();
        await tx.insertPairs(dataset, [pair(0), pair(1)], [first, first + 1]);
        await tx.savePrincipleList('pl', [{ id: 'p0', short: 'zero', text: 'Zero' }], null);
        return { dataset, human: (await tx.ensureAnnotator('alice', 'human', null)).id, pairRow: first };
      });
      const before = await s.dumpTables();
      const r = await openStore(location, { readOnly: true });
      open.push(r);
      expect((await r.info()).datasets.map((d) => d.name)).toEqual(['d']);
      expect((await r.requirePrincipleList('pl')).principles).toHaveLength(1);
      expect(await r.countPairs(dataset)).toBe(2);
      const refused = /^database .* is open read-only for this command; nothing was written$/;
      await expect(r.write((tx) => tx.createDataset('e', 'jsonl', null))).rejects.toThrow(refused);
      await expect(
        saveLabel(r, human, pairRow, {
          value: 1,
          raw: null,
          shownFirst: 0,
          rationale: '',
          flagged: false,
          principles: [],
        }),
      ).rejects.toThrow(refused);
      await expect(r.saveMetricRun(dataset, '0', {}, {}, {})).rejects.toThrow(refused);
      await expect(r.write((tx) => tx.createDataset('e', 'jsonl', null))).rejects.toBeInstanceOf(UsageError);
      expect(await s.dumpTables()).toEqual(before);
    });

    it('annotators: created once, kind checked, provenance merged', async () => {
      const s = await fresh();
      const a = await s.write((tx) => tx.ensureAnnotator('m', 'reward-model', { a: 1 }));
      const b = await s.write((tx) => tx.ensureAnnotator('m', 'reward-model', { b: 2 }));
      expect(b.id).toBe(a.id);
      expect((await s.getAnnotator('m'))!.provenance).toEqual({ a: 1, b: 2 });
      await expect(s.write((tx) => tx.ensureAnnotator('m', 'human', null))).rejects.toThrow(
        /already exists as a reward-model/,
      );
      await expect(s.requireAnnotator('x')).rejects.toBeInstanceOf(UsageError);
      expect((await s.listAnnotators()).map((r) => [r.name, r.kind])).toEqual([['m', 'reward-model']]);
      // "adjudicated" is the review's (src/app/review.ts): a human or model by that name would block every adjudication
      for (const kind of ['human', 'reward-model'] as const) {
        await expect(s.write((tx) => tx.ensureAnnotator('adjudicated', kind, null))).rejects.toThrow(
          /^the annotator name "adjudicated" is reserved for the review's adjudications; choose another name$/,
        );
      }
      expect((await s.write((tx) => tx.ensureAnnotator('adjudicated', 'adjudicator', null))).kind).toBe('adjudicator');
    });

    it('preferences: insert, refuse or skip existing, read back by dataset and by pair', async () => {
      const { s, dataset, list, human, model, row } = await seeded();
      const rows = await s.principleRowIds(list);
      await s.write(async (tx) => {
        await tx.insertPreferences(
          model,
          [
            { pairIdx: 0, value: 1, scoreY0: -0.5, scoreY1: 1.25, raw: { reward_a: 1.25 } },
            { pairIdx: 1, value: -1, scoreY0: 2, scoreY1: 0.1 },
            { pairIdx: 2, value: null },
          ],
          row,
        );
        await tx.insertPrinciplePreferences(
          human,
          [
            { pairIdx: 0, principleIndex: 0, value: 1, probA: 0.7, probB: 0.2, probNA: 0.1, shownFirst: 1 },
            { pairIdx: 0, principleIndex: 2, value: -1 },
            { pairIdx: 1, principleIndex: 1, value: 0 },
          ],
          row,
          rows,
        );
      });
      await expect(s.write((tx) => tx.insertPreferences(model, [{ pairIdx: 0, value: -1 }], row))).rejects.toThrow();
      expect(
        await s.write((tx) =>
          tx.insertPreferences(
            model,
            [
              { pairIdx: 0, value: -1 },
              { pairIdx: 3, value: 1 },
            ],
            row,
            { existing: 'skip' },
          ),
        ),
      ).toBe(1);
      expect([...(await s.pairsWithPreference(dataset, model))].sort()).toEqual([0, 1, 2, 3]);
      expect(await s.countPrinciplePreferences(dataset, human, list)).toBe(3);
      const overall = (await s.overallPreferences(dataset)).sort((a, b) => a.pairIdx - b.pairIdx);
      expect(overall).toEqual([
        { annotatorId: model, pairIdx: 0, value: 1 },
        { annotatorId: model, pairIdx: 1, value: -1 },
        { annotatorId: model, pairIdx: 2, value: null },
        { annotatorId: model, pairIdx: 3, value: 1 },
      ]);
      const principles = (await s.principlePreferences(dataset, list)).sort(
        (a, b) => a.pairIdx - b.pairIdx || a.position - b.position,
      );
      expect(principles).toEqual([
        { annotatorId: human, pairIdx: 0, position: 0, value: 1 },
        { annotatorId: human, pairIdx: 0, position: 2, value: -1 },
        { annotatorId: human, pairIdx: 1, position: 1, value: 0 },
      ]);
      const byPair = await s.preferencesForPairs([row(0)]);
      expect(byPair).toEqual([
        {
          pairRowId: row(0),
          annotator: 'rm',
          kind: 'reward-model',
          value: 1,
          scoreY0: -0.5,
          scoreY1: 1.25,
          raw: '{"reward_a":1.25}',
          shownFirst: null,
          rationale: null,
          flagged: 0,
        },
      ]);
      expect(await s.principlePreferencesForPairs([row(0)])).toEqual([
        { pairRowId: row(0), annotator: 'alice', list: 'pl', listVersion: 1, key: 'p0', position: 0, value: 1 },
        { pairRowId: row(0), annotator: 'alice', list: 'pl', listVersion: 1, key: 'p2', position: 2, value: -1 },
      ]);
      expect(await s.preferencesForPairs([])).toEqual([]);
      // the export's pages: pairs after an index, in index order, with both kinds of labels of exactly those pairs
      const first = await s.pairsWithLabels(dataset, -1, 2);
      expect(first.pairs.map((p) => [p.idx, p.pairRowId])).toEqual([
        [0, row(0)],
        [1, row(1)],
      ]);
      expect(first.preferences.sort((a, b) => a.pairRowId - b.pairRowId)).toEqual([
        { pairRowId: row(0), annotatorId: model, value: 1, raw: '{"reward_a":1.25}', rationale: null },
        { pairRowId: row(1), annotatorId: model, value: -1, raw: null, rationale: null },
      ]);
      expect(first.principlePreferences).toEqual([
        { pairRowId: row(0), annotator: 'alice', list: 'pl', listVersion: 1, key: 'p0', position: 0, value: 1 },
        { pairRowId: row(0), annotator: 'alice', list: 'pl', listVersion: 1, key: 'p2', position: 2, value: -1 },
        { pairRowId: row(1), annotator: 'alice', list: 'pl', listVersion: 1, key: 'p1', position: 1, value: 0 },
      ]);
      const second = await s.pairsWithLabels(dataset, 1, 2);
      expect(second.pairs.map((p) => p.idx)).toEqual([2, 3]);
      expect(second.preferences.sort((a, b) => a.pairRowId - b.pairRowId).map((p) => [p.pairRowId, p.value])).toEqual([
        [row(2), null],
        [row(3), 1],
      ]);
      expect(second.principlePreferences).toEqual([]);
      expect(await s.pairsWithLabels(dataset, 3, 2)).toEqual({ pairs: [], preferences: [], principlePreferences: [] });
    });

    it('workbench: submit, undo restores the previous label exactly, history kept, counts and queues', async () => {
      const { s, dataset, list, human, model, row } = await seeded(5);
      const rows = await s.principleRowIds(list);
      await s.write((tx) =>
        tx.insertPreferences(
          model,
          [
            { pairIdx: 0, value: 1 },
            { pairIdx: 1, value: -1 },
            { pairIdx: 2, value: 1 },
          ],
          row,
        ),
      );
      // principles: by position, the rows this submission answers (null = marked unanswered); others are not in it
      const label = (
        value: 1 | -1 | 0,
        principles: Record<number, 1 | -1 | 0 | null>,
        rationale = '',
      ): WorkbenchLabel => ({
        value,
        raw: { overall: value },
        shownFirst: 1,
        rationale,
        flagged: false,
        principles: Object.entries(principles).map(([i, v]) => ({ principleRowId: rows[Number(i)], value: v })),
      });
      expect(await s.firstUnlabelledIdx(dataset, human)).toBe(0);
      await saveLabel(s, human, row(0), label(1, { 0: 1 }, 'first'));
      await saveLabel(s, human, row(1), label(1, { 0: 1, 1: -1 }));
      await saveLabel(s, human, row(0), label(-1, { 1: 1, 2: null }, 'changed'));
      expect(await s.labelledCount(dataset, human)).toBe(2);
      expect(await s.firstUnlabelledIdx(dataset, human)).toBe(2);
      const state = await s.labelState(human, row(0));
      expect(state.preference).toMatchObject({ value: -1, rationale: 'changed', shown_first: 1, flagged: 0 });
      // the principle answered earlier (p0) is kept; p1 added
      expect(state.principles.map((p) => [p.principle_id, p.value])).toEqual([
        [rows[0], 1],
        [rows[1], 1],
      ]);
      // queues: disagreement with the model (pair 0: -1 vs 1; pair 1: 1 vs -1), own conflicting principle labels (pair 1)
      expect(await s.workbenchQueueIdx(dataset, human, -1, 1, { kind: 'disagree', modelId: model })).toBe(0);
      expect(await s.workbenchQueueIdx(dataset, human, 0, 1, { kind: 'disagree', modelId: model })).toBe(1);
      expect(await s.workbenchQueueIdx(dataset, human, 1, 1, { kind: 'disagree', modelId: model })).toBeUndefined();
      expect(await s.workbenchQueueIdx(dataset, human, -1, 1, { kind: 'conflict' })).toBe(1);
      expect(await s.workbenchQueueIdx(dataset, human, 4, -1, { kind: 'all' })).toBe(3);
      // undo the latest submission (pair 0's change) restores exactly the state before it
      const before = await s.labelState(human, row(0));
      expect(await undoLastLabel(s, human, dataset)).toBe(0);
      const restored = await s.labelState(human, row(0));
      expect(restored.preference).toMatchObject({ value: 1, rationale: 'first' });
      expect(restored.principles.map((p) => [p.principle_id, p.value])).toEqual([[rows[0], 1]]);
      expect(await undoLastLabel(s, human, dataset)).toBe(1);
      expect((await s.labelState(human, row(1))).preference).toBeNull();
      expect(await undoLastLabel(s, human, dataset)).toBe(0);
      expect(await undoLastLabel(s, human, dataset)).toBeUndefined();
      const history = await s.labelHistory(human);
      expect(history.map((h) => [h.action, h.undone])).toEqual([
        ['submit', true],
        ['submit', true],
        ['submit', true],
        ['undo', false],
        ['undo', false],
        ['undo', false],
      ]);
      expect(history[3].before).toEqual(before);
      await s.saveWorkbenchPosition(human, dataset, 3);
      await s.saveWorkbenchPosition(human, dataset, 4);
      expect(await s.workbenchPosition(human, dataset)).toBe(4);
      await saveLabel(s, human, row(2), label(0, {}));
      expect(await s.datasetProgress()).toEqual([
        { id: dataset, name: 'd', total: 5, annotators: [{ name: 'alice', labelled: 1 }] },
      ]);
    });

    it('metric runs: saved, listed without results, read back; an unknown id is a clear error', async () => {
      const { s, dataset } = await seeded();
      const id = await s.saveMetricRun(dataset, '0.1.0', { seed: 1 }, { d: 'abc' }, { da: [0.25, null] });
      expect(await s.listMetricRuns()).toEqual([
        {
          id,
          createdAt: expect.any(String),
          datasetName: 'd',
          toolVersion: '0.1.0',
          params: { seed: 1 },
          inputHashes: { d: 'abc' },
        },
      ]);
      expect((await s.getMetricRun(id)).results).toEqual({ da: [0.25, null] });
      await expect(s.getMetricRun(id + 100)).rejects.toThrow(/no metric run with id/);
    });

    it('info: datasets, lists and annotators with their counts', async () => {
      const { s, model, human, list, row } = await seeded();
      const rows = await s.principleRowIds(list);
      await s.write(async (tx) => {
        await tx.insertPreferences(
          model,
          [
            { pairIdx: 0, value: 1 },
            { pairIdx: 1, value: null },
          ],
          row,
        );
        await tx.insertPrinciplePreferences(
          human,
          [
            { pairIdx: 0, principleIndex: 0, value: 1 },
            { pairIdx: 0, principleIndex: 1, value: 1 },
          ],
          row,
          rows,
        );
      });
      const info = await s.info();
      expect(info.datasets).toEqual([{ name: 'd', format: 'jsonl', pairs: 4, contentHash: null }]);
      expect(info.principleLists).toEqual([
        { name: 'pl', version: 1, size: 3, contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      ]);
      expect(info.annotators).toEqual([
        {
          name: 'alice',
          kind: 'human',
          group: null,
          datasets: [{ dataset: 'd', preferences: 0, principlePreferences: 1 }],
        },
        {
          name: 'rm',
          kind: 'reward-model',
          group: null,
          datasets: [{ dataset: 'd', preferences: 1, principlePreferences: 0 }],
        },
      ]);
    });

    it('the change stamp moves when another connection commits', async () => {
      const location = await adapter.location();
      const a = await openStore(location);
      const b = await openStore(location);
      open.push(a, b);
      const before = await a.changeStamp();
      expect(await a.changeStamp()).toBe(before);
      await b.write((tx) => tx.createDataset('x', 'jsonl', null));
      expect(await a.changeStamp()).not.toBe(before);
    });

    it('pairs in batches: a batch without duplicates goes in whole, a duplicate of an earlier batch is left out and the rest of its batch kept', async () => {
      const s = await fresh();
      const dataset = await s.write((tx) => tx.createDataset('d', 'jsonl', null));
      const dups = await s.write(async (tx) => {
        const first = await tx.nextPairRowId();
        const a = await tx.insertPairs(dataset, [pair(0, 'x'), pair(1, 'y')], [first, first + 1]);
        const b = await tx.insertPairs(
          dataset,
          [pair(2, 'z'), pair(3, 'x'), pair(4, 'w')],
          [first + 2, first + 3, first + 4],
        );
        return [...a, ...b];
      });
      expect(dups.map((d) => [d.pair.idx, d.firstIdx])).toEqual([[3, 0]]);
      expect((await s.pairSourceIds(dataset)).sort((x, y) => x.pairIdx - y.pairIdx)).toEqual([
        { pairIdx: 0, sourceId: 'x' },
        { pairIdx: 1, sourceId: 'y' },
        { pairIdx: 2, sourceId: 'z' },
        { pairIdx: 4, sourceId: 'w' },
      ]);
    });

    it('team split: overlap k, claims that expire, own claims resumed, full pairs leave every queue', async () => {
      const { s, dataset, row } = await seeded(3);
      const [a, b, c] = await s.write(async (tx) => [
        (await tx.ensureAnnotator('alice', 'human', null)).id,
        (await tx.ensureAnnotator('bilal', 'human', null)).id,
        (await tx.ensureAnnotator('chen', 'human', null)).id,
      ]);
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 2, assignment: 'fixed', seed: 0 }));
      expect(await s.workSplit(dataset)).toEqual({ overlap: 2, assignment: 'fixed', seed: 0 });
      const T = 1_000_000;
      const TTL = 60_000;
      expect(await s.claimNextPair(dataset, a, T, TTL)).toBe(0);
      expect(await s.claimNextPair(dataset, b, T, TTL)).toBe(0); // room for 2
      expect(await s.claimNextPair(dataset, c, T, TTL)).toBe(1); // pair 0 holds 2 live claims
      expect(await s.claimNextPair(dataset, a, T + 1, TTL)).toBe(0); // a reload resumes the own claim
      expect((await s.liveClaims(dataset, T + 2)).map((x) => [x.pairIdx, x.annotator])).toEqual([
        [0, 'alice'],
        [0, 'bilal'],
        [1, 'chen'],
      ]);
      const label: WorkbenchLabel = {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      await saveLabel(s, a, row(0), label);
      await saveLabel(s, b, row(0), label);
      // pair 0 has its 2 labels: it leaves every queue, also for chen after chen's claim on pair 1 ends
      expect(await s.claimNextPair(dataset, c, T + 2, TTL)).toBe(1);
      await saveLabel(s, c, row(1), label);
      expect(await s.claimNextPair(dataset, c, T + 3, TTL)).toBe(2);
      // a third label on a full pair is refused and changes nothing
      const before = await s.dumpTables();
      await expect(saveLabel(s, c, row(0), label)).rejects.toThrow(/pair 0 already has the 2 labels it needs/);
      expect(await s.dumpTables()).toEqual(before);
      // an absent annotator's claim expires: after the TTL, pair 2 is free for a third and fourth claimer
      expect(await s.claimNextPair(dataset, a, T + 3, TTL)).toBe(1); // pair 1: chen's label + alice = 2
      expect(await s.claimNextPair(dataset, b, T + 3, TTL)).toBe(2); // pair 1 full with claims; pair 2: chen's claim + bilal
      const d = await s.write(async (tx) => (await tx.ensureAnnotator('dana', 'human', null)).id);
      expect(await s.claimNextPair(dataset, d, T + 4, TTL)).toBeUndefined(); // everything claimed or labelled
      expect(await s.claimNextPair(dataset, d, T + 3 + TTL, TTL)).toBe(1); // alice's and chen's claims expired
      expect(await s.labelCountHistogram(dataset)).toEqual([1, 1, 1]);
      expect(await s.write((tx) => tx.releaseClaims(dataset, d))).toBe(1);
      expect(await s.write((tx) => tx.renewClaim(row(2), b, T + 10, TTL))).toBe(true);
      expect(await s.write((tx) => tx.renewClaim(row(2), b, T + 10 + 2 * TTL, TTL))).toBe(false);
      const progress = await s.teamProgress(dataset, T + 20);
      // live at T + 20: alice's claim on pair 1, bilal's renewed one and chen's on pair 2
      expect(progress.map((p) => [p.annotator, p.claimed, p.labelled])).toEqual([
        ['alice', 1, 1],
        ['bilal', 1, 1],
        ['chen', 1, 1],
      ]);
    });

    it('team split: the assignment orders (random with a seed, least-annotated)', async () => {
      const { s, dataset, row } = await seeded(6);
      const [a, b] = await s.write(async (tx) => [
        (await tx.ensureAnnotator('alice', 'human', null)).id,
        (await tx.ensureAnnotator('bilal', 'human', null)).id,
      ]);
      const six = await s.write(async (tx) =>
        Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => (await tx.ensureAnnotator(`r${i}`, 'human', null)).id)),
      );
      // random: (idx * 1103515245 + seed) mod 2147483647, ascending; by hand for seed 7, idx 0..5:
      // 7, 1103515252, 59546850 (2207030497 - 2147483647), 1163062095, 119093693, 1222608938 -> order 0, 2, 4, 1, 3, 5
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 1, assignment: 'random', seed: 7 }));
      const order: number[] = [];
      // overlap 1: each annotator's live claim takes its pair out of the next one's queue
      for (const r of six) order.push((await s.claimNextPair(dataset, r, 0, 60_000))!);
      expect(order).toEqual([0, 2, 4, 1, 3, 5]);
      // least-annotated: pairs with fewer human labels first (alice labels 0 and 1)
      await s.write((tx) => tx.releaseClaims(dataset));
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 3, assignment: 'least-annotated', seed: 0 }));
      const label: WorkbenchLabel = {
        value: -1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      await saveLabel(s, a, row(0), label);
      await saveLabel(s, a, row(1), label);
      expect(await s.claimNextPair(dataset, b, 0, 10)).toBe(2);
    });

    it('team split: claims start past the full pairs, and an undone label or a new overlap makes a pair claimable again', async () => {
      const { s, dataset, row } = await seeded(4);
      const [a, b, c, d] = await s.write(async (tx) =>
        Promise.all(
          ['alice', 'bilal', 'chen', 'dana'].map(async (n) => (await tx.ensureAnnotator(n, 'human', null)).id),
        ),
      );
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 1, assignment: 'fixed', seed: 0 }));
      const label: WorkbenchLabel = {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      for (const pairIdx of [0, 1]) {
        expect(await s.claimNextPair(dataset, a, 0, 60_000)).toBe(pairIdx);
        await saveLabel(s, a, row(pairIdx), label);
      }
      expect(await s.claimNextPair(dataset, b, 0, 60_000)).toBe(2); // pairs 0 and 1 are full: the floor moves to 2
      // alice undoes pair 1: its label is gone, the floor moves back to it (the trigger); once the claims
      // have expired chen gets pair 1 (with the floor left at 2 it would be pair 2)
      expect(await undoLastLabel(s, a, dataset)).toBe(1);
      expect(await s.claimNextPair(dataset, c, 60_001, 60_000)).toBe(1);
      // overlap 2: pair 0 (one label) has room again although it lay below the floor (else pair 1: one claim)
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 2, assignment: 'fixed', seed: 0 }));
      expect(await s.claimNextPair(dataset, d, 60_001, 60_000)).toBe(0);
    });

    it('team split, random order: the floor follows the order, an undone label moves it back, pairs added after the split join the order', async () => {
      const { s, dataset, row } = await seeded(6);
      const [a, b, c] = await s.write(async (tx) =>
        Promise.all(['alice', 'bilal', 'chen'].map(async (n) => (await tx.ensureAnnotator(n, 'human', null)).id)),
      );
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 1, assignment: 'random', seed: 7 }));
      const label: WorkbenchLabel = {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      // seed 7 orders idx 0..5 as 0, 2, 4, 1, 3, 5 (hand calculation in the test above)
      for (const pairIdx of [0, 2]) {
        expect(await s.claimNextPair(dataset, a, 0, 60_000)).toBe(pairIdx);
        await saveLabel(s, a, row(pairIdx), label);
      }
      expect(await s.claimNextPair(dataset, b, 0, 60_000)).toBe(4);
      // alice undoes pair 2: once bilal's claim has expired chen gets pair 2 again, the first in the order with room
      expect(await undoLastLabel(s, a, dataset)).toBe(2);
      expect(await s.claimNextPair(dataset, c, 60_001, 60_000)).toBe(2);
      // two pairs added after the split (idx 6 and 7) take their places in the order: by hand,
      // (6 * 1103515245 + 7) mod 2147483647 = 178640536 (after pair 4's 119093693, before pair 1's 1103515252),
      // (7 * 1103515245 + 7) mod 2147483647 = 1282155781 (last): the whole order is 0, 2, 4, 6, 1, 3, 5, 7
      await s.write(async (tx) => {
        const first = await tx.nextPairRowId();
        await tx.insertPairs(dataset, [pair(6, 's6'), pair(7, 's7')], [first, first + 1]);
      });
      const pairRowIds = await s.pairRowIds(dataset);
      const late = await s.write(async (tx) =>
        Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => (await tx.ensureAnnotator(`late${i}`, 'human', null)).id)),
      );
      const order: number[] = [];
      for (const r of late) {
        const pairIdx = (await s.claimNextPair(dataset, r, 200_000, 60_000))!;
        order.push(pairIdx);
        await saveLabel(s, r, pairRowIds.get(pairIdx)!, label);
      }
      expect(order).toEqual([2, 4, 6, 1, 3, 5]); // 0 is full (alice), 2 was chen's claim, expired at 200,000
      expect(await s.claimNextPair(dataset, c, 200_000, 60_000)).toBe(7);
    });

    it('team split, least-annotated: the fewest labels and live claims first, so every pair gets its first label before any its second; an undone label takes its pair back a level', async () => {
      const { s, dataset, row } = await seeded(6);
      const [alice, bilal, chen, dana, eve, fay, gus] = await s.write(async (tx) =>
        Promise.all(
          ['alice', 'bilal', 'chen', 'dana', 'eve', 'fay', 'gus'].map(
            async (n) => (await tx.ensureAnnotator(n, 'human', null)).id,
          ),
        ),
      );
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 2, assignment: 'least-annotated', seed: 0 }));
      const label: WorkbenchLabel = {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      const claimAndLabel = async (who: number) => {
        const pairIdx = (await s.claimNextPair(dataset, who, 0, 60_000))!;
        await saveLabel(s, who, row(pairIdx), label);
        return pairIdx;
      };
      // by hand: alice's live claim on pair 0 puts it a level up, so bilal, claiming at the same time, gets pair 1
      expect(await s.claimNextPair(dataset, alice, 0, 60_000)).toBe(0);
      expect(await s.claimNextPair(dataset, bilal, 0, 60_000)).toBe(1);
      await saveLabel(s, alice, row(0), label);
      await saveLabel(s, bilal, row(1), label);
      // then each claim takes the first pair with neither label nor claim: 2, 3 (alice), 4 (chen), 5 (dana)
      expect([
        await claimAndLabel(alice),
        await claimAndLabel(alice),
        await claimAndLabel(chen),
        await claimAndLabel(dana),
      ]).toEqual([2, 3, 4, 5]);
      // every pair holds one label: the second labels, in order; eve's live claim fills pair 0 (1 label + 1 claim = k)
      expect(await s.claimNextPair(dataset, eve, 0, 60_000)).toBe(0);
      expect(await s.claimNextPair(dataset, fay, 0, 60_000)).toBe(1);
      // alice undoes pair 3: once the claims have expired (alice's own on pair 3 is live again until then) it
      // is the one pair without a label and comes first (left past the level-0 floor, gus would get 0)
      expect(await undoLastLabel(s, alice, dataset)).toBe(3);
      expect(await s.claimNextPair(dataset, gus, 60_001, 60_000)).toBe(3);
    });

    it("overlap k is the database's rule: a bulk import or a sync of human labels cannot push a pair past k; relabels and models can", async () => {
      const { s, dataset, model, row } = await seeded(3);
      const [alice, bilal] = await s.write(async (tx) =>
        Promise.all(['alice', 'bilal'].map(async (n) => (await tx.ensureAnnotator(n, 'human', null)).id)),
      );
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 1, assignment: 'fixed', seed: 0 }));
      await s.write((tx) => tx.insertPreferences(alice, [{ pairIdx: 0, value: 1 }], row));
      const before = await s.dumpTables();
      // pair 0 holds its k = 1: bilal's label by the bulk path (import labels) and by the sync path are refused, naming the pair
      const full = await s
        .write((tx) =>
          tx.insertPreferences(
            bilal,
            [
              { pairIdx: 1, value: 1 },
              { pairIdx: 0, value: -1 },
            ],
            row,
          ),
        )
        .catch((e: unknown) => e);
      expect(full).toBeInstanceOf(PairFullError);
      expect(full).toMatchObject({ pairIdx: 0, overlap: 1 });
      const t = '2026-01-01T00:00:00.000Z';
      const synced = await s
        .write((tx) =>
          tx.insertLabelRows(
            [
              {
                pair_id: row(0),
                annotator_id: bilal,
                value: -1,
                score_y0: null,
                score_y1: null,
                raw: null,
                shown_first: null,
                rationale: null,
                flagged: 0,
                created_at: t,
                updated_at: t,
              },
            ],
            [],
          ),
        )
        .catch((e: unknown) => e);
      expect(synced).toBeInstanceOf(PairFullError);
      expect(await s.dumpTables()).toEqual(before);
      // alice relabels her own (the rows replaced), a model judges every pair, bilal labels pair 1: all stored
      await s.write((tx) =>
        tx.putLabelState(alice, row(0), {
          preference: {
            value: -1,
            score_y0: null,
            score_y1: null,
            raw: null,
            shown_first: 0,
            rationale: 'again',
            flagged: 0,
            created_at: t,
            updated_at: t,
          },
          principles: [],
        }),
      );
      await s.write((tx) =>
        tx.insertPreferences(
          model,
          [0, 1, 2].map((i) => ({ pairIdx: i, value: 1 as const })),
          row,
        ),
      );
      await s.write((tx) => tx.insertPreferences(bilal, [{ pairIdx: 1, value: 1 }], row));
      expect(await s.labelCountHistogram(dataset)).toEqual([1, 2]);
    });

    it('team split: a label deleted while a claim runs is never left below the claim floor', async () => {
      const location = await adapter.location();
      const [s, other] = [await openStore(location), await openStore(location)];
      open.push(s, other);
      const dataset = await s.write(async (tx) => {
        const id = await tx.createDataset('d', 'jsonl', null);
        const first = await tx.nextPairRowId();
        await tx.insertPairs(
          id,
          Array.from({ length: 4 }, (_, i) => pair(i)),
          Array.from({ length: 4 }, (_, i) => first + i),
        );
        return id;
      });
      const pairRowIds = await s.pairRowIds(dataset);
      const row = (pairIdx: number) => pairRowIds.get(pairIdx)!;
      const [alice, bilal, chen] = await s.write(async (tx) =>
        Promise.all(['alice', 'bilal', 'chen'].map(async (n) => (await tx.ensureAnnotator(n, 'human', null)).id)),
      );
      await s.write((tx) => tx.setWorkSplit(dataset, { overlap: 1, assignment: 'fixed', seed: 0 }));
      expect(await s.claimNextPair(dataset, alice, 0, 1)).toBe(0);
      await saveLabel(s, alice, row(0), {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      });
      // alice's label is deleted (an undo) in a write that stays open while bilal claims on another connection: bilal's claim
      // must not move the floor past pair 0 on the strength of a label that is going away
      let release!: () => void;
      let deleted!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const didDelete = new Promise<void>((r) => {
        deleted = r;
      });
      const undo = s.write(async (tx) => {
        await tx.putLabelState(alice, row(0), { preference: null, principles: [] }); // as an undo writes it
        deleted();
        await gate;
      });
      await didDelete;
      const claim = other.claimNextPair(dataset, bilal, 10, 60_000);
      await Promise.race([claim, new Promise((r) => setTimeout(r, 300))]);
      release();
      await undo;
      const got = [await claim, await other.claimNextPair(dataset, chen, 10, 60_000)];
      // pair 0 lost its label: bilal (who waited for the undo) or chen gets it; left below the floor, 1 and 2
      expect(got.sort()).toEqual([0, 1]);
    });

    it('team split: many annotators claiming and submitting at once never give a pair more than k labels', async () => {
      const location = await adapter.location();
      const setup = await openStore(location);
      open.push(setup);
      const dataset = await setup.write(async (tx) => {
        const id = await tx.createDataset('team', 'jsonl', null);
        const first = await tx.nextPairRowId();
        await tx.insertPairs(
          id,
          Array.from({ length: 12 }, (_, i) => pair(i)),
          Array.from({ length: 12 }, (_, i) => first + i),
        );
        await tx.setWorkSplit(id, { overlap: 2, assignment: 'fixed', seed: 0 });
        return id;
      });
      const pairRowIds = await setup.pairRowIds(dataset);
      const label: WorkbenchLabel = {
        value: 1,
        raw: null,
        shownFirst: 0,
        rationale: '',
        flagged: false,
        principles: [],
      };
      const worker = async (name: string) => {
        const s = await openStore(location);
        open.push(s);
        const me = (await s.write((tx) => tx.ensureAnnotator(name, 'human', null))).id;
        let labelled = 0;
        for (;;) {
          const pairIdx = await s.claimNextPair(dataset, me, Date.now(), 60_000);
          if (pairIdx === undefined) return labelled;
          await saveLabel(s, me, pairRowIds.get(pairIdx)!, label);
          labelled++;
        }
      };
      const counts = await Promise.all(['w1', 'w2', 'w3', 'w4', 'w5'].map(worker));
      expect(counts.reduce((x, y) => x + y, 0)).toBe(24); // 12 pairs x 2 labels, every acknowledged label stored
      expect(await setup.labelCountHistogram(dataset)).toEqual([0, 0, 12]);
      const perPair = new Map<number, Set<number>>();
      for (const p of await setup.overallPreferences(dataset))
        perPair.set(p.pairIdx, (perPair.get(p.pairIdx) ?? new Set()).add(p.annotatorId));
      for (const [, annotators] of perPair) expect(annotators.size).toBe(2);
    });

    it('two connections writing at once: both imports land, pair ids never collide', async () => {
      const location = await adapter.location();
      const a = await openStore(location);
      const b = await openStore(location);
      open.push(a, b);
      const load = (s: Store, name: string) =>
        s.write(async (tx) => {
          const id = await tx.createDataset(name, 'jsonl', null);
          const first = await tx.nextPairRowId();
          await tx.insertPairs(
            id,
            Array.from({ length: 50 }, (_, i) => pair(i)),
            Array.from({ length: 50 }, (_, i) => first + i),
          );
          return id;
        });
      const [da, db] = await Promise.all([load(a, 'one'), load(b, 'two')]);
      expect(await a.countPairs(da)).toBe(50);
      expect(await a.countPairs(db)).toBe(50);
      expect(await a.checkIntegrity()).toEqual([]);
    });
  });
}
