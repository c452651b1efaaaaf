// Renderers of the discretion report: each output parsed and checked, and hostile dataset text inert.
import Ajv from 'ajv';
import { parse as parseCsv } from 'csv-parse/sync';
import { Window } from 'happy-dom';
import { marked } from 'marked';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nodeCspHash } from '../../src/app/report';
import { renderHtml, renderMarkdown, renderMetricsJson, renderPairsCsv, toMetricsJson } from '../../src/core/report';
import schema from '../../src/core/report/metrics-report.schema.json';
import { A, B, C, fixture, HOSTILE, HOSTILE_NAME, M, N, strictHtmlProblems } from './fixture';

function parseHtml(html: string): Document {
  const w = new Window();
  w.document.write(html);
  return w.document as unknown as Document;
}

/** Elements or attributes that could run code: any script but the JSON block, on* handlers, javascript: URLs, foreign objects. */
function activeContent(doc: Document): string[] {
  const out: string[] = [];
  for (const el of Array.from(doc.querySelectorAll('*'))) {
    const tag = el.tagName.toLowerCase();
    if (tag === 'script' && el.getAttribute('type') !== 'application/json') out.push('script');
    if (['iframe', 'object', 'embed', 'foreignobject', 'img', 'link', 'base', 'form'].includes(tag)) out.push(tag);
    for (const a of Array.from(el.attributes)) {
      if (/^on/i.test(a.name)) out.push(`${tag}[${a.name}]`);
      if (/^\s*javascript:/i.test(a.value)) out.push(`${tag}[${a.name}=javascript:]`);
      if (a.name === 'style') out.push(`${tag}[style]`);
    }
  }
  return out;
}

