// The extension bundle is lean: it must not carry the CLI's argument parser (commander) nor anything of
// src/cli. Before src/app existed, the dashboard imported prepareReport from src/cli/commands/report.ts,
// which pulled commander into dist/extension.js: this test failed then. It bundles the extension entry
// in memory with the same esbuild options as scripts/build.mjs and reads esbuild's list of inputs.
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..');

describe('extension bundle', () => {
  it('contains no commander and no src/cli module, but does contain the shared application layer', async () => {
    const result = await build({
      entryPoints: [resolve(root, 'src/extension/extension.ts')],
      absWorkingDir: root,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode', 'libsql', 'onnxruntime-node'],
      logLevel: 'silent',
      outfile: 'extension.js',
    });
    const inputs = Object.keys(result.metafile.inputs);
    // sanity: the dashboard's report code is in the bundle (so the check below looks at a real bundle)
    expect(inputs).toContain('src/app/report.ts');
    expect(inputs.filter((p) => /(^|\/)node_modules\/commander\//.test(p))).toEqual([]);
    expect(inputs.filter((p) => p.startsWith('src/cli/'))).toEqual([]);
    const text = result.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
    // not even its name: package.json is imported by named fields only, so its dependency list stays out
    expect(text).not.toContain('commander');
  });
});

describe('workbench webview bundle', () => {
  it('holds no Markdown parser (the host renders a response to HTML) but the sanitiser that checks it', async () => {
    const result = await build({
      entryPoints: [resolve(root, 'webview/workbench/main.ts')],
      absWorkingDir: root,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'browser',
      format: 'iife',
      target: 'es2022',
      minify: true,
      logLevel: 'silent',
      outfile: 'workbench.js',
    });
    const inputs = Object.keys(result.metafile.inputs);
    // the page carries the whole bundle (inlined into it) and parses it at every open of the panel
    expect(inputs.filter((p) => /(^|\/)node_modules\/marked\//.test(p))).toEqual([]);
    expect(inputs.some((p) => /(^|\/)node_modules\/dompurify\//.test(p))).toBe(true);
  });
});
