// FNV-1a, 32 bits: a small deterministic string hash, the same on every run and platform. It seeds the
// bootstrap streams (metrics/prng.ts) and picks the A/B order of each card (preferences.ts): changing it
// would change both for existing data.

/** FNV-1a 32-bit hash of a string's UTF-16 code units, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
