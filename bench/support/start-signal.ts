// The start of a team bench load, one protocol for its worker processes (team-worker.ts: one annotator;
// team-crowd.ts: many): a worker prints "ready" once it is set up, then waits for "go DEADLINE" (epoch ms) on
// stdin, which its coordinator (team-load.ts, team-crowd-load.ts) sends to all of them at once.
import { createInterface } from 'node:readline';

/** The coordinator's line: start now, run until `deadline` (epoch ms). */
export const goLine = (deadline: number) => `go ${deadline}\n`;

/** Says "ready" and resolves with the deadline of the "go" line that follows on stdin. */
export async function readyThenAwaitGo(): Promise<number> {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  const deadline = await new Promise<number>((resolve) =>
    lines.on('line', (l) => {
      if (l.startsWith('go ')) resolve(Number(l.slice(3)));
    }),
  );
  lines.close();
  return deadline;
}
