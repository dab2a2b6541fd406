/**
 * Server name resolution (server-server-api "Resolving server names"): IP literals, explicit ports,
 * /.well-known/matrix/server delegation (cached, with the spec's error rules), SRV `_matrix-fed._tcp`
 * then the deprecated `_matrix._tcp`, and port 8448. The result says where to connect, which Host header
 * to send and which name the certificate must be valid for (and sent as SNI, except for IP literals).
 */
import { isIP } from 'node:net';
import { parseServerName, type ParsedServerName } from '../../../core/protocol/identifiers.js';
import type { DnsResolver, SrvAnswer } from './dns.js';

export const DEFAULT_FEDERATION_PORT = 8448;

export interface ConnectTarget {
  /** A DNS name to look up at connect time, or an IP address (no brackets). */
  readonly host: string;
  readonly port: number;
}

export interface ResolvedServer {
  readonly serverName: string;
  readonly hostHeader: string;
  /** The name the certificate must be valid for: a DNS name, or an IP address. */
  readonly tlsName: string;
  /** The SNI to send: the DNS name, or undefined for an IP address (the spec forbids SNI there). */
  readonly sni: string | undefined;
  /** Where to connect, in order of preference (SRV priority and weight). */
  readonly targets: readonly ConnectTarget[];
}

export interface WellKnownResponse {
  readonly status: number;
  readonly body: Buffer;
  readonly cacheControl: string | undefined;
}

/** Fetches `https://<hostname>/.well-known/matrix/server`, following redirects; throws on network errors. */
export interface WellKnownFetcher {
  fetch(hostname: string): Promise<WellKnownResponse>;
}

/** Cache periods (Synapse's and the spec's recommendations). */
export const WELL_KNOWN_DEFAULT_CACHE_MS = 24 * 3_600_000;
export const WELL_KNOWN_MAX_CACHE_MS = 48 * 3_600_000;
export const WELL_KNOWN_MIN_CACHE_MS = 5 * 60_000;
export const WELL_KNOWN_FIRST_ERROR_CACHE_MS = 2 * 60_000;
export const WELL_KNOWN_MAX_ERROR_CACHE_MS = 3_600_000;
const WELL_KNOWN_CACHE_ENTRIES = 10_000;

interface WellKnownEntry {
  /** The delegated server name, or undefined when the lookup failed. */
  readonly delegated: string | undefined;
  readonly expiresAt: number;
  /** Consecutive failures, for the exponential backoff of error caching. */
  readonly failures: number;
}

export type WellKnownResult =
  | { readonly ok: true; readonly delegated: string; readonly cacheMs: number }
  | { readonly ok: false; readonly reason: string };

/** Interprets a well-known response: 200, a JSON object, `m.server` a valid server name; else an error. */
export function parseWellKnown(response: WellKnownResponse): WellKnownResult {
  if (response.status !== 200) return { ok: false, reason: `status ${response.status}` };
  let body: unknown;
  try {
    body = JSON.parse(response.body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, reason: 'body is not a JSON object' };
  }
  const server = (body as Record<string, unknown>)['m.server'];
  if (typeof server !== 'string') return { ok: false, reason: 'm.server is missing or not a string' };
  if (!parseServerName(server)) return { ok: false, reason: `m.server "${server}" is not a server name` };
  return { ok: true, delegated: server, cacheMs: cachePeriod(response.cacheControl) };
}

/** `max-age` clamped to [5 min, 48 h]; 24 h when absent; `no-store`/`no-cache` mean the minimum. */
export function cachePeriod(cacheControl: string | undefined): number {
  if (!cacheControl) return WELL_KNOWN_DEFAULT_CACHE_MS;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return WELL_KNOWN_MIN_CACHE_MS;
  const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)).find((m) => m)?.[1];
  if (maxAge === undefined) return WELL_KNOWN_DEFAULT_CACHE_MS;
  return Math.min(WELL_KNOWN_MAX_CACHE_MS, Math.max(WELL_KNOWN_MIN_CACHE_MS, Number(maxAge) * 1000));
}

/** RFC 2782 order: lowest priority first; within a priority, a weighted random draw without replacement. */
export function orderSrv(records: readonly SrvAnswer[], random: () => number = Math.random): SrvAnswer[] {
  const usable = records.filter((r) => r.name !== '' && r.name !== '.');
  const priorities = [...new Set(usable.map((r) => r.priority))].sort((a, b) => a - b);
  const ordered: SrvAnswer[] = [];
  for (const priority of priorities) {
    const group = usable.filter((r) => r.priority === priority);
    while (group.length > 0) {
      const total = group.reduce((sum, r) => sum + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        let point = random() * total;
        pick = group.findIndex((r) => (point -= r.weight) < 0);
        if (pick < 0) pick = group.length - 1;
      }
      ordered.push(group.splice(pick, 1)[0]!);
    }
  }
  return ordered;
}

