// src/core/terminalSafe.ts: control and bidi characters from data become visible escapes. Expected strings
// are written out by hand from the escape forms the brief names (`\x1b`, `\u202e`).
import { describe, expect, it } from 'vitest';
import {
  escapeControls,
  escapeControlsKeepingNewlines,
  escapeControlsKeepingWhitespace,
  terminalSafeJson,
} from '../../src/core/terminalSafe';
import { escapeHtml, escapeMarkdown } from '../../src/core/report/escape';

// Every code point the brief lists: C0, DEL, C1, U+202A-U+202E, U+2066-U+2069.
const LISTED = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
];
const RAW = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('escapeControls', () => {
  it('writes ESC, BEL, DEL, CSI (C1), RLO and FSI visibly', () => {
    expect(escapeControls('a\x1b[31mb\x07c\x7fd\x9be\u202ef\u2068g')).toBe(
      'a\\x1b[31mb\\x07c\\x7fd\\x9be\\u202ef\\u2068g',
    );
    expect(escapeControls('x\ny\r\tz\0')).toBe('x\\ny\\r\\tz\\x00');
  });

  it('leaves no listed code point raw, and leaves everything else alone', () => {
    for (const cp of LISTED) expect(escapeControls(`<${String.fromCharCode(cp)}>`)).not.toMatch(RAW);
    const ordinary = 'plain ASCII ~ é ß 日本 עברית العربية \u200f \u2028 😀 \\ backslash';
    expect(escapeControls(ordinary)).toBe(ordinary);
  });

  it('keeps our own newlines where asked (and only those)', () => {
    expect(escapeControlsKeepingNewlines('a\x1b\nb\r\n')).toBe('a\\x1b\nb\\r\n');
    expect(escapeControlsKeepingWhitespace('a\tb\nc\r\x00\u202d')).toBe('a\tb\nc\r\\x00\\u202d');
  });
});

describe('terminalSafeJson', () => {
  it('is JSON of the same value with no raw control or bidi character in its text', () => {
    const value = {
      name: 'a\x1b]0;title\x07\u202eb\x85c\u2066',
      list: ['\x7f', 1, null],
      nested: { 'k\u202a': 'v\x9b' },
    };
    const text = terminalSafeJson(value, 2);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/); // indented: newlines are ours
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toContain('\\u202e');
    expect(text).toContain('\\u007f');
  });
});

describe('report escapes', () => {
  it('report.md text shows control characters visibly and as literal text (the backslash escaped for Markdown)', () => {
    expect(escapeMarkdown('a\x1b[2Jb\u202e')).toBe('a\\\\x1b\\[2Jb\\\\u202e');
  });

  it('HTML/SVG text keeps whitespace and escapes the other controls (XML 1.0 forbids them)', () => {
    expect(escapeHtml('<b>\x1b\t\n\u2067</b>')).toBe('&lt;b&gt;\\x1b\t\n\\u2067&lt;/b&gt;');
  });
});
