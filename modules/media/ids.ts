/**
 * mxc:// identifiers. The spec's security considerations demand a whitelist, not a blacklist: server names
 * must be valid server names and media ids only `A-Za-z0-9_-`, so no id can name a path outside the store.
 */
import { randomInt } from 'node:crypto';
import { MatrixError } from '../../core/errors.js';

const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;
// appendices.md "Server name": a DNS name, an IPv4 literal or a bracketed IPv6 literal, then an optional port.
const SERVER_NAME =
  /^(?:\[[0-9A-Fa-f:.]{2,45}\]|\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?)*)(?::\d{1,5})?$/;

export function isValidMediaId(id: string): boolean {
  return MEDIA_ID.test(id);
}

export function isValidServerName(name: string): boolean {
  return name.length <= 255 && SERVER_NAME.test(name);
}

/** Throws 400 M_INVALID_PARAM unless both parts are acceptable. */
export function assertMediaAddress(serverName: string, mediaId: string): void {
  if (!isValidServerName(serverName)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid server name');
  if (!isValidMediaId(mediaId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid media ID');
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** 24 random letters (about 137 bits), Synapse's shape for media ids. */
export function generateMediaId(): string {
  let id = '';
  for (let i = 0; i < 24; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

export function mxcUri(serverName: string, mediaId: string): string {
  return `mxc://${serverName}/${mediaId}`;
}

/** `{ serverName, mediaId }` of a well-formed mxc:// URI, else undefined. */
export function parseMxcUri(uri: string): { serverName: string; mediaId: string } | undefined {
  const match = /^mxc:\/\/([^/]+)\/([^/]+)$/.exec(uri);
  if (!match?.[1] || !match[2]) return undefined;
  if (!isValidServerName(match[1]) || !isValidMediaId(match[2])) return undefined;
  return { serverName: match[1], mediaId: match[2] };
}
