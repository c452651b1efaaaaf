// The database every fuzz case starts from (copied per case).
import { openSqliteStore } from '../../src/store/sqlite/adapter';

/** The base database every case starts from: dataset "base" (pairs a, b, c), principle list "two" (p0, p1). */
export async function makeBaseDatabase(path: string): Promise<void> {
  // The cases copy this file alone: its WAL must be folded into it at close (libsql closes the connection only
  // once its statements are collected, so without this a copy made soon after can lack the base's rows).
  const store = await openSqliteStore(path, { movedAfterClose: true });
  await store.write(async (tx) => {
    const id = await tx.createDataset('base', 'jsonl', null);
    await tx.insertPairs(
      id,
      [0, 1, 2].map((i) => ({ idx: i, sourceId: ['a', 'b', 'c'][i], prompt: `q${i}`, y0: 'x', y1: 'y' })),
      [1, 2, 3],
    );
    await tx.savePrincipleList(
      'two',
      [
        { id: 'p0', short: 'A', text: 'Be kind.' },
        { id: 'p1', short: 'B', text: 'Be honest.' },
      ],
      null,
    );
  });
  await store.close();
}
