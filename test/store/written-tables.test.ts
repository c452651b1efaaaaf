// The tables a PostgreSQL write names in its NOTIFY payload, told from its statements (PgConnection.written).
import { describe, expect, it } from 'vitest';
import { WrittenTables } from '../../src/store/postgres/connection';

describe('WrittenTables', () => {
  it('names the target of INSERT INTO, UPDATE and DELETE FROM when the statement changed rows, sorted, each once', () => {
    const w = new WrittenTables();
    w.record(
      'INSERT INTO preferences (pair_id, annotator_id) VALUES (?, ?) ON CONFLICT (pair_id, annotator_id) DO UPDATE SET label = excluded.label',
      1,
    );
    w.record('UPDATE "label_history" SET x = 1 WHERE id = ?', 2);
    w.record('DELETE FROM principle_preferences WHERE annotator_id = ?', 3);
    w.record('INSERT INTO preferences (pair_id) VALUES (?)', 1);
    expect(w.get()).toEqual(['label_history', 'preferences', 'principle_preferences']);
  });

  it('leaves out statements that changed nothing, reads, DO UPDATE SET and FOR UPDATE OF', () => {
    const w = new WrittenTables();
    w.record('UPDATE datasets SET claim_floor = ? WHERE id = ? AND claim_floor = ?', 0);
    w.record('INSERT INTO annotators (name) VALUES (?) ON CONFLICT DO NOTHING', 0);
    w.record('SELECT p.id FROM pairs p ORDER BY p.idx LIMIT 1 FOR UPDATE OF p SKIP LOCKED', 1);
    expect(w.get()).toEqual([]);
    // a WITH that writes is left to its caller (its one row says nothing of what it changed)
    w.record(
      `WITH moved AS (UPDATE datasets SET claim_floor = ? WHERE id = ? RETURNING id), pick AS (SELECT n.id FROM pairs n WHERE n.id = (SELECT p.id FROM pairs p LIMIT 1 FOR UPDATE OF p SKIP LOCKED)),
      claimed AS (INSERT INTO claims (pair_id, annotator_id, expires_at) SELECT id, ?, ? FROM pick ON CONFLICT (pair_id, annotator_id) DO UPDATE SET expires_at = excluded.expires_at RETURNING pair_id)
      SELECT (SELECT pick.idx FROM pick JOIN claimed ON claimed.pair_id = pick.id) AS idx, (SELECT COUNT(*) FROM moved) AS moved`,
      1,
    );
    expect(w.get()).toEqual([]);
    w.record('UPDATE claims SET expires_at = ? WHERE pair_id = ? AND annotator_id = ? AND expires_at > ?', 1);
    expect(w.get()).toEqual(['claims']);
  });

  it('cannot tell after a delete that may cascade or fire a trigger (the adapter then reads the server statistics), until reset', () => {
    for (const table of ['datasets', 'pairs', 'annotators', 'principle_lists', 'principles', 'preferences']) {
      const w = new WrittenTables();
      w.record('INSERT INTO claims (pair_id) VALUES (?)', 1);
      w.record(`DELETE FROM ${table} WHERE id = ?`, 1);
      w.record('INSERT INTO label_history (id) VALUES (?)', 1);
      expect(w.get()).toBeUndefined();
      w.reset();
      expect(w.get()).toEqual([]);
    }
    // a delete that removed nothing cascades nothing
    const w = new WrittenTables();
    w.record('DELETE FROM pairs WHERE id = ?', 0);
    w.add('pairs'); // a COPY into it
    expect(w.get()).toEqual(['pairs']);
  });
});
