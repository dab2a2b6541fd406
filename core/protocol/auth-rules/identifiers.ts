/**
 * The small amount of identifier parsing the auth rules need (spec: appendices.md "Identifier
 * Grammar"). Kept local so the auth rules depend on nothing but the PDU types.
 */
/** The server name of `@user:server`, `!room:server` or `$event:server`; undefined when absent. */
export function domainOf(id: string): string | undefined {
  const i = id.indexOf(':');
  return i < 0 ? undefined : id.slice(i + 1);
}

// Server names: a DNS name, IPv4 literal or bracketed IPv6 literal, with an optional port.
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;
// Historical user ids allow any printable ASCII except ':' in the localpart.
const LOCALPART = /^[\x21-\x39\x3B-\x7E]+$/;

/** User id validation as applied to `sender`: `@localpart:server`, at most 255 bytes. */
export function isValidUserId(value: string): boolean {
  if (!value.startsWith('@') || Buffer.byteLength(value) > 255) return false;
  const colon = value.indexOf(':');
  if (colon < 2) return false;
  return LOCALPART.test(value.slice(1, colon)) && SERVER_NAME.test(value.slice(colon + 1));
}

/** The id an event reference points at (v1–2 references are `[id, hashes]` pairs). */
export function referenceId(ref: unknown): string | undefined {
  if (typeof ref === 'string') return ref;
  if (Array.isArray(ref) && typeof ref[0] === 'string') return ref[0];
  return undefined;
}

/** The event ids of a `prev_events`/`auth_events` list, tolerating either reference shape. */
export function referenceIds(refs: unknown): string[] {
  if (!Array.isArray(refs)) return [];
  const ids: string[] = [];
  for (const r of refs) {
    const id = referenceId(r);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}