const stripBrackets = (host: string): string => (host.startsWith('[') ? host.slice(1, -1) : host);

export class ServerNameResolver {
  private readonly dns: DnsResolver;
  private readonly wellKnownFetcher: WellKnownFetcher;
  private readonly now: () => number;
  private readonly wellKnownCache = new Map<string, WellKnownEntry>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();

  constructor(deps: { dns: DnsResolver; wellKnownFetcher: WellKnownFetcher; now?: () => number }) {
    this.dns = deps.dns;
    this.wellKnownFetcher = deps.wellKnownFetcher;
    this.now = deps.now ?? Date.now;
  }

  /** Resolves a server name; throws an Error for a name that is not a valid server name. */
  async resolve(serverName: string): Promise<ResolvedServer> {
    const parsed = parseServerName(serverName);
    if (!parsed) throw new Error(`"${serverName}" is not a valid server name`);
    // Steps 1 and 2: an IP literal, or an explicit port.
    if (parsed.kind !== 'dns' || parsed.port !== undefined) return this.direct(serverName, parsed);
    // Step 3: .well-known delegation.
    const delegated = await this.wellKnown(parsed.host);
    if (delegated !== undefined) {
      const d = parseServerName(delegated)!;
      if (d.kind !== 'dns' || d.port !== undefined) return this.direct(serverName, d, delegated); // 3.1, 3.2
      const srv = await this.srv(d.host); // 3.3, 3.4
      const targets = srv.length > 0 ? srv : [{ host: d.host, port: DEFAULT_FEDERATION_PORT }]; // 3.5
      return { serverName, hostHeader: d.host, tlsName: d.host, sni: d.host, targets };
    }
    // Steps 4, 5 and 6: SRV on the server name itself, then port 8448.
    const srv = await this.srv(parsed.host);
    const targets = srv.length > 0 ? srv : [{ host: parsed.host, port: DEFAULT_FEDERATION_PORT }];
    return { serverName, hostHeader: parsed.host, tlsName: parsed.host, sni: parsed.host, targets };
  }

  /** Forgets cached delegation (e.g. after an operator fixes a well-known file). */
  clearCache(): void {
    this.wellKnownCache.clear();
  }

  private direct(serverName: string, name: ParsedServerName, written = serverName): ResolvedServer {
    const host = stripBrackets(name.host);
    const ip = isIP(host) !== 0;
    return {
      serverName,
      hostHeader: written,
      tlsName: host,
      sni: ip ? undefined : host,
      targets: [{ host, port: name.port ?? DEFAULT_FEDERATION_PORT }],
    };
  }

  private async srv(host: string): Promise<ConnectTarget[]> {
    for (const service of ['_matrix-fed._tcp', '_matrix._tcp']) {
      const records = orderSrv(await this.dns.resolveSrv(`${service}.${host}`));
      if (records.length > 0) return records.map((r) => ({ host: r.name.replace(/\.$/, ''), port: r.port }));
    }
    return [];
  }

  /** The delegated server name, or undefined when the well-known lookup failed (cached either way). */
  private async wellKnown(hostname: string): Promise<string | undefined> {
    const cached = this.wellKnownCache.get(hostname);
    if (cached && cached.expiresAt > this.now()) return cached.delegated;
    let pending = this.inFlight.get(hostname);
    if (!pending) {
      pending = this.fetchWellKnown(hostname, cached?.failures ?? 0).finally(() =>
        this.inFlight.delete(hostname),
      );
      this.inFlight.set(hostname, pending);
    }
    return pending;
  }

  private async fetchWellKnown(hostname: string, previousFailures: number): Promise<string | undefined> {
    let result: WellKnownResult;
    try {
      result = parseWellKnown(await this.wellKnownFetcher.fetch(hostname));
    } catch (err) {
      result = { ok: false, reason: (err as Error).message };
    }
    let entry: WellKnownEntry;
    if (result.ok) {
      entry = { delegated: result.delegated, expiresAt: this.now() + result.cacheMs, failures: 0 };
    } else {
      const failures = previousFailures + 1;
      const backoff = Math.min(
        WELL_KNOWN_MAX_ERROR_CACHE_MS,
        WELL_KNOWN_FIRST_ERROR_CACHE_MS * 2 ** (failures - 1),
      );
      entry = { delegated: undefined, expiresAt: this.now() + backoff, failures };
    }
    this.wellKnownCache.delete(hostname);
    this.wellKnownCache.set(hostname, entry);
    if (this.wellKnownCache.size > WELL_KNOWN_CACHE_ENTRIES) {
      const oldest = this.wellKnownCache.keys().next().value;
      if (oldest !== undefined) this.wellKnownCache.delete(oldest);
    }
    return entry.delegated;
  }
}
