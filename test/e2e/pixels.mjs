// What a screenshot shows, read from its pixels (issue 21: the suites took screenshots and checked none).
// A PNG decoder for what Chromium writes (8-bit RGB or RGBA, not interlaced; PNG spec, ISO/IEC 15948 §§7-9),
// WCAG 2's contrast ratio, and the checks the steps make on a region of a picture: its background colour, and
// that something is drawn on it (text, a chart) in a colour that stands out from that background.
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

/** Decodes a PNG: { width, height, at(x, y) -> [r, g, b] }. */
export function decodePng(buf) {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG file');
  let pos = 8,
    width = 0,
    height = 0,
    channels = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos),
      type = buf.toString('latin1', pos + 4, pos + 8),
      data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = data.subarray(8, 13);
      assert.ok(
        depth === 8 && (colour === 2 || colour === 6) && interlace === 0,
        `a PNG of 8-bit RGB(A), not interlaced (depth ${depth}, colour type ${colour}, interlace ${interlace})`,
      );
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(stride * height);
  // undo each row's filter (None, Sub, Up, Average, Paeth)
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)],
      src = y * (stride + 1) + 1,
      dst = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[dst + i - channels] : 0,
        b = y ? px[dst - stride + i] : 0,
        c = y && i >= channels ? px[dst - stride + i - channels] : 0;
      let v = raw[src + i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c,
          pa = Math.abs(p - a),
          pb = Math.abs(p - b),
          pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[dst + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    at: (x, y) => {
      const o = y * stride + x * channels;
      return [px[o], px[o + 1], px[o + 2]];
    },
  };
}

/** '#rrggbb' or 'rgb(r, g, b)' / 'rgba(r, g, b, 1)' as [r, g, b]. */
export function rgb(css) {
  const hex = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(css);
  if (hex) return hex.slice(1).map((h) => parseInt(h, 16));
  const m = /^rgba?\((\d+), (\d+), (\d+)(, 1)?\)$/.exec(css);
  assert.ok(m, `an opaque colour: ${css}`);
  return m.slice(1, 4).map(Number);
}

const hex = (c) => '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');

