// docs/metrics.md names, for each metric, the tests that pin it: every test file it names exists and holds
// every test name quoted after it, so a renamed or removed test shows up here instead of in a stale doc.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../support/helpers';

it('every test docs/metrics.md cites exists under that name', () => {
  const doc = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const citations = [...doc.matchAll(/^- `(test\/[^`]+\.test\.ts)` — (.+)$/gm)];
  const missing: string[] = [];
  let names = 0;
  for (const [, file, rest] of citations) {
    const path = join(ROOT, file!);
    if (!existsSync(path)) {
      missing.push(`${file}: no such file`);
      continue;
    }
    // Test names as written in the source, with the quote escapes of a '...' string undone.
    const source = readFileSync(path, 'utf8').replace(/\\(['"])/g, '$1');
    for (const [, name] of rest!.matchAll(/`([^`]+)`/g)) {
      names++;
      if (!source.includes(name!)) missing.push(`${file}: "${name}"`);
    }
  }
  expect(missing).toEqual([]);
  // The doc covers the metrics of both specs: far more citations than this would be lost by a format change.
  expect(citations.length).toBeGreaterThanOrEqual(25);
  expect(names).toBeGreaterThanOrEqual(60);
});
