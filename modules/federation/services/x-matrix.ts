/**
 * The `Authorization: X-Matrix …` header (server-server-api "Request Authentication"): formatting what we
 * send, parsing what we receive. Pure; RFC 9110 §11.4 auth-params: names are case-insensitive, values are
 * tokens or quoted strings with backslash escapes, colons are accepted unquoted for older servers.
 */

export interface XMatrixParams {
  readonly origin: string;
  /** Absent from servers older than spec v1.3; the receiver then checks against its own name. */
  readonly destination?: string;
  readonly key: string;
  readonly sig: string;
}

/** The header value we send; names lower-case, one space after the scheme, no spaces around commas. */
export function formatXMatrix(params: XMatrixParams & { destination: string }): string {
  const quote = (value: string): string => `"${value.replace(/(["\\])/g, '\\$1')}"`;
  return (
    `X-Matrix origin=${quote(params.origin)},destination=${quote(params.destination)},` +
    `key=${quote(params.key)},sig=${quote(params.sig)}`
  );
}

/** Parses an Authorization header value; undefined when it is not a complete X-Matrix credential. */
export function parseXMatrix(header: string): XMatrixParams | undefined {
  const scheme = /^X-Matrix +/i.exec(header);
  if (!scheme) return undefined;
  const params = new Map<string, string>();
  let rest = header.slice(scheme[0].length);
  while (rest.length > 0) {
    const name = /^[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*/.exec(rest);
    if (!name?.[1]) return undefined;
    rest = rest.slice(name[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = '';
      for (; i < rest.length && rest[i] !== '"'; i++) {
        if (rest[i] === '\\' && i + 1 < rest.length) i++;
        value += rest[i];
      }
      if (i >= rest.length) return undefined; // unterminated quoted string
      rest = rest.slice(i + 1);
    } else {
      const token = /^[!#$%&'*+.^_`|~0-9A-Za-z:-]*/.exec(rest);
      value = token?.[0] ?? '';
      rest = rest.slice(value.length);
    }
    const key = name[1].toLowerCase();
    if (!params.has(key)) params.set(key, value);
    const separator = /^[ \t]*(,[ \t]*|$)/.exec(rest);
    if (!separator) return undefined;
    rest = rest.slice(separator[0].length);
  }
  const origin = params.get('origin');
  const key = params.get('key');
  const sig = params.get('sig');
  if (!origin || !key || !sig) return undefined;
  const destination = params.get('destination');
  return destination === undefined ? { origin, key, sig } : { origin, destination, key, sig };
}
