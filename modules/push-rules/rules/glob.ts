/** Glob-style matching (appendices: `*` is zero or more characters, `?` exactly one), case-insensitive. */

const cache = new Map<string, RegExp>();

function globSource(glob: string): string {
  let out = '';
  for (const ch of glob) {
    if (ch === '*') out += '[\\s\\S]*';
    else if (ch === '?') out += '[\\s\\S]';
    else out += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return out;
}

/** The cached RegExp for `key`; `source` runs only on a miss (it is on the path of every event). */
function compile(key: string, source: () => string): RegExp {
  let re = cache.get(key);
  if (!re) {
    // Bounded so a user with thousands of distinct patterns cannot grow memory without limit.
    if (cache.size > 5000) cache.clear();
    re = new RegExp(source(), 'iu');
    cache.set(key, re);
  }
  return re;
}

/** Whether `glob` matches the whole of `value`. */
export function globMatchesWhole(glob: string, value: string): boolean {
  return compile(`w:${glob}`, () => `^${globSource(glob)}$`).test(value);
}

/**
 * Whether `glob` matches a substring of `value` that starts and ends at a word boundary, a boundary being the
 * start or end of the value or any character outside `[A-Za-z0-9_]` (the `content.body` rule of the spec).
 */
export function globMatchesWords(glob: string, value: string): boolean {
  return compile(`b:${glob}`, () => `(?<![A-Za-z0-9_])${globSource(glob)}(?![A-Za-z0-9_])`).test(value);
}

/** Whether the literal `text` occurs in `value` between word boundaries (display-name mentions). */
export function containsWords(text: string, value: string): boolean {
  return compile(`l:${text}`, () => {
    const escaped = text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    return `(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`;
  }).test(value);
}
