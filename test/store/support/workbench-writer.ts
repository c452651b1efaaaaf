// A child process that labels pairs the way the extension does (the app's WorkbenchSession over the store) and
// prints "ack IDX" once each submission has committed: what the crash and concurrency tests kill and
// audit. Arguments: DB DATASET ANNOTATOR LIST COUNT.
import { WorkbenchSession } from '../../../src/app/workbench';
import { openStore } from '../../../src/store';

async function main(): Promise<void> {
  const [db, dataset, annotator, list, count] = process.argv.slice(2);
  const store = await openStore(db);
  const session = await WorkbenchSession.open(store, { dataset, annotator, principleList: list });
  let pairIdx = await session.start();
  for (let i = 0; i < Number(count) && pairIdx !== undefined; i++) {
    const card = (await session.card())!;
    await session.savePosition();
    // from the card shown, as the webview does (a submit is accepted only with its card's seq)
    await session.submit({
      type: 'submit',
      seq: card.seq,
      ahead: null,
      pairIdx,
      overall: 'A',
      grid: session.list.principles.map(() => 'B'),
      rationale: `label ${i}`,
      flagged: false,
    });
    process.stdout.write(`ack ${pairIdx}\n`);
    if (!(await session.move('next'))) break;
    pairIdx = session.current;
  }
  await store.close();
}

main().catch((e: unknown) => {
  process.stderr.write(`workbench-writer: ${(e as Error).message}\n`);
  process.exit(1);
});
