// Principle lists from .txt (with an optional short-label file), YAML or JSON.
import { parsePrincipleFile } from '../core/principles';
import type { Store } from '../store';
import { InputError } from '../core/errors';
import { type ImportSummary, type ReadOptions, resolveLimits, throwIfCancelled } from './common';
import { readTextFile } from './files';

export async function importPrincipleList(store: Store, opts: ReadOptions & { file: string; shortFile?: string; name: string }): Promise<ImportSummary> {
  const limits = resolveLimits(opts.limits);
  const text = await readTextFile(opts.file, limits);
  const shortText = opts.shortFile ? await readTextFile(opts.shortFile, limits) : undefined;
  // YAML and JSON flow collections nest with the same brackets; the YAML parser recurses on them.
  // Counted without regard to quotes: a list needs a few levels, and brackets in its text rarely nest.
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > limits.maxJsonDepth) throw new InputError(opts.file, text.slice(0, i).split('\n').length, null, `the list nests deeper than the limit of ${limits.maxJsonDepth} levels, which can be raised`, 'maxJsonDepth');
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  throwIfCancelled(opts.signal, opts.file);
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
