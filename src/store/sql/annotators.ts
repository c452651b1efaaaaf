// Annotators (people and models), on SQLite.
import { UsageError } from '../../core/errors';
import type { AnnotatorKind } from '../../core/types';
import { json, requireNamed } from '../common';
import type { AnnotatorReads, AnnotatorRow, AnnotatorWrites } from '../port';
import type { SqlConnection } from './connection';

interface AnnotatorRecord { id: number; name: string; kind: AnnotatorKind; provenance: string | null; group_name: string | null }
const toRow = (r: AnnotatorRecord): AnnotatorRow => ({ id: r.id, name: r.name, kind: r.kind, provenance: r.provenance ? JSON.parse(r.provenance) : null, group: r.group_name });

export function annotatorReads(c: SqlConnection): AnnotatorReads {
  const getAnnotator = async (name: string) => {
    const r = await c.get<AnnotatorRecord>('SELECT * FROM annotators WHERE name = ?', [name]);
    return r && toRow(r);
  };
  return {
    getAnnotator,
    requireAnnotator: async (name) => requireNamed('annotator', name, await getAnnotator(name),
      async () => (await c.all<{ name: string }>('SELECT name FROM annotators ORDER BY name')).map((r) => r.name)),
    listAnnotators: async () => (await c.all<AnnotatorRecord>('SELECT * FROM annotators ORDER BY id')).map(toRow),
  };
}

export function annotatorWrites(c: SqlConnection, reads: AnnotatorReads): AnnotatorWrites {
  return {
    ensureAnnotator: async (name, kind, provenance) => {
      // the review's adjudications are stored under this name (src/app/review.ts): an annotator of another kind by it would block them
      if (name === 'adjudicated' && kind !== 'adjudicator') throw new UsageError('the annotator name "adjudicated" is reserved for the review\'s adjudications; choose another name');
      await c.serialize(`annotators:${name}`);
      const existing = await reads.getAnnotator(name);
      if (existing) {
        if (existing.kind !== kind) throw new UsageError(`annotator "${name}" already exists as a ${existing.kind}, not a ${kind}; choose another annotator name`, 'annotator');
        if (provenance) await c.run('UPDATE annotators SET provenance = ? WHERE id = ?', [json({ ...existing.provenance, ...provenance }), existing.id]);
        return { ...existing, provenance: provenance ? { ...existing.provenance, ...provenance } : existing.provenance };
      }
      const id = await c.insertId('INSERT INTO annotators (name, kind, provenance, created_at) VALUES (?, ?, ?, ?)', [name, kind, json(provenance), c.now()]);
      return { id, name, kind, provenance, group: null };
    },
    setAnnotatorGroup: async (names, group) => {
      const rows: AnnotatorRow[] = [];
      for (const name of names) rows.push(await reads.requireAnnotator(name));
      for (const r of rows) await c.run('UPDATE annotators SET group_name = ? WHERE id = ?', [group, r.id]);
      return rows.map((r) => ({ ...r, group }));
    },
  };
}
