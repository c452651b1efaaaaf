// The workbench session and the store additions, on real SQLite files.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../../../src/importers/datasets';
import { importPrincipleList } from '../../../src/importers/principles';
import { READ_AHEAD, WorkbenchSession } from '../../../src/app/workbench';
import { openSqliteStore } from '../../../src/store/sqlite/adapter';
import { ROOT, tempDir } from '../../support/helpers';

const SAMPLE = join(ROOT, 'media', 'sample', 'safety-pairs.jsonl');
const LIST = join(ROOT, 'media', 'principles', 'demo-safety.yaml');

async function setup() {
  const db = join(tempDir(), 'wb.db');
  const store = await openSqliteStore(db);
  await importDataset(store, {
    format: 'jsonl',
    file: SAMPLE,
    dataset: 'sample',
    mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1', id: 'id' },
  });
  await importPrincipleList(store, { file: LIST, name: 'demo' });
  return { db, store };
}

const grid6 = ['A', 'B', 'neither', null, null, 'A'] as const;

describe('WorkbenchSession', () => {
  it('records a submission with identity, shown order and principle labels in one go, and resumes', async () => {
    const { db, store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    expect(await s.start()).toBe(0);
    const card = (await s.card())!;
    expect(card.principles).toHaveLength(6);
    expect(card.models).toBeNull();
    expect(card.existing).toBeNull();
    await s.submit({
      type: 'submit',
      seq: card.seq,
      pairIdx: 0,
      overall: 'A',
      grid: [...grid6],
      rationale: ' because ',
      flagged: true,
      ahead: null,
    });
    const rows = await store.db.all<{
      value: number;
      shown_first: number;
      rationale: string;
      flagged: number;
      name: string;
    }>(
      'SELECT p.value, p.shown_first, p.rationale, p.flagged, a.name FROM preferences p JOIN annotators a ON a.id = p.annotator_id',
    );
    expect(rows).toEqual([
      {
        value: card.shownFirst === 0 ? -1 : 1,
        shown_first: card.shownFirst,
        rationale: 'because',
        flagged: 1,
        name: 'alice',
      },
    ]);
    const pp = await store.db.all<{ value: number; shown_first: number }>(
      'SELECT value, shown_first FROM principle_preferences ORDER BY principle_id',
    );
    expect(pp).toHaveLength(4); // unanswered rows stay unanswered
    const a = card.shownFirst === 0 ? -1 : 1;
    expect(pp.map((r) => r.value)).toEqual([a, -a, 0, a]);
    expect(new Set(pp.map((r) => r.shown_first))).toEqual(new Set([card.shownFirst]));
    await store.close();

    // a fresh session on the reopened file resumes on the first unlabelled pair and shows the label back
    const store2 = await openSqliteStore(db);
    const s2 = await WorkbenchSession.open(store2, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    expect(await s2.start()).toBe(1);
    s2.current = 0;
    const again = (await s2.card())!;
    expect(again.existing).toEqual({ overall: 'A', grid: [...grid6], rationale: 'because', flagged: true });
    expect(again.progress).toEqual({ labelled: 1, total: 30 });
    await store2.close();
  });

  it('undo restores the previous label exactly and keeps the history', async () => {
    const { store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    await s.start();
    const base = { type: 'submit' as const, pairIdx: 0, rationale: '', flagged: false, ahead: null };
    const first = (await s.card())!;
    await s.submit({ ...base, seq: first.seq, overall: 'A', grid: ['A', 'A', 'A', 'A', 'A', 'A'] });
    const alice = (await store.getAnnotator('alice'))!;
    const pair0 = (await store.workbenchPair(s.dataset.id, 0))!;
    const before = await store.labelState(alice.id, pair0.pairRowId);
    // By hand: 'A' is y0 when y0 was shown first (stored -1 = prefers y0), else y1 (+1); A on all six principles.
    const a = first.shownFirst === 0 ? -1 : 1;
    expect(before.preference).toMatchObject({ value: a, shown_first: first.shownFirst, rationale: null, flagged: 0 });
    expect(before.principles.map((q) => q.value)).toEqual([a, a, a, a, a, a]);
    await s.submit({
      ...base,
      seq: (await s.card())!.seq,
      overall: 'tie',
      grid: ['B', null, null, null, null, 'neither'],
      rationale: 'changed my mind',
    });
    s.current = 5;
    expect(await s.undo()).toBe(true);
    expect(s.current).toBe(0);
    expect(await store.labelState(alice.id, pair0.pairRowId)).toEqual(before);
    expect(await s.undo()).toBe(true);
    expect(await store.labelState(alice.id, pair0.pairRowId)).toEqual({ preference: null, principles: [] });
    expect(await s.undo()).toBe(false);
    const h = await store.labelHistory(alice.id);
    expect(h.map((r) => [r.action, r.undone])).toEqual([
      ['submit', true],
      ['submit', true],
      ['undo', false],
      ['undo', false],
    ]);
    await store.close();
  });

  it('keeps several annotators, reveals models only after the label, and filters the queue', async () => {
    const { store } = await setup();
    const ds = (await store.getDataset('sample'))!;
    const rows = await store.pairRowIds(ds.id);
    await store.write(async (tx) => {
      const rm = await tx.ensureAnnotator('rm-1', 'reward-model', null);
      await tx.insertPreferences(
        rm.id,
        [0, 1, 2].map((i) => ({ pairIdx: i, value: 1 })),
        (i) => rows.get(i)!,
      );
    });
    const alice = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    const bob = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'bob', principleList: 'demo' });
    await alice.start();
    await bob.start();
    const c = (await alice.card())!;
    expect(c.models).toBeNull(); // blind
    const y0 = c.shownFirst === 0 ? 'A' : 'B';
    const models = await alice.submit({
      type: 'submit',
      seq: c.seq,
      pairIdx: 0,
      overall: y0,
      grid: ['A', 'B', null, null, null, null],
      rationale: '',
      flagged: false,
      ahead: null,
    });
    expect(models).toEqual([
      { name: 'rm-1', kind: 'reward-model', choice: c.shownFirst === 0 ? 'B' : 'A', disagrees: true },
    ]);
    const bc = (await bob.card())!;
    await bob.submit({
      type: 'submit',
      seq: bc.seq,
      pairIdx: 0,
      overall: 'tie',
      grid: [null, null, null, null, null, null],
      rationale: '',
      flagged: false,
      ahead: null,
    });
    expect((await store.preferencesForPairs([rows.get(0)!])).map((p) => p.annotator).sort()).toEqual([
      'alice',
      'bob',
      'rm-1',
    ]);
    // alice labels pair 1 in agreement with the model
    await alice.move('next');
    const c1 = (await alice.card())!;
    await alice.submit({
      type: 'submit',
      seq: c1.seq,
      pairIdx: 1,
      overall: c1.shownFirst === 1 ? 'A' : 'B',
      grid: [null, null, null, null, null, null],
      rationale: '',
      flagged: false,
      ahead: null,
    });
    expect(await alice.setFilter({ kind: 'disagree', model: 'rm-1' })).toBe(0);
    expect(await alice.move('next')).toBe(false);
    expect(await alice.setFilter({ kind: 'conflict' })).toBe(0); // its grid has A and B
    expect(await bob.setFilter({ kind: 'conflict' })).toBeUndefined();
    await expect(alice.setFilter({ kind: 'disagree', model: 'nobody' })).rejects.toThrow(/unknown annotator/);
    await store.close();
  });

  it('keeps its count and the cards read ahead across its own submissions and position saves, and counts right', async () => {
    const { store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    await s.start();
    let card = (await s.card())!;
    await s.savePosition();
    let recounts = 0;
    const count = store.labelledCount.bind(store);
    store.labelledCount = async (...args) => (recounts++, count(...args));
    let ahead = await s.readAhead();
    const after = (i: number) => Array.from({ length: READ_AHEAD }, (_, k) => i + 1 + k);
    expect(ahead.map((c) => c.pairIdx)).toEqual(after(0)); // READ_AHEAD of them, in queue order
    for (let i = 0; i < 3; i++) {
      // the webview paints the first card read ahead at the keystroke and says so (ahead: its seq)
      await s.submit({
        type: 'submit',
        seq: card.seq,
        pairIdx: card.pairIdx,
        overall: 'A',
        grid: [null, null, null, null, null, null],
        rationale: '',
        flagged: false,
        ahead: ahead[0].seq,
      });
      expect(await s.follow(card.pairIdx, ahead[0].seq)).toBe(true); // it stands: only acknowledged
      expect(s.current).toBe(i + 1);
      expect((await s.progress()).labelled).toBe(i + 1);
      await s.savePosition();
      card = ahead[0];
      const again = await s.readAhead();
      // those still ahead are kept (same cards), one more is read
      expect(again.slice(0, READ_AHEAD - 1).map((c) => c.seq)).toEqual(ahead.slice(1).map((c) => c.seq));
      expect(again.map((c) => c.pairIdx)).toEqual(after(i + 1));
      ahead = again;
    }
    expect(recounts).toBe(0);
    expect(await count(1, s.annotator.id)).toBe(3);
    await store.close();
  });

  it('does not let a painted card stand once another connection wrote to the file', async () => {
    const { db, store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    await s.start();
    const card = (await s.card())!;
    const ahead = await s.readAhead();
    const other = await openSqliteStore(db);
    const bob = await WorkbenchSession.open(other, { dataset: 'sample', annotator: 'bob', principleList: 'demo' }); // writes bob
    await bob.start();
    await s.submit({
      type: 'submit',
      seq: card.seq,
      pairIdx: 0,
      overall: 'A',
      grid: [null, null, null, null, null, null],
      rationale: '',
      flagged: false,
      ahead: ahead[0].seq,
    });
    expect(await s.follow(0, ahead[0].seq)).toBe(false); // the caller shows a fresh card of pair 1
    expect(s.current).toBe(1);
    const fresh = (await s.card())!;
    expect(fresh.seq).not.toBe(ahead[0].seq);
    // the label submitted meanwhile from the painted (now stale) card is refused and changes nothing
    await expect(
      s.submit({
        type: 'submit',
        seq: ahead[0].seq,
        pairIdx: 1,
        overall: 'B',
        grid: [null, null, null, null, null, null],
        rationale: '',
        flagged: false,
        ahead: null,
      }),
    ).rejects.toThrow(/card of pair 1 is out of date.*nothing was saved/);
    expect(await store.labelledCount(s.dataset.id, s.annotator.id)).toBe(1);
    await other.close();
    await store.close();
  });

  it('refuses a submission for another pair than the one shown', async () => {
    const { store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    await s.start();
    const none = [null, null, null, null, null, null];
    await expect(
      s.submit({
        type: 'submit',
        seq: 1,
        pairIdx: 4,
        overall: 'A',
        grid: none,
        rationale: '',
        flagged: false,
        ahead: null,
      }),
    ).rejects.toThrow(/nothing was saved/);
    const card = (await s.card())!;
    await expect(
      s.submit({
        type: 'submit',
        seq: card.seq,
        pairIdx: 0,
        overall: 'A',
        grid: [null],
        rationale: '',
        flagged: false,
        ahead: null,
      }),
    ).rejects.toThrow(/grid has 1 rows/);
    expect(await store.labelledCount(s.dataset.id, s.annotator.id)).toBe(0);
    await store.close();
  });

  it('refuses a stale submit for the same pair: an older card of it, or the same card twice', async () => {
    const { store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    await s.start();
    const grid = ['A', null, null, null, null, null] as const;
    const old = (await s.card())!;
    const shownAgain = (await s.card())!; // the same pair shown again (a reload, Alt+P back)
    const label = (seq: number, overall: 'A' | 'B') => ({
      type: 'submit' as const,
      seq,
      pairIdx: 0,
      overall,
      grid: [...grid],
      rationale: '',
      flagged: false,
      ahead: null,
    });
    await expect(s.submit(label(old.seq, 'B'))).rejects.toThrow(
      /card of pair 0 is out of date \(card \d+; the pair has been shown again since as card \d+\); nothing was saved/,
    );
    expect(await store.labelledCount(s.dataset.id, s.annotator.id)).toBe(0);
    await s.submit(label(shownAgain.seq, 'A'));
    const alice = (await store.getAnnotator('alice'))!;
    const pair0 = (await store.workbenchPair(s.dataset.id, 0))!;
    const stored = await store.labelState(alice.id, pair0.pairRowId);
    // the same message delivered twice, and the older card's late message: both refused, the label unchanged
    await expect(s.submit(label(shownAgain.seq, 'B'))).rejects.toThrow(
      /not on a card the workbench has shown \(or it was submitted already\); nothing was saved/,
    );
    await expect(s.submit(label(old.seq, 'B'))).rejects.toThrow(/nothing was saved/);
    expect(await store.labelState(alice.id, pair0.pairRowId)).toEqual(stored);
    expect((await store.labelHistory(alice.id)).length).toBe(1);
    // after an undo, the card shown before it is stale too
    const again = (await s.card())!;
    await s.undo();
    await expect(s.submit(label(again.seq, 'B'))).rejects.toThrow(/nothing was saved/);
    expect((await store.labelState(alice.id, pair0.pairRowId)).preference).toBeNull();
    await store.close();
  });

  it('two connections on one file do not corrupt it (busy timeout, one writer)', async () => {
    const { db, store } = await setup();
    const other = await openSqliteStore(db);
    const a = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    const b = await WorkbenchSession.open(other, { dataset: 'sample', annotator: 'bob', principleList: 'demo' });
    await a.start();
    await b.start();
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      for (const s of [a, b]) {
        s.current = i;
        const c = (await s.card())!;
        jobs.push(
          s.submit({
            type: 'submit',
            seq: c.seq,
            pairIdx: i,
            overall: 'A',
            grid: ['A', null, null, null, null, null],
            rationale: '',
            flagged: false,
            ahead: null,
          }),
        );
      }
    }
    await Promise.all(jobs);
    expect(await store.labelledCount(a.dataset.id, a.annotator.id)).toBe(10);
    expect(await store.labelledCount(a.dataset.id, b.annotator.id)).toBe(10);
    expect((await store.db.get<{ integrity_check: string }>('PRAGMA integrity_check'))!.integrity_check).toBe('ok');
    await other.close();
    await store.close();
  });
});

describe('resume', () => {
  it('a new session resumes at the saved position, over the webview state and the first unlabelled pair', async () => {
    const { store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    expect(await s.start(3)).toBe(3); // nothing saved yet: the webview's pair
    s.current = 7;
    await s.savePosition();
    const again = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    expect(await again.start(3)).toBe(7);
    const bob = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'bob', principleList: 'demo' });
    expect(await bob.start()).toBe(0);
    await store.close();
  });

  it('resumes at the first pair without a committed label: never past a label that was lost', async () => {
    const { store } = await setup();
    const s = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    await s.start();
    const none = [null, null, null, null, null, null];
    // pairs 0-2 committed, then the position saved on pair 2 (a crash between its commit and the
    // position save): the queue resumes at pair 3, the first without a committed label
    for (let i = 0; i < 3; i++) {
      s.current = i;
      const c = (await s.card())!;
      if (i === 2) await s.savePosition();
      await s.submit({
        type: 'submit',
        seq: c.seq,
        pairIdx: i,
        overall: 'A',
        grid: none,
        rationale: '',
        flagged: false,
        ahead: null,
      });
    }
    const again = await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' });
    expect(await again.start(9)).toBe(3);
    // a saved position on a pair without a label is kept (pair 7: later pairs may be labelled)
    s.current = 7;
    await s.savePosition();
    expect(
      await (
        await WorkbenchSession.open(store, { dataset: 'sample', annotator: 'alice', principleList: 'demo' })
      ).start(),
    ).toBe(7);
    await store.close();
  });
});
