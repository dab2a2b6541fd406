/**
 * HTTP(S) fetching for URL previews that cannot be turned against the server's own network:
 * - every address a host name resolves to is checked before connecting, and the socket connects to exactly
 *   those checked addresses (a custom `lookup`), so DNS rebinding between check and connect is impossible;
 * - IP literals, which bypass `lookup`, are checked directly;
 * - redirects are followed by hand, a bounded number of times, each hop re-checked (scheme, URL blacklist,
 *   addresses); only http and https are spoken;
 * - a deadline covers the whole fetch, and the body is cut off past `maxBytes`.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { MatrixError } from '../../../core/errors.js';
import type { IpRangeFilter } from '../../../core/http/ip-range-filter.js';
import { isUrlBlacklisted, type UrlBlacklistEntry } from './url-blacklist.js';

/** Resolves a host name to all its addresses (injectable so tests can play DNS). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );

export interface SafeFetcherOptions {
  readonly ipFilter: IpRangeFilter;
  readonly urlBlacklist: readonly UrlBlacklistEntry[];
  readonly resolver?: Resolver;
  readonly maxRedirects?: number;
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

export interface FetchResult {
  /** The URL the content finally came from, after redirects. */
  readonly url: URL;
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export const ipBlocked = (): MatrixError => new MatrixError(403, 'M_UNKNOWN', 'IP address blocked');
export const urlBlocked = (): MatrixError =>
  new MatrixError(403, 'M_UNKNOWN', 'URL blocked by url pattern blacklist entry');
const badGateway = (message: string): MatrixError => new MatrixError(502, 'M_UNKNOWN', message);

class BlockedAddressError extends Error {}

export class SafeFetcher {
  private readonly resolver: Resolver;
  private readonly maxRedirects: number;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(private readonly options: SafeFetcherOptions) {
    this.resolver = options.resolver ?? systemResolver;
    this.maxRedirects = options.maxRedirects ?? 5;
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.userAgent = options.userAgent ?? 'Axon URL preview (Matrix homeserver)';
  }

  /** Throws 403 M_UNKNOWN for a blocked URL or address, 502 for anything the remote end got wrong. */
  async fetch(
    target: URL,
    request: { maxBytes: number; accept: string; acceptLanguage?: string },
  ): Promise<FetchResult> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    let url = target;
    for (let hop = 0; ; hop++) {
      this.assertAllowedUrl(url);
      const response = await this.get(url, request, deadline);
      const location = response.headers.location;
      if (
        response.statusCode !== undefined &&
        response.statusCode >= 300 &&
        response.statusCode < 400 &&
        location
      ) {
        response.resume();
        if (hop >= this.maxRedirects) throw badGateway('Too many redirects');
        try {
          url = new URL(location, url);
        } catch {
          throw badGateway('Invalid redirect');
        }
        if (url.protocol !== 'http:' && url.protocol !== 'https:')
          throw badGateway('Redirect to an unsupported scheme');
        continue;
      }
      const status = response.statusCode ?? 0;
      if (status < 200 || status > 299) {
        response.resume();
        throw badGateway(`Got error ${status}`);
      }
      const body = await readCapped(response, request.maxBytes, deadline);
      return { url, status, headers: response.headers, body };
    }
  }

  private assertAllowedUrl(url: URL): void {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new MatrixError(400, 'M_UNKNOWN', 'Invalid URL scheme');
    }
    if (isUrlBlacklisted(url, this.options.urlBlacklist)) throw urlBlocked();
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && this.options.ipFilter.isBlocked(host)) throw ipBlocked();
  }

  /** The checked `lookup`: resolve once, refuse if any address is blocked, connect to what was checked. */
  private readonly checkedLookup: LookupFunction = (hostname, options, callback) => {
    const cb = callback;
    this.resolver(hostname).then(
      (addresses) => {
        const wanted =
          options.family === 4 || options.family === 6
            ? addresses.filter((a) => a.family === options.family)
            : addresses;
        if (wanted.length === 0) {
          cb(Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' }), '');
          return;
        }
        if (wanted.some((a) => this.options.ipFilter.isBlocked(a.address))) {
          cb(new BlockedAddressError(`${hostname} resolves to a blocked address`), '');
          return;
        }
        if (options.all) cb(null, wanted);
        else cb(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err: NodeJS.ErrnoException) => cb(err, ''),
    );
  };

  private get(
    url: URL,
    request: { accept: string; acceptLanguage?: string },
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, {
        method: 'GET',
        agent: false, // no pooled socket: every connection goes through checkedLookup
        lookup: this.checkedLookup,
        signal,
        headers: {
          'user-agent': this.userAgent,
          accept: request.accept,
          'accept-encoding': 'identity',
          ...(request.acceptLanguage ? { 'accept-language': request.acceptLanguage } : {}),
        },
      });
      req.once('response', resolve);
      req.once('error', (err: NodeJS.ErrnoException) => {
        if (err instanceof BlockedAddressError) reject(ipBlocked());
        else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
          reject(badGateway('DNS resolution failure during URL preview generation'));
        } else if (err.name === 'AbortError' || signal.aborted)
          reject(badGateway('Timed out fetching the URL'));
        else reject(badGateway(`Failed to download content: ${err.code ?? err.message}`));
      });
      req.end();
    });
  }
}

async function readCapped(response: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  const tooLarge = (): MatrixError =>
    new MatrixError(502, 'M_TOO_LARGE', `Requested file is too large > ${maxBytes} bytes`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof MatrixError) throw err;
    throw badGateway(signal.aborted ? 'Timed out fetching the URL' : 'Connection lost while downloading');
  }
  return Buffer.concat(chunks);
}
