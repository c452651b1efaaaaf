// Principle lists from .txt (with an optional short-label file), YAML or JSON.
import { parsePrincipleFile } from '../core/principles';
import type { Store } from '../store/port';
import type { ImportSummary } from './common';
import { readTextFile } from './files';

export async function importPrincipleList(store: Store, opts: { file: string; shortFile?: string; name: string }): Promise<ImportSummary> {
  const text = await readTextFile(opts.file);
  const shortText = opts.shortFile ? await readTextFile(opts.shortFile) : undefined;
  const principles = parsePrincipleFile(opts.file, text, opts.shortFile, shortText);
  const { list, created } = await store.write((tx) => tx.savePrincipleList(opts.name, principles, opts.file));
  return {
    kind: 'principles',
    file: opts.file,
    imported: created ? principles.length : 0,
    counts: { principles: principles.length, version: list.version },
    skipped: [],
    notes: [created ? `saved as "${list.name}" version ${list.version}` : `"${list.name}" version ${list.version} already holds exactly this list; nothing changed`],
  };
}