/** WCAG 2.x contrast ratio of two sRGB colours (relative luminance, (L1 + 0.05) / (L2 + 0.05)). */
export function contrast(c1, c2) {
  const lum = (c) => {
    const [r, g, b] = c.map((v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(c1), lum(c2)].sort((a, b) => b - a);
  return (hi + 0.05) / (lo + 0.05);
}

const near = (a, b, tol = 2) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** The pixels of `box` ({x, y, width, height} in the picture's pixels, clipped to it). */
function* pixelsIn(img, box) {
  const x0 = Math.max(0, Math.round(box.x)),
    y0 = Math.max(0, Math.round(box.y));
  const x1 = Math.min(img.width, Math.round(box.x + box.width)),
    y1 = Math.min(img.height, Math.round(box.y + box.height));
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) yield img.at(x, y);
}

/** The colour most pixels of `box` have. */
export function dominant(img, box) {
  const counts = new Map();
  for (const c of pixelsIn(img, box)) {
    const k = hex(c);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const [best] = [...counts].sort((a, b) => b[1] - a[1]);
  assert.ok(best, `the region ${JSON.stringify(box)} lies in the picture`);
  return rgb(best[0]);
}

/** Asserts that most of `box` is painted in `expected` (a colour of the theme). */
export function assertBackground(img, box, expected, what) {
  const got = dominant(img, box);
  assert.ok(near(got, rgb(expected)), `${what}: background ${hex(got)}, expected ${expected}`);
}

/**
 * Asserts that at least `min` pixels of `box` stand out from the background `bg` with a contrast of at least
 * `ratio` (the cores of glyphs, the bars of a chart): something is drawn there, legibly.
 */
export function assertDrawn(img, box, bg, { min, ratio = 3, what }) {
  const b = typeof bg === 'string' ? rgb(bg) : bg;
  let n = 0;
  for (const c of pixelsIn(img, box)) if (contrast(c, b) >= ratio) n++;
  assert.ok(n >= min, `${what}: ${n} pixels with contrast >= ${ratio}:1 against ${hex(b)}, expected at least ${min}`);
  return n;
}

/** A box of `locator` in the page's pixels (the screenshot's, at device scale 1). */
export async function boxOf(locator, what) {
  const box = await locator.boundingBox();
  assert.ok(box && box.width > 0 && box.height > 0, `${what} is laid out`);
  return box;
}

/**
 * Colours of the built-in themes the suites use, from VS Code's theme files (extensions/theme-defaults/themes/
 * of the e2e host's VS Code 1.139: dark_modern.json, light_modern.json, hc_black.json): the reference for what a
 * themed region of a screenshot must be painted in.
 */
export const THEME = {
  dark: { editor: '#1f1f1f', sideBar: '#181818' },
  light: { editor: '#ffffff', sideBar: '#f8f8f8' },
  hc: { editor: '#000000' },
};

/**
 * Asserts the focus outline around `box` (the focused element's box in the picture) as drawn: `width` px wide,
 * `offset` px off the box, every fully covered pixel of it along the four sides (those in the picture) in
 * `colour`, with a contrast of at least 3:1 (WCAG 2.2, 1.4.11 non-text contrast) against the pixels just
 * outside and just inside it. Returns the smallest contrast found.
 */
export function assertOutline(img, box, { width, offset, colour, what }) {
  const want = rgb(colour);
  const L = box.x - offset,
    T = box.y - offset,
    R = box.x + box.width + offset,
    B = box.y + box.height + offset;
  // for each side: the pixel wholly in the band, the one wholly outside, the one wholly inside, at position t
  const sides = [
    {
      name: 'left',
      along: [T, B],
      at: (t) => [
        [Math.ceil(L - width), t],
        [Math.floor(L - width) - 1, t],
        [Math.ceil(L), t],
      ],
    },
    {
      name: 'right',
      along: [T, B],
      at: (t) => [
        [Math.ceil(R), t],
        [Math.ceil(R + width) + 1, t],
        [Math.floor(R) - 1, t],
      ],
    },
    {
      name: 'top',
      along: [L, R],
      at: (t) => [
        [t, Math.ceil(T - width)],
        [t, Math.floor(T - width) - 1],
        [t, Math.ceil(T)],
      ],
    },
    {
      name: 'bottom',
      along: [L, R],
      at: (t) => [
        [t, Math.ceil(B)],
        [t, Math.ceil(B + width) + 1],
        [t, Math.floor(B) - 1],
      ],
    },
  ];
  const inPicture = ([x, y]) => x >= 0 && y >= 0 && x < img.width && y < img.height;
  let samples = 0,
    least = Infinity;
  for (const side of sides) {
    for (let t = Math.ceil(side.along[0]) + 4; t < side.along[1] - 4; t += 8) {
      const [band, outside, inside] = side.at(t);
      if (![band, outside, inside].every(inPicture)) continue;
      const c = img.at(...band);
      assert.ok(
        near(c, want, 3),
        `${what}: the ${side.name} side of the focus outline at (${band}) is ${hex(c)}, expected ${colour}`,
      );
      for (const [where, p] of [
        ['outside', outside],
        ['inside', inside],
      ]) {
        const ratio = contrast(c, img.at(...p));
        assert.ok(
          ratio >= 3,
          `${what}: the focus outline (${hex(c)}) against the pixel ${where} it at (${p}), ${hex(img.at(...p))}: contrast ${ratio.toFixed(2)}:1, below 3:1`,
        );
        least = Math.min(least, ratio);
      }
      samples++;
    }
  }
  assert.ok(samples >= 20, `${what}: the outline lies in the picture (${samples} points along its sides)`);
  return least;
}
