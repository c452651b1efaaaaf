// No module of src/ or webview/ imports itself back through others (the report's consistency, model and sections
// modules once did). A cycle makes the load order decide what a module sees at import time, and a reader cannot
// follow a layer from the bottom up. The detector is checked on a cycle written on purpose.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../support/helpers';

/** Every cycle of relative imports (`import`/`export ... from './x'`, types too) among the .ts files under `roots`, as "a -> b -> a". */
function importCycles(base: string, roots: string[]): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  for (const r of roots) walk(join(base, r));
  const graph = new Map(files.map((f) => {
    const deps: string[] = [];
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)) {
      const t = resolve(dirname(f), m[1]);
      if (existsSync(`${t}.ts`)) deps.push(`${t}.ts`);
      else if (existsSync(join(t, 'index.ts'))) deps.push(join(t, 'index.ts'));
    }
    return [f, deps] as const;
  }));
  const cycles = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const done = new Set<string>();
  const visit = (n: string) => {
    stack.push(n);
    onStack.add(n);
    for (const d of graph.get(n) ?? []) {
      if (onStack.has(d)) cycles.add([...stack.slice(stack.indexOf(d)), d].map((x) => relative(base, x)).join(' -> '));
      else if (!done.has(d)) visit(d);
    }
    stack.pop();
    onStack.delete(n);
    done.add(n);
  };
  for (const f of files) if (!done.has(f)) visit(f);
  return [...cycles];
}

describe('import cycles', () => {
  it('finds a cycle written on purpose (a -> b -> a, through a type import)', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
    writeFileSync(join(dir, 'src', 'b.ts'), "import type { A } from './c';\nexport const b = 1;\n");
    writeFileSync(join(dir, 'src', 'c.ts'), "export type { a as A } from './a';\n");
    expect(importCycles(dir, ['src'])).toEqual(['src/a.ts -> src/b.ts -> src/c.ts -> src/a.ts']);
  });

  it('src/ and webview/ have none', () => {
    expect(importCycles(ROOT, ['src', 'webview'])).toEqual([]);
  });
});