describe('report.html', () => {
  const { model } = fixture();
  const html = renderHtml(model, { hash: nodeCspHash });
  const doc = parseHtml(html);

  it('is well-formed (strict tag balance, quoted attributes, valid entities) with unique ids', () => {
    expect(strictHtmlProblems(html)).toEqual([]);
    const ids = Array.from(doc.querySelectorAll('[id]')).map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has a CSP meta whose style hash matches the one <style> block (computed here with node:crypto)', () => {
    const metas = doc.querySelectorAll('meta[http-equiv="Content-Security-Policy"]');
    expect(metas.length).toBe(1);
    const csp = metas[0]!.getAttribute('content')!;
    const styleText = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    expect(html.match(/<style/g)!.length).toBe(1);
    const expected = `'sha256-${createHash('sha256').update(styleText, 'utf8').digest('base64')}'`;
    expect(csp).toContain(`style-src ${expected}`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toMatch(/script-src/);
    expect(html).toMatch(/@media print/);
  });

  it('embeds the metrics as an inert JSON block that parses back to metrics.json', () => {
    const blocks = doc.querySelectorAll('script');
    expect(blocks.length).toBe(1);
    expect(blocks[0]!.getAttribute('type')).toBe('application/json');
    const raw = /<script type="application\/json" id="discretion-metrics">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(raw).not.toMatch(/[<>]/);
    expect(JSON.parse(raw)).toEqual(JSON.parse(JSON.stringify(toMetricsJson(model))));
  });

  it('gives every chart a table, ARIA labelling and a <title>/<desc>', () => {
    const svgs = Array.from(doc.querySelectorAll('svg'));
    expect(svgs.map((s) => s.getAttribute('data-chart')).sort()).toEqual([
      'agreement-overall',
      'categories',
      'da',
      'dd',
      'label-shares',
      'ps',
      'wstar',
    ]);
    for (const svg of svgs) {
      const id = svg.getAttribute('data-chart')!;
      expect(svg.getAttribute('role')).toBe('img');
      const labelled = svg.getAttribute('aria-labelledby')!.split(' ');
      expect(labelled).toEqual([`${id}-title`, `${id}-desc`]);
      expect(svg.querySelector(':scope > title')!.id).toBe(`${id}-title`);
      expect(svg.querySelector(':scope > desc')!.id).toBe(`${id}-desc`);
      expect(svg.querySelector(':scope > desc')!.textContent!.length).toBeGreaterThan(10);
      const table = doc.querySelector(`table[data-chart-table="${id}"]`);
      expect(table, `table for chart ${id}`).not.toBeNull();
      expect(table!.querySelectorAll('tbody tr').length).toBeGreaterThan(0);
    }
  });

  it('shows the hand-case numbers of spec section 9', () => {
    const cells = (id: string) =>
      Array.from(doc.querySelectorAll(`table[data-chart-table="${id}"] tbody tr`)).map((r) =>
        Array.from(r.children).map((c) => c.textContent),
      );
    // categories: consensus 3, conflict 4, indifference 1 of 8
    expect(
      cells('categories')
        .slice(0, 3)
        .map((r) => r.slice(0, 2)),
    ).toEqual([
      ['consensus', '3'],
      ['conflict', '4'],
      ['indifference', '1'],
    ]);
    expect(cells('categories')[0]![2]).toBe((300 / 8).toFixed(1));
    // DA(a) = 1/3 over 3 pairs, DA(b) = 0 over 2
    const da = cells('da');
    expect(da[0]!.slice(0, 4)).toEqual(['a (reference)', 'human', (1 / 3).toFixed(3), '3']);
    expect(da[1]!.slice(2, 4)).toEqual(['0.000', '2']);
    // PS for a: PS(0>1) = 0.5 with n = 2; PS(0>2) = 0 with n = 1
    const ps = cells('ps');
    expect(ps[0]![2]).toBe('0.50 (n=2)');
    expect(ps[0]![3]).toBe('0.00 (n=1)');
    // w*(b) has +inf for c2 and -inf for c3: drawn in the gutters, listed in the table
    const w = cells('wstar');
    expect(w[2]![2]).toMatch(/^\+inf/);
    expect(w[3]![2]).toMatch(/^-inf/);
    // DD(b, a) with truncated ranks = 0.226139 (spec section 9)
    expect(cells('dd')[1]![2]).toBe('0.226');
    // overrides: only a, on pair index 1 (consensus favoured y1, a chose y0)
    const pairs = doc.querySelectorAll('article.pair');
    expect(pairs.length).toBe(1);
    expect(pairs[0]!.getAttribute('data-pair')).toBe('1');
    expect(pairs[0]!.textContent).toContain('a (consensus favoured y1)');
  });

  it('keeps hostile text inert: present as text, never as markup, and no workbench links in the file', () => {
    expect(activeContent(doc)).toEqual([]);
    expect(doc.querySelectorAll('svg svg, svg script').length).toBe(0);
    const text = doc.body.textContent!;
    expect(text).toContain(HOSTILE.slice(0, 60));
    expect(text).toContain(HOSTILE_NAME);
    expect(html).not.toContain('<svg onload');
    expect(html).not.toContain(']]>');
    expect(html).not.toMatch(/command:|vscode:/);
    expect(doc.querySelectorAll('button').length).toBe(0);
    // the {{ }} template marker stays literal text
    expect(text).toContain('{{7*7}}');
  });
});

describe('report.md', () => {
  const { model } = fixture();
  const out = renderMarkdown(model);

  it('has the same sections, each chart as a linked SVG file followed by its table', () => {
    const headings = out.markdown
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) => l.slice(3));
    expect(headings[0]).toBe('Pair categories');
    expect(headings).toContain('Provenance');
    const links = [...out.markdown.matchAll(/!\[[^\]]*\]\((charts\/[a-z-]+\.svg)\)\n\n\*[^\n]+\*\n\n\|/g)].map(
      (m) => m[1],
    );
    expect(links.sort()).toEqual(out.files.map((f) => f.path).sort());
    expect(links.length).toBe(7);
  });

  it('renders (marked) to HTML without active content, hostile text shown literally', () => {
    const html = marked.parse(out.markdown, { async: false }) as string;
    const doc = parseHtml(`<!DOCTYPE html><html><body>${html}</body></html>`);
    const active = activeContent(doc).filter((a) => a !== 'img'); // the chart images are expected
    expect(active).toEqual([]);
    for (const img of Array.from(doc.querySelectorAll('img')))
      expect(img.getAttribute('src')).toMatch(/^charts\/[a-z-]+\.svg$/);
    expect(doc.querySelectorAll('a').length).toBe(0);
    expect(doc.body.textContent).toContain('</script><script>alert(1)</script><svg onload=alert(2)>');
    expect(doc.body.textContent).toContain(`]]>{{7*7}}<!-- & "q" 's' \`b\` | *x* [l](javascript:alert(4))`);
  });

  it('writes standalone SVG files that are well-formed and inert', () => {
    for (const f of out.files) {
      expect(f.content.startsWith('<?xml')).toBe(true);
      const body = f.content.replace(/^<\?xml[^>]*>\n/, '');
      expect(strictHtmlProblems(body)).toEqual([]);
      expect(body).toContain('xmlns="http://www.w3.org/2000/svg"');
      const doc = parseHtml(`<!DOCTYPE html><html><body>${body}</body></html>`);
      expect(activeContent(doc)).toEqual([]);
    }
  });
});

