/**
 * Dot-separated property paths (appendices): `content.m\.relates_to.rel_type`. A backslash escapes a dot or a
 * backslash; any other escape is kept literally (`\x` is a backslash then `x`).
 */
export function parsePropertyPath(path: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i]!;
    if (ch === '\\') {
      const next = path[i + 1];
      if (next === '.' || next === '\\') {
        current += next;
        i++;
      } else current += ch;
    } else if (ch === '.') {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

/** Parsed paths: rules name the same few paths for every event of every member. Bounded like glob.ts. */
const parsed = new Map<string, string[]>();

function partsOf(path: string): string[] {
  let parts = parsed.get(path);
  if (!parts) {
    if (parsed.size > 5000) parsed.clear();
    parts = parsePropertyPath(path);
    parsed.set(path, parts);
  }
  return parts;
}

/** The value at `path` in `object`, or `undefined` when any step is absent or not an object. */
export function valueAtPath(object: unknown, path: string): unknown {
  let value: unknown = object;
  for (const part of partsOf(path)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}
