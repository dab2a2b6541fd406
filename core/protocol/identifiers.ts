/**
 * Identifier grammars (spec appendices "Identifier Grammar"): server names, user ids, room ids,
 * event ids, room aliases and the common namespaced identifier grammar. Validators return booleans or
 * `undefined`; nothing here throws.
 */
import { isIPv6 } from 'node:net';
import type { RoomVersion } from './room-versions.js';

/** The spec's limit on user ids, room ids, aliases and event ids, in UTF-8 bytes. */
export const MAX_ID_BYTES = 255;

export interface ParsedServerName {
  /** The host as written: a DNS name, dotted quad, or bracketed IPv6 literal (`[::1]`). */
  readonly host: string;
  readonly kind: 'dns' | 'ipv4' | 'ipv6';
  readonly port?: number;
}

const DNS_NAME = /^[A-Za-z0-9.-]{1,255}$/;
const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const PORT = /^\d{1,5}$/;

/**
 * Parses `hostname[:port]`. An all-numeric dotted quad is read as an IPv4 literal, so its parts must be
 * 0–255; IPv6 literals must be bracketed and valid per RFC 3513. Server names are case-sensitive.
 */
export function parseServerName(name: string): ParsedServerName | undefined {
  let host: string;
  let portText: string | undefined;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return undefined;
    host = name.slice(0, close + 1);
    const rest = name.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = name.indexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    portText = colon < 0 ? undefined : name.slice(colon + 1);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!PORT.test(portText)) return undefined;
    port = Number(portText);
  }
  let kind: ParsedServerName['kind'];
  if (host.startsWith('[')) {
    const literal = host.slice(1, -1);
    if (!IPV6_CHARS.test(literal) || !isIPv6(literal)) return undefined;
    kind = 'ipv6';
  } else {
    const quad = DOTTED_QUAD.exec(host);
    if (quad) {
      if (quad.slice(1).some((octet) => Number(octet) > 255)) return undefined;
      kind = 'ipv4';
    } else {
      if (!DNS_NAME.test(host)) return undefined;
      kind = 'dns';
    }
  }
  return port === undefined ? { host, kind } : { host, kind, port };
}

export function isValidServerName(name: string): boolean {
  return parseServerName(name) !== undefined;
}

/** Strict localpart grammar (spec v1.8+): what a server may create for new users. */
const STRICT_LOCALPART = /^[a-z0-9._=\-/+]+$/;
/** Historical localparts: any non-surrogate code point except `:` and NUL, even empty. */
// eslint-disable-next-line no-control-regex
const HISTORICAL_LOCALPART = /^[^:\u0000\p{Cs}]*$/u;
/** Room id and alias localparts: as historical user localparts, but never empty. */
// eslint-disable-next-line no-control-regex
const OPAQUE_LOCALPART = /^[^:\u0000\p{Cs}]+$/u;

/** True if `localpart` matches the strict user id grammar a server must use for new accounts. */
export function isValidLocalpart(localpart: string): boolean {
  return STRICT_LOCALPART.test(localpart);
}

export interface ParsedId {
  readonly localpart: string;
  readonly serverName: string;
}

function byteLength(s: string): number {
  // Every UTF-16 unit is at most 3 UTF-8 bytes, so short ids need no count.
  return s.length * 3 <= MAX_ID_BYTES ? s.length : Buffer.byteLength(s, 'utf8');
}

function parseSigilled(id: string, sigil: string, localpart: RegExp): ParsedId | undefined {
  if (id[0] !== sigil || byteLength(id) > MAX_ID_BYTES) return undefined;
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const lp = id.slice(1, colon);
  const serverName = id.slice(colon + 1);
  if (!localpart.test(lp) || !isValidServerName(serverName)) return undefined;
  return { localpart: lp, serverName };
}

/**
 * Parses `@localpart:server`. By default the historical grammar, which every server must accept from
 * events over federation; `{ strict: true }` demands the current grammar (for ids this server creates or
 * shows to clients outside events). The whole id must fit in 255 bytes either way.
 */
export function parseUserId(id: string, opts?: { strict?: boolean }): ParsedId | undefined {
  return parseSigilled(id, '@', opts?.strict ? STRICT_LOCALPART : HISTORICAL_LOCALPART);
}

export function isValidUserId(id: string, opts?: { strict?: boolean }): boolean {
  return parseUserId(id, opts) !== undefined;
}

/** Parses `#alias:server` (any non-empty localpart without `:` or NUL). */
export function parseRoomAlias(alias: string): ParsedId | undefined {
  return parseSigilled(alias, '#', OPAQUE_LOCALPART);
}

export function isValidRoomAlias(alias: string): boolean {
  return parseRoomAlias(alias) !== undefined;
}

/** An unpadded sha256 in base64 is 43 characters. */
const HASH_STD = /^[A-Za-z0-9+/]{43}$/;
const HASH_URL = /^[A-Za-z0-9_-]{43}$/;

/**
 * Checks a room id. With a room version: v12+ ids are `!` + a URL-safe reference hash, older ones
 * `!opaque:server`. Without one, either form is accepted.
 */
export function isValidRoomId(id: string, roomVersion?: RoomVersion): boolean {
  if (id[0] !== '!') return false;
  const hashForm = roomVersion ? roomVersion.roomIdIsCreateEventHash : !id.includes(':');
  return hashForm ? HASH_URL.test(id.slice(1)) : parseSigilled(id, '!', OPAQUE_LOCALPART) !== undefined;
}

/**
 * Checks an event id. With a room version: v1–2 `$opaque:server`, v3 `$` + standard base64 hash, v4+
 * `$` + URL-safe base64 hash. Without one, any of these.
 */
export function isValidEventId(id: string, roomVersion?: RoomVersion): boolean {
  if (id[0] !== '$') return false;
  const body = id.slice(1);
  switch (roomVersion?.eventIdFormat) {
    case 'v1':
      return parseSigilled(id, '$', OPAQUE_LOCALPART) !== undefined;
    case 'v3':
      return HASH_STD.test(body);
    case 'v4':
      return HASH_URL.test(body);
    default:
      return (
        HASH_STD.test(body) || HASH_URL.test(body) || parseSigilled(id, '$', OPAQUE_LOCALPART) !== undefined
      );
  }
}

/**
 * The server name inside a user id, alias, or domain-bearing room or event id (everything after the
 * first `:`); undefined for hash-form ids and anything without a colon. Does not validate.
 */
export function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

const NAMESPACED = /^[a-z][a-z0-9._-]{0,254}$/;

/** The common namespaced identifier grammar: 1–255 of `[a-z0-9._-]`, starting with a letter. */
export function isValidNamespacedIdentifier(id: string): boolean {
  return NAMESPACED.test(id);
}
