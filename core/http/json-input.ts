/**
 * The JSON a client may send. `JSON.parse` accepts things that later break recursive code or storage, so every
 * JSON body (and JSON query parameter) passes through here first:
 * - nesting deeper than MAX_JSON_DEPTH is refused from the text, before any recursive code (canonical JSON,
 *   validation, signing, redaction) sees the value: 400 M_BAD_JSON;
 * - bytes that are not UTF-8 are not JSON (RFC 8259 §8.1): 400 M_NOT_JSON, as Synapse;
 * - then, in one iterative walk of the parsed value (400 M_BAD_JSON):
 *   - integers outside canonical JSON's range [-(2^53)+1, 2^53-1] and numbers that overflow to ±Infinity,
 *     since JavaScript cannot hold them exactly and the spec's canonical JSON forbids them;
 *   - lone UTF-16 surrogates, which have no UTF-8 encoding, so canonical JSON, hashes and signatures cannot
 *     be computed over them;
 *   - U+0000 in an object key: keys name users, devices, rooms and key ids (to-device, keys/claim, m.direct…),
 *     which PostgreSQL text columns cannot hold and which Axon joins with U+0000. In string values it is kept,
 *     as Synapse keeps it: a message body with U+0000 round-trips (stored as JSON text, escaped).
 * Duplicate keys are accepted with the last one winning, as Synapse's (Python's) JSON decoder does.
 */
import { MatrixError } from '../errors.js';
import { parseJsonLossless } from '../protocol/lossless-json.js';

/** Deep enough for any real event content; far below what recursive code can handle. */
export const MAX_JSON_DEPTH = 512;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Decodes bytes as strict UTF-8, or throws 400 M_NOT_JSON. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON: not valid UTF-8.');
  }
}

/** The nesting depth of a JSON text (brackets outside strings), stopping as soon as it passes `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Parses a client's JSON text under the rules above. */
export function parseClientJson(text: string): unknown {
  return parseJsonText(text, false);
}

/**
 * Parses another server's JSON text (federation request bodies) under the same rules, except that integers
 * beyond canonical JSON's range are kept exactly, as `bigint` (core/protocol/lossless-json.ts), instead of
 * refused: events of room versions 1–5 may hold them, and their hashes and signatures cover every digit
 * (Synapse reads them as Python integers). Whether such a value may stand where it is, is for the receiver
 * (the room version's PDU format checks).
 */
export function parseServerJson(text: string): unknown {
  return parseJsonText(text, true);
}

function parseJsonText(text: string, lossless: boolean): unknown {
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw new MatrixError(400, 'M_BAD_JSON', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = lossless ? parseJsonLossless(text) : JSON.parse(text);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
  }
  const problem = findProblem(value);
  if (problem) throw new MatrixError(400, 'M_BAD_JSON', problem);
  return value;
}

function stringProblem(s: string): string | undefined {
  return LONE_SURROGATE.test(s) ? 'JSON strings may not contain lone surrogates' : undefined;
}

function keyProblem(k: string): string | undefined {
  return k.includes('\u0000') ? 'JSON object keys may not contain U+0000' : stringProblem(k);
}

function findProblem(root: unknown): string | undefined {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const p = stringProblem(v);
      if (p) return p;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'JSON number out of range';
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return 'JSON integer out of range';
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        const p = keyProblem(k);
        if (p) return p;
        stack.push(item);
      }
    }
  }
  return undefined;
}
