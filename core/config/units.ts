/**
 * Sizes and durations in homeserver.yaml, written as Synapse writes them (its `parse_size` and
 * `parse_duration`), so an operator's values carry over: `50M` is 50 MiB (1024-based), `24h` is a day, and a
 * bare number is bytes or milliseconds. One implementation for every module's keys.
 */
import { Type } from '@sinclair/typebox';

const SIZE = /^\s*(\d+)\s*([KMGT]?)\s*$/;
const DURATION = /^\s*(\d+)\s*(ms|[smhdwy])?\s*$/;

/** A byte size: an integer, or a string with an optional K, M, G or T suffix. */
export const SizeSchema = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE.source })]);
/** A duration: milliseconds as an integer, or a string with an ms, s, m, h, d, w or y suffix. */
export const DurationSchema = Type.Union([
  Type.Integer({ minimum: 0 }),
  Type.String({ pattern: DURATION.source }),
]);

const SIZE_UNITS: Readonly<Record<string, number>> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** Bytes from Synapse's size syntax (`'50M'` → 52428800). */
export function parseSize(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = SIZE.exec(value);
  if (!match) throw new Error(`invalid size "${value}"`);
  return Number(match[1]) * (match[2] ? (SIZE_UNITS[match[2]] ?? 1) : 1);
}

/** Milliseconds from Synapse's duration syntax (`'24h'` → 86400000; a bare number is milliseconds). */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = DURATION.exec(value);
  if (!match) throw new Error(`invalid duration "${value}"`);
  return Number(match[1]) * (match[2] ? (DURATION_UNITS[match[2]] ?? 1) : 1);
}
