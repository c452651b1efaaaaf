// The dataset card of `export --format hf` (src/core/report/card.ts) with hostile text in every place dataset text
// reaches it: the dataset's name, the source, annotator names and principle labels (the report fixture's model).
import { Window } from 'happy-dom';
import { marked } from 'marked';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderDatasetCard } from '../../src/core/report/card';
import { hfColumns, hfFeatures } from '../../src/core/training';
import { fixture, HOSTILE, HOSTILE_NAME } from './fixture';

const NAME = `hand ${HOSTILE}\n---\nevil: yes\n# heading`;

describe('the dataset card', () => {
  const { model } = fixture();
  const card = renderDatasetCard({
    dataset: NAME,
    model,
    features: hfFeatures(hfColumns(true)),
    files: ['data/train-00000-of-00001.parquet'],
    rows: 8,
    bytes: 1234,
    source: HOSTILE_NAME,
    counts: {
      pairs: 8,
      chosen: 5,
      ties: 1,
      bothBad: 1,
      noMajority: 0,
      unlabelled: 1,
      adjudicated: 2,
      decidedByAdjudication: 1,
    },
    categories: null,
    tool: { name: 'discretion-workbench', version: '0.1.0' },
    created: '2025-01-02T03:04:05.000Z',
  });

  it('keeps the YAML front matter to its block, the hostile name quoted in it', () => {
    expect(card.startsWith('---\n')).toBe(true);
    const end = card.indexOf('\n---\n', 4);
    const front = parseYaml(card.slice(4, end));
    expect(front.pretty_name).toBe(NAME);
    expect(front).not.toHaveProperty('evil');
    expect(card.match(/^---$/gm)).toHaveLength(2);
    expect(card).not.toMatch(/^evil: yes$/m);
    expect(card).not.toMatch(/^# heading/m);
  });

  it('renders (marked) without active content, every hostile text shown literally', () => {
    const html = marked.parse(card.slice(card.indexOf('\n---\n', 4) + 5), { async: false }) as string;
    const w = new Window();
    w.document.write(`<!DOCTYPE html><html><body>${html}</body></html>`);
    const doc = w.document as unknown as Document;
    expect(doc.querySelectorAll('script, img, svg, iframe, a, object, embed, form').length).toBe(0);
    for (const el of Array.from(doc.querySelectorAll('*')))
      for (const a of Array.from(el.attributes)) expect(a.name, el.tagName).not.toMatch(/^on/i);
    const text = doc.body.textContent ?? '';
    expect(text).toContain(HOSTILE_NAME);
    expect(text).toContain('</script><script>alert(1)</script><svg onload=alert(2)>');
    expect(text).toContain('[l](javascript:alert(4))');
    // the discretion numbers are there: the run's DA table, DD against the reference, the adjudicated count
    expect(card).toContain('### Discretion arbitrariness (DA)');
    expect(card).toContain('### Discretion discrepancy (DD) against a');
    expect(card).toContain('| pairs with an adjudicated label | 2 |');
  });
});
