/**
 * Parsing JSON without losing integers. JSON.parse turns every number into a double, so an integer
 * beyond ±(2^53 - 1) — a `depth` of 2^63 - 1 in an old room, say — comes back rounded, and every hash
 * of the event (its content hash, its reference hash, its v3+ event id) would differ from the one other
 * servers compute from the same text: Synapse keeps each event's JSON as received and reads it back with
 * Python's exact integers. This parser keeps such integers as `bigint`, which `canonicalJson` writes with
 * every digit (lenient mode), so a stored or received event hashes as it does everywhere else.
 */

/** What {@link parseJsonLossless} returns: JSON values, with `bigint` for integers outside the safe range. */
export type LosslessJsonValue =
  null | boolean | number | bigint | string | LosslessJsonValue[] | { [key: string]: LosslessJsonValue };

/** A run of 16+ digits: the only way a JSON text can hold an integer that is not safe as a double. */
const LONG_DIGITS = /\d{16}/;

/**
 * Parses `text` like JSON.parse, except that an integer token (no fraction, no exponent) whose value is
 * outside [-(2^53)+1, 2^53-1] becomes a `bigint`. Texts without a 16-digit run take JSON.parse itself.
 * @throws SyntaxError for text that is not JSON.
 */
export function parseJsonLossless(text: string): LosslessJsonValue {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text) as LosslessJsonValue;
  const parser = new Parser(text);
  parser.skipSpace();
  const value = parser.value();
  parser.skipSpace();
  if (parser.pos !== text.length) parser.fail();
  return value;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const SPACE = /[ \t\n\r]*/y;

class Parser {
  pos = 0;
  constructor(private readonly text: string) {}

  fail(): never {
    throw new SyntaxError(`Unexpected token in JSON at position ${this.pos}`);
  }

  skipSpace(): void {
    SPACE.lastIndex = this.pos;
    SPACE.test(this.text);
    this.pos = SPACE.lastIndex;
  }

  private match(re: RegExp): RegExpExecArray {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) this.fail();
    this.pos = re.lastIndex;
    return m;
  }

  private literal(word: string, value: LosslessJsonValue): LosslessJsonValue {
    if (!this.text.startsWith(word, this.pos)) this.fail();
    this.pos += word.length;
    return value;
  }

  value(): LosslessJsonValue {
    switch (this.text[this.pos]) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return JSON.parse(this.match(STRING)[0]) as string;
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  private number(): number | bigint {
    const m = this.match(NUMBER);
    const n = Number(m[0]);
    if (m[1] !== undefined || m[2] !== undefined || Number.isSafeInteger(n)) return n;
    return BigInt(m[0]);
  }

  private array(): LosslessJsonValue[] {
    const out: LosslessJsonValue[] = [];
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === ']') return out;
      if (c !== ',') {
        this.pos--;
        this.fail();
      }
    }
  }

  private object(): { [key: string]: LosslessJsonValue } {
    // A null-prototype object, so a "__proto__" key is an ordinary key as with JSON.parse.
    const out = Object.create(null) as { [key: string]: LosslessJsonValue };
    this.pos++;
    this.skipSpace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return Object.setPrototypeOf(out, Object.prototype) as typeof out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] !== '"') this.fail();
      const key = JSON.parse(this.match(STRING)[0]) as string;
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail();
      this.pos++;
      this.skipSpace();
      out[key] = this.value();
      this.skipSpace();
      const c = this.text[this.pos++];
      if (c === '}') return Object.setPrototypeOf(out, Object.prototype) as typeof out;
      if (c !== ',') {
        this.pos--;
        this.fail();
      }
    }
  }
}