describe('metrics.json', () => {
  const { model } = fixture();
  const json = JSON.parse(renderMetricsJson(model));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);

  it('validates against the shipped JSON Schema and keeps the metrics document fields', () => {
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.report_schema).toBe('discretion-report/1');
    expect(json.categories).toMatchObject({ n: 8, consensus: 3, conflict: 4, indifference: 1 });
    expect(json.annotators[1].w_star[2]).toBe('+inf');
    expect(json.annotators[1].w_star[3]).toBe('-inf');
    expect(json.provenance.bootstrap).toEqual({
      seed: 7,
      dd_resamples: 50,
      da_resamples: 200,
      agreement_resamples: 100,
    });
    expect(json.consensus_overrides).toEqual({
      total_pairs: 1,
      per_annotator: [
        { name: 'a', pairs: 1 },
        { name: HOSTILE_NAME, pairs: 0 },
      ],
    });
    // label shares counted by hand from the matrix: c0 +1 on pairs 1,2,4,6, -1 on 3,8
    expect(json.label_shares[0]).toMatchObject({ y1: 4, y0: 2, none: 2 });
  });

  it('rejects documents that break the schema', () => {
    const bad = structuredClone(json);
    bad.annotators[0].w_star[0] = 'Infinity';
    expect(validate(bad)).toBe(false);
    const bad2 = structuredClone(json);
    delete bad2.provenance;
    expect(validate(bad2)).toBe(false);
  });

  it('carries hostile strings exactly (JSON escaping only)', () => {
    expect(json.provenance.dataset.name).toBe(`hand ${HOSTILE}`);
    expect(json.annotators[1].name).toBe(HOSTILE_NAME);
  });
});

describe('pairs.csv', () => {
  const { pairs, model } = fixture();
  const csv = renderPairsCsv(pairs, model.principles);
  const rows = parseCsv(csv, { columns: true }) as Record<string, string>[];

  it('has one row per pair with categories, principle and annotator preferences and overrides', () => {
    expect(rows.length).toBe(N);
    const cats = [
      'consensus',
      'consensus',
      'consensus',
      'conflict',
      'conflict',
      'conflict',
      'indifference',
      'conflict',
    ];
    const signs = ['1', '1', '-1', '0', '0', '0', '0', '0'];
    rows.forEach((r, k) => {
      expect(r.pair_index).toBe(String(k));
      expect(r.category).toBe(cats[k]);
      expect(r.consensus_sign).toBe(signs[k]);
      expect(r['pref:a']).toBe(String(A[k]));
      expect(r[`pref:${HOSTILE_NAME}`]).toBe(String(B[k]));
      expect(r['principle:c0']).toBe(String(C[k * M]));
      expect(r[`principle:c1 ${HOSTILE}`]).toBe(String(C[k * M + 1]));
      expect(r['overrode:a']).toBe(k === 1 ? '1' : '0');
      expect(r[`overrode:${HOSTILE_NAME}`]).toBe('0');
    });
  });

  it('neutralises spreadsheet formulas and quotes hostile text', () => {
    expect(rows[1]!.source_id).toBe(`'=HYPERLINK("http://x")${HOSTILE}`);
    for (const line of csv.split('\r\n')) expect(line).not.toMatch(/^=|,=/);
  });
});
