/**
 * url_preview_url_blacklist, as Synapse reads it: a list of entries, each mapping URL components (scheme,
 * netloc, hostname, port, path, params, query, fragment, username, password) to a glob, or to a regular
 * expression when the pattern starts with `^`. A URL is blocked when every component of some entry matches.
 */
export type UrlBlacklistEntry = Readonly<Record<string, string>>;

/** Python urlsplit's view of a URL (undefined where Python gives None). */
function components(url: URL): Record<string, string | undefined> {
  const userinfo = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const semicolon = url.pathname.lastIndexOf(';');
  return {
    scheme: url.protocol.replace(/:$/, ''),
    netloc: `${userinfo}${url.host}`,
    hostname: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    port: url.port === '' ? undefined : url.port,
    path: url.pathname,
    params: semicolon >= 0 ? url.pathname.slice(semicolon + 1) : '',
    query: url.search.replace(/^\?/, ''),
    fragment: url.hash.replace(/^#/, ''),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}

export function isUrlBlacklisted(url: URL, entries: readonly UrlBlacklistEntry[]): boolean {
  const parts = components(url);
  return entries.some((entry) =>
    Object.entries(entry).every(([component, pattern]) => {
      const value = parts[component];
      if (value === undefined) return false;
      return pattern.startsWith('^') ? new RegExp(pattern).test(value) : globToRegExp(pattern).test(value);
    }),
  );
}

/** fnmatch: `*` any run, `?` one character, `[...]` a set (`[!...]` negated); everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) source += '\\[';
      else {
        let set = glob.slice(i + 1, close);
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        source += `[${set.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
