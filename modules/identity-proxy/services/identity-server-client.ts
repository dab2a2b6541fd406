/**
 * Calls to identity servers (Identity Service API v2) over HTTPS: every address the name resolves to is
 * checked against `ip_range_blacklist` / `ip_range_whitelist` (Synapse's keys, shared with federation) and
 * the socket connects only to a checked address; requests time out (`identity_server_timeout`), answers are
 * bounded and must be JSON. Every failure is an IdentityServerError the caller turns into a Matrix error:
 * a failing identity server gives the client a clear answer, never a hang.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BootError, MatrixError } from '../../../core/errors.js';
import { IpRangeFilter } from '../../../core/http/ip-range-filter.js';
import { signJson } from '../../../core/protocol/signing.js';
import type { SigningKey } from '../../../core/protocol/signing-key.js';

export { DEFAULT_IP_RANGE_BLACKLIST } from '../../../core/http/ip-range-filter.js';

const MAX_RESPONSE_BYTES = 64 * 1024;
/** An identity server's name as clients send it: host[:port], no scheme or path (server-name grammar). */
const ID_SERVER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3})(?::\d{1,5})?$/;

export class IdentityServerError extends Error {
  constructor(
    readonly idServer: string,
    readonly kind: 'not_allowed' | 'network' | 'timeout' | 'http' | 'invalid_response',
    message: string,
    readonly status?: number,
    readonly errcode?: string,
  ) {
    super(`identity server ${idServer}: ${message}`);
  }

  /** What the client is told: the identity server's own Matrix error when it sent one, else a 502/504. */
  toMatrixError(): MatrixError {
    if (this.kind === 'http' && this.errcode && this.status !== undefined && this.status < 500) {
      return new MatrixError(400, this.errcode, this.message);
    }
    if (this.kind === 'not_allowed') return new MatrixError(400, 'M_SERVER_NOT_TRUSTED', this.message);
    return new MatrixError(this.kind === 'timeout' ? 504 : 502, 'M_UNKNOWN', this.message);
  }
}

export function checkIdServer(value: unknown): string {
  if (typeof value !== 'string')
    throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: id_server');
  if (!ID_SERVER.test(value) || value.length > 255) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'id_server must be a host name with an optional port');
  }
  return value.toLowerCase();
}

export interface IdentityServerClientOptions {
  readonly blacklist: readonly string[];
  readonly whitelist: readonly string[];
  readonly timeoutMs: number;
  /** PEM certificates trusted besides the system's (identity_server_custom_ca_list). */
  readonly ca?: readonly string[];
  readonly serverName: string;
  readonly signingKey: SigningKey;
}

export function loadCaList(paths: readonly string[], configDir: string): string[] {
  return paths.map((p) => {
    const file = isAbsolute(p) ? p : join(configDir, p);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new BootError(
        'AXON_ERR_CONFIG_INVALID',
        `identity_server_custom_ca_list: cannot read ${file}: ${(err as Error).message}`,
      );
    }
  });
}

export class IdentityServerClient {
  private readonly ipFilter: IpRangeFilter;

  constructor(private readonly options: IdentityServerClientOptions) {
    this.ipFilter = new IpRangeFilter(options.blacklist, options.whitelist);
  }

  isAllowedAddress(address: string): boolean {
    return !this.ipFilter.isBlocked(address);
  }

  /** POST a JSON body; `accessToken` as Bearer, or `signed: true` for an X-Matrix signature (unbind). */
  async post(
    idServer: string,
    path: string,
    body: Record<string, unknown>,
    auth: { accessToken?: string; signed?: boolean } = {},
  ): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth.accessToken !== undefined) headers['authorization'] = `Bearer ${auth.accessToken}`;
    if (auth.signed) headers['authorization'] = this.xMatrix(idServer, 'POST', path, body);
    return this.send(idServer, new URL(`https://${idServer}${path}`), 'POST', JSON.stringify(body), headers);
  }

  /**
   * A call to the operator's delegate (`account_threepid_delegates.msisdn`, a base URL): unauthenticated
   * Identity Service v1 validation endpoints, as Synapse calls them. `body` undefined: a GET.
   */
  async delegate(
    baseUrl: string,
    path: string,
    body?: Record<string, unknown>,
    query?: Readonly<Record<string, string>>,
  ): Promise<Record<string, unknown>> {
    const url = new URL(baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
    return this.send(url.host, url, body ? 'POST' : 'GET', body ? JSON.stringify(body) : '', headers);
  }

  private xMatrix(idServer: string, method: string, uri: string, content: unknown): string {
    const { serverName, signingKey } = this.options;
    const signed = signJson(
      { method, uri, origin: serverName, destination: idServer, content },
      serverName,
      signingKey,
    );
    const sig = signed.signatures[serverName]?.[signingKey.keyId] ?? '';
    return `X-Matrix origin="${serverName}",destination="${idServer}",key="${signingKey.keyId}",sig="${sig}"`;
  }

  private send(
    idServer: string,
    url: URL,
    method: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const fail = (
      kind: IdentityServerError['kind'],
      message: string,
      status?: number,
      errcode?: string,
    ): IdentityServerError => new IdentityServerError(idServer, kind, message, status, errcode);
    if (isIP(host) !== 0 && !this.isAllowedAddress(host)) {
      return Promise.reject(fail('not_allowed', 'its address is not allowed (ip_range_blacklist)'));
    }
    const lookup: LookupFunction = (hostname, opts, callback) => {
      dnsLookup(hostname, { all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 4);
        const ok = addresses.filter((a) => this.isAllowedAddress(a.address));
        if (ok.length === 0 || ok.length < addresses.length) {
          return callback(
            Object.assign(new Error('its address is not allowed (ip_range_blacklist)'), {
              code: 'AXON_BLOCKED',
            }),
            '',
            4,
          );
        }
        if ((opts as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
        const first = ok[0]!;
        return callback(null, first.address, first.family);
      });
    };
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'http:' ? httpRequest : httpsRequest)(
        url,
        {
          method,
          headers: body === '' ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          lookup,
          ca: this.options.ca && this.options.ca.length > 0 ? [...this.options.ca] : undefined,
          timeout: this.options.timeoutMs,
          signal: AbortSignal.timeout(this.options.timeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy();
              reject(fail('invalid_response', 'answered with too large a body'));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (err) => reject(fail('network', err.message)));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              parsed = undefined;
            }
            const status = res.statusCode ?? 0;
            const json =
              typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
                ? (parsed as Record<string, unknown>)
                : undefined;
            if (status < 200 || status >= 300) {
              const errcode = typeof json?.['errcode'] === 'string' ? json['errcode'] : undefined;
              const error = typeof json?.['error'] === 'string' ? json['error'] : `HTTP ${status}`;
              reject(fail('http', error, status, errcode));
              return;
            }
            if (!json) {
              reject(fail('invalid_response', 'answered with something that is not a JSON object'));
              return;
            }
            resolve(json);
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'AXON_BLOCKED') reject(fail('not_allowed', err.message));
        else if (err.code === 'ETIMEDOUT' || err.name === 'AbortError' || err.name === 'TimeoutError')
          reject(fail('timeout', `did not answer within ${this.options.timeoutMs} ms`));
        else reject(fail('network', err.message));
      });
      req.end(body);
    });
  }
}
