/**
 * Canonical JSON (spec appendices "Canonical JSON"): the one byte form every server hashes and signs.
 * Keys sorted by code point, no insignificant whitespace, non-ASCII left as UTF-8, only the escapes JSON
 * requires (JSON.stringify's string escaping is exactly the spec grammar's `escaped` rule).
 */

/** A value cannot be encoded as canonical JSON; `path` points at it (`$.content.n`). */
export class CanonicalJsonError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${message} at ${path}`);
    this.name = 'CanonicalJsonError';
  }
}

export interface CanonicalJsonOptions {
  /**
   * The room version 6+ rule (default true): numbers must be integers in [-(2^53)+1, 2^53-1].
   * Lenient mode still encodes older rooms' floats (as JSON.stringify does) and big integers (every
   * digit). JSON.parse rounds big integers: parse stored and received events with `parseJsonLossless`,
   * which keeps them as bigint, so their hashes come out as other servers compute them. (JSON.parse and
   * that parser both turn `3.0` into 3, so a float-bearing old event's hash cannot always be reproduced;
   * the spec asks only for "where possible".)
   */
  readonly strict?: boolean;
}

/**
 * Encodes `value` as canonical JSON. Object properties whose value is `undefined` are skipped (as
 * JSON.stringify does), so optional TypeScript fields need no cleaning first. A lone surrogate in a string
 * (not encodable as UTF-8) comes out as a `\udXXX` escape, as JSON.stringify writes it.
 * A `bigint` (as `parseJsonLossless` yields for integers beyond the safe range) is written with every digit.
 * @throws CanonicalJsonError for values JSON cannot hold (undefined in arrays, functions, symbols, NaN,
 *   Infinity) and, when strict, for floats and integers (number or bigint) outside the safe range.
 * @example canonicalJson({ b: '2', a: '1' }) === '{"a":"1","b":"2"}'
 */
export function canonicalJson(value: unknown, opts?: CanonicalJsonOptions): string {
  trail.length = 0;
  return encode(value, opts?.strict ?? true);
}

/** Canonical JSON as UTF-8 bytes, the input of hashes and signatures. */
export function canonicalJsonBytes(value: unknown, opts?: CanonicalJsonOptions): Buffer {
  return Buffer.from(canonicalJson(value, opts), 'utf8');
}

/** A shallow copy of `obj` without the named top-level keys: what gets hashed or signed. */
export function omitKeys(
  obj: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) out[key] = obj[key];
  }
  return out;
}

// The keys and indices leading to the value being encoded; read only to name the culprit in an error,
// so the common path builds no strings. Encoding is synchronous, so one module-level stack is safe.
const trail: (string | number)[] = [];

function fail(message: string): never {
  const path = trail.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
  throw new CanonicalJsonError(message, '$' + path);
}

function encode(value: unknown, strict: boolean): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return encodeNumber(value, strict);
    case 'bigint':
      return encodeBigInt(value, strict);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          trail.push(i);
          if (item === undefined) fail('undefined is not JSON');
          out += encode(item, strict);
          trail.pop();
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = sortKeys(Object.keys(obj));
      let out = '{';
      let first = true;
      for (const key of keys) {
        const item = obj[key];
        if (item === undefined) continue;
        if (!first) out += ',';
        first = false;
        trail.push(key);
        out += JSON.stringify(key) + ':' + encode(item, strict);
        trail.pop();
      }
      return out + '}';
    }
    default:
      return fail(`a ${typeof value} is not JSON`);
  }
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1, the spec's bound

function encodeNumber(n: number, strict: boolean): string {
  if (Number.isInteger(n) && n <= MAX_SAFE && n >= -MAX_SAFE) return n === 0 ? '0' : String(n); // -0 → 0
  if (!Number.isFinite(n)) fail(`${n} is not JSON`);
  if (strict)
    fail(Number.isInteger(n) ? `integer ${n} is outside [-(2^53)+1, 2^53-1]` : `float ${n} is not allowed`);
  // Old rooms' big integers: print every digit as Python (Synapse) does, not JS's rounded form. The
  // value is already the nearest double, so this matches only when the original was representable.
  return Number.isInteger(n) ? BigInt(n).toString() : JSON.stringify(n);
}

const MAX_SAFE_BIG = BigInt(MAX_SAFE);

/** A bigint comes from `parseJsonLossless` (lossless-json.ts): an integer JSON.parse would have rounded. */
function encodeBigInt(n: bigint, strict: boolean): string {
  if (strict && (n > MAX_SAFE_BIG || n < -MAX_SAFE_BIG)) fail(`integer ${n} is outside [-(2^53)+1, 2^53-1]`);
  return n.toString();
}

const ASTRAL_OR_HIGH = /[\ud800-\uffff]/;

/**
 * Sorts by Unicode code point. The default sort compares UTF-16 code units, which agrees with code point
 * order unless a key holds a character at or above U+D800; only then is the slower comparator needed.
 */
function sortKeys(keys: string[]): string[] {
  if (keys.length < 2) return keys;
  for (const k of keys) if (ASTRAL_OR_HIGH.test(k)) return keys.sort(compareCodePoints);
  return keys.sort();
}

/** Code point order over UTF-16: surrogates (U+10000 and up) must sort after U+E000–U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

function rank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
