// The database's contents at a glance (`discretion info`), on any adapter.
import type { StoreInfo, StoreReads } from '../port';
import type { SqlConnection } from './connection';

export async function info(c: SqlConnection, reads: Pick<StoreReads, 'listAnnotators'>): Promise<StoreInfo> {
  const datasets = await c.all<{ name: string; format: string; content_hash: string | null; n: number }>(
    'SELECT d.name, d.format, d.content_hash, (SELECT COUNT(*) FROM pairs p WHERE p.dataset_id = d.id) AS n FROM datasets d ORDER BY d.id',
  );
  const lists = await c.all<{ name: string; version: number; content_hash: string; n: number }>(
    'SELECT l.name, l.version, l.content_hash, (SELECT COUNT(*) FROM principles p WHERE p.list_id = l.id) AS n FROM principle_lists l ORDER BY l.name, l.version',
  );
  const prefCounts = await c.all<{ a: number; dataset: string; n: number }>(
    'SELECT pr.annotator_id AS a, d.name AS dataset, COUNT(*) AS n FROM preferences pr JOIN pairs p ON p.id = pr.pair_id JOIN datasets d ON d.id = p.dataset_id WHERE pr.value IS NOT NULL GROUP BY pr.annotator_id, d.id',
  );
  const ppCounts = await c.all<{ a: number; dataset: string; n: number }>(
    'SELECT pp.annotator_id AS a, d.name AS dataset, COUNT(DISTINCT pp.pair_id) AS n FROM principle_preferences pp JOIN pairs p ON p.id = pp.pair_id JOIN datasets d ON d.id = p.dataset_id GROUP BY pp.annotator_id, d.id',
  );
  const annotators = await reads.listAnnotators();
  return {
    datasets: datasets.map((d) => ({ name: d.name, format: d.format, pairs: d.n, contentHash: d.content_hash })),
    principleLists: lists.map((l) => ({ name: l.name, version: l.version, size: l.n, contentHash: l.content_hash })),
    annotators: annotators.map((a) => {
      const names = new Set([...prefCounts, ...ppCounts].filter((x) => x.a === a.id).map((x) => x.dataset));
      return {
        name: a.name,
        kind: a.kind,
        group: a.group,
        datasets: [...names].map((dataset) => ({
          dataset,
          preferences: prefCounts.find((x) => x.a === a.id && x.dataset === dataset)?.n ?? 0,
          principlePreferences: ppCounts.find((x) => x.a === a.id && x.dataset === dataset)?.n ?? 0,
        })),
      };
    }),
  };
}
