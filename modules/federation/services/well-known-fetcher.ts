/**
 * Fetches `https://<hostname>/.well-known/matrix/server` through the checked transport: port 443, Host and
 * SNI the hostname, at most 5 redirects (https only, each hop re-checked, loops refused), 10 s and 50 KiB.
 */
import { isIP } from 'node:net';
import type { HttpsTransport } from './https-transport.js';
import type { WellKnownFetcher, WellKnownResponse } from './server-name-resolver.js';

const MAX_REDIRECTS = 5;
const TIMEOUT_MS = 10_000;
const MAX_BYTES = 50 * 1024;

export class HttpsWellKnownFetcher implements WellKnownFetcher {
  constructor(private readonly transport: HttpsTransport) {}

  async fetch(hostname: string): Promise<WellKnownResponse> {
    let url = new URL(`https://${hostname}/.well-known/matrix/server`);
    const seen = new Set<string>();
    for (let hop = 0; ; hop++) {
      seen.add(url.href);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const response = await this.transport.request({
        destination: hostname,
        method: 'GET',
        path: url.pathname + url.search,
        target: { host, port: url.port === '' ? 443 : Number(url.port) },
        hostHeader: url.host,
        sni: isIP(host) === 0 ? host : undefined,
        headers: { accept: 'application/json' },
        timeoutMs: TIMEOUT_MS,
        maxResponseBytes: MAX_BYTES,
      });
      const location = response.headers.location;
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, url);
        if (next.protocol !== 'https:') throw new Error(`redirected to a non-https URL ${next.href}`);
        if (seen.has(next.href)) throw new Error(`redirect loop at ${next.href}`);
        if (hop + 1 > MAX_REDIRECTS) throw new Error('too many redirects');
        url = next;
        continue;
      }
      const cacheControl = response.headers['cache-control'];
      return { status: response.status, body: response.body, cacheControl };
    }
  }
}
