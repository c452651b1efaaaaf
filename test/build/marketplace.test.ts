// What the Marketplace and a first run need from package.json: the icon is a PNG of at least 128x128 (its
// IHDR read from the file's bytes), the walkthrough's media files exist, every step completes on a context
// key that src/extension/walkthrough.ts sets, and every command: link of the walkthrough (step descriptions
// and their markdown) names a contributed command. Also: markDone sets the key, ticks the step and remembers it, and
// restoreWalkthrough sets the keys again in a new window.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const { executeCommand } = vi.hoisted(() => ({ executeCommand: vi.fn(async (..._args: unknown[]) => undefined) }));
vi.mock('vscode', () => ({ commands: { executeCommand } }));

const root = resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));

interface Step {
  id: string;
  title: string;
  description: string;
  media: { image?: string | Record<string, string>; markdown?: string; svg?: string };
  completionEvents?: string[];
}
const walkthroughs: { id: string; steps: Step[] }[] = pkg.contributes.walkthroughs;
const mediaFiles = (s: Step) =>
  [
    s.media.markdown,
    s.media.svg,
    ...(typeof s.media.image === 'object' ? Object.values(s.media.image) : [s.media.image]),
  ].filter((f): f is string => typeof f === 'string');

/** Built-in commands the walkthrough may link to besides the extension's own (none so far). */
const BUILT_IN_COMMANDS: string[] = [];

/** Width and height from a PNG's IHDR chunk (PNG spec 5.2-5.3, 11.2.2): the signature, then IHDR first. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) throw new Error('not a PNG (signature)');
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG (first chunk is not IHDR)');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('Marketplace fields', () => {
  it('has an icon that is a PNG of at least 128x128', () => {
    expect(pkg.icon).toBe('media/icon.png');
    const size = pngSize(readFileSync(resolve(root, pkg.icon)));
    expect(size.width).toBeGreaterThanOrEqual(128);
    expect(size.height).toBeGreaterThanOrEqual(128);
  });

  it('reads the size from the IHDR bytes, and refuses what is not a PNG', () => {
    const ihdr = Buffer.alloc(24);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(ihdr);
    ihdr.writeUInt32BE(13, 8);
    ihdr.write('IHDR', 12, 'latin1');
    ihdr.writeUInt32BE(300, 16);
    ihdr.writeUInt32BE(200, 20);
    expect(pngSize(ihdr)).toEqual({ width: 300, height: 200 });
    expect(() => pngSize(readFileSync(resolve(root, 'media', 'icons', 'discretion.svg')))).toThrow(/signature/);
  });

  it('names the repository, the issues, the home page, a banner, a few keywords, and ships a LICENSE and CHANGELOG', () => {
    expect(pkg.repository.url).toMatch(/^https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
    expect(pkg.bugs.url).toBe(pkg.repository.url.replace(/\.git$/, '/issues'));
    expect(pkg.homepage.startsWith(pkg.repository.url.replace(/\.git$/, ''))).toBe(true);
    expect(pkg.galleryBanner).toEqual({ color: expect.stringMatching(/^#[0-9a-f]{6}$/i), theme: 'dark' });
    expect(pkg.keywords.length).toBeGreaterThan(0);
    expect(pkg.keywords.length).toBeLessThanOrEqual(5);
    expect(readFileSync(resolve(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(pkg.license).toBe('MIT');
    expect(existsSync(resolve(root, 'CHANGELOG.md'))).toBe(true);
  });
});

describe('the first-run walkthrough', () => {
  beforeEach(() => {
    vi.resetModules();
    executeCommand.mockClear();
  });

  it('has five steps, each with its media files', () => {
    expect(walkthroughs.map((w) => w.id)).toEqual(['discretion.gettingStarted']);
    const steps = walkthroughs[0].steps;
    expect(steps.map((s) => s.id)).toEqual(['sample', 'label', 'dashboard', 'metrics', 'report']);
    for (const s of steps) {
      expect(mediaFiles(s).length, s.id).toBeGreaterThan(0);
      for (const f of mediaFiles(s)) expect(existsSync(resolve(root, f)), `${s.id}: ${f}`).toBe(true);
    }
  });

  it('completes each step on a context key the extension sets, never on a command merely run', async () => {
    const { WALKTHROUGH_KEYS } = await import('../../src/extension/walkthrough');
    const keys: string[] = Object.values(WALKTHROUGH_KEYS);
    for (const s of walkthroughs[0].steps) {
      expect(s.completionEvents?.length, s.id).toBeGreaterThan(0);
      for (const e of s.completionEvents!) {
        expect(e, s.id).toMatch(/^onContext:/);
        expect(keys, `${s.id}: ${e}`).toContain(e.slice('onContext:'.length));
      }
    }
    // and the step that a key marks is the step that completes on it
    for (const [step, key] of Object.entries(WALKTHROUGH_KEYS))
      expect(walkthroughs[0].steps.find((s) => s.id === step)?.completionEvents).toEqual([`onContext:${key}`]);
  });

  it('links only to commands that exist', () => {
    const contributed = new Set<string>(pkg.contributes.commands.map((c: { command: string }) => c.command));
    const texts = walkthroughs[0].steps.flatMap((s) => [
      s.description,
      ...(s.media.markdown ? [readFileSync(resolve(root, s.media.markdown), 'utf8')] : []),
    ]);
    const links = texts.flatMap((t) => [...t.matchAll(/\]\(command:([\w.]+)/g)].map((m) => m[1]));
    expect(links.length).toBeGreaterThanOrEqual(5);
    for (const id of links) expect(contributed.has(id) || BUILT_IN_COMMANDS.includes(id), id).toBe(true);
    // a command: link written some other way than [text](command:id) would not be checked above
    const all = texts.flatMap((t) => [...t.matchAll(/command:/g)]).length;
    expect(all).toBe(links.length);
  });

  it('markDone sets the key and ticks the step once, and remembers it; a new window sets the keys again', async () => {
    const stored = new Map<string, unknown>();
    const context = {
      extension: { id: `${pkg.publisher}.${pkg.name}` },
      globalState: {
        get: (k: string) => stored.get(k),
        update: async (k: string, v: unknown) => void stored.set(k, v),
      },
    } as unknown as import('vscode').ExtensionContext;
    const first = await import('../../src/extension/walkthrough');
    first.markDone(context, 'label');
    first.markDone(context, 'label');
    first.markDone(context, 'report');
    // the key, and the step ticked by the command of the walkthrough's own check boxes (its id: publisher.name#walkthrough#step)
    const stepId = (step: string) => `discretion-workbench.discretion-workbench#discretion.gettingStarted#${step}`;
    expect(executeCommand.mock.calls).toEqual([
      ['setContext', first.WALKTHROUGH_KEYS.label, true],
      ['welcome.markStepComplete', stepId('label')],
      ['setContext', first.WALKTHROUGH_KEYS.report, true],
      ['welcome.markStepComplete', stepId('report')],
    ]);
    expect(first.WALKTHROUGH_ID).toBe(walkthroughs[0].id);
    executeCommand.mockClear();
    vi.resetModules(); // a new window: a fresh module, the same globalState
    const second = await import('../../src/extension/walkthrough');
    second.restoreWalkthrough(context);
    expect(executeCommand.mock.calls).toEqual([
      ['setContext', second.WALKTHROUGH_KEYS.label, true],
      ['setContext', second.WALKTHROUGH_KEYS.report, true],
    ]);
  });
});
