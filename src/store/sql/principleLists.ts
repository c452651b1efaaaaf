// Principle lists, versioned by content (SQL shared by both adapters).
import { canonicalPrincipleListText } from '../../core/principles';
import { requireNamed, sha256 } from '../common';
import type { PrincipleListReads, PrincipleListRow, PrincipleListWrites } from '../port';
import type { SqlConnection } from './connection';

async function principleListById(c: SqlConnection, id: number): Promise<PrincipleListRow | undefined> {
  const l = await c.get<{ id: number; name: string; version: number; content_hash: string }>(
    'SELECT * FROM principle_lists WHERE id = ?',
    [id],
  );
  if (!l) return undefined;
  const ps = await c.all<{ key: string; short: string; text: string }>(
    'SELECT key, short, text FROM principles WHERE list_id = ? ORDER BY position',
    [id],
  );
  return {
    id: l.id,
    name: l.name,
    version: l.version,
    contentHash: l.content_hash,
    principles: ps.map((p) => ({ id: p.key, short: p.short, text: p.text })),
  };
}

export function principleListReads(c: SqlConnection): PrincipleListReads {
  return {
    // NAME@VERSION splits at the last "@" followed by a whole number only ("team@2@1": version 1 of the list
    // "team@2") and always means that version when it exists (sync and review build such refs); otherwise
    // the whole ref is a list's name and selects its latest version ("team@2": the list "team@2", unless
    // the list "team" has a version 2). Versions have at most 9 digits (an INTEGER on PostgreSQL).
    requirePrincipleList: async (ref) => {
      const m = /^(.*)@(\d{1,9})$/.exec(ref);
      const row =
        (m
          ? await c.get<{ id: number }>('SELECT id FROM principle_lists WHERE name = ? AND version = ?', [
              m[1],
              Number(m[2]),
            ])
          : undefined) ??
        (await c.get<{ id: number }>('SELECT id FROM principle_lists WHERE name = ? ORDER BY version DESC LIMIT 1', [
          ref,
        ]));
      return requireNamed('principle list', ref, row && (await principleListById(c, row.id)), async () =>
        (await c.all<{ name: string }>('SELECT DISTINCT name FROM principle_lists ORDER BY name')).map((r) => r.name),
      );
    },
    principleRowIds: async (listId) =>
      (await c.all<{ id: number }>('SELECT id FROM principles WHERE list_id = ? ORDER BY position', [listId])).map(
        (r) => r.id,
      ),
    listPrincipleLists: () =>
      c.all(
        'SELECT l.id, l.name, l.version, (SELECT COUNT(*) FROM principles p WHERE p.list_id = l.id) AS size FROM principle_lists l ORDER BY l.name, l.version DESC',
      ),
  };
}

export function principleListWrites(c: SqlConnection): PrincipleListWrites {
  return {
    savePrincipleList: async (name, principles, sourcePath) => {
      const hash = sha256(canonicalPrincipleListText(principles));
      await c.serialize(`principle_lists:${name}`);
      const existing = await c.get<{ id: number }>(
        'SELECT id FROM principle_lists WHERE name = ? AND content_hash = ?',
        [name, hash],
      );
      if (existing) return { list: (await principleListById(c, existing.id))!, created: false };
      const v = await c.get<{ v: number | null }>('SELECT MAX(version) AS v FROM principle_lists WHERE name = ?', [
        name,
      ]);
      const version = (v?.v ?? 0) + 1;
      const listId = await c.insertId(
        'INSERT INTO principle_lists (name, version, content_hash, source_path, created_at) VALUES (?, ?, ?, ?, ?)',
        [name, version, hash, sourcePath, c.now()],
      );
      await c.insertRows(
        'principles',
        ['list_id', 'position', 'key', 'short', 'text'],
        principles.map((p, i) => [listId, i, p.id, p.short, p.text]),
      );
      return { list: (await principleListById(c, listId))!, created: true };
    },
  };
}
