/**
 * One HTTPS exchange with another server, safely: the connect host is resolved here and every address is
 * checked against ip_range_blacklist / ip_range_whitelist before connecting to that very address (no DNS
 * rebinding between check and connect); the certificate is verified for the expected name (unless
 * federation_verify_certificates is false or the name is in federation_certificate_verification_whitelist),
 * with SNI sent except to IP addresses; a deadline bounds the
 * whole exchange and a byte limit bounds the response.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { FederationRequestError } from '../api.js';
import type { DnsResolver } from './dns.js';
import type { IpRangeFilter } from '../../../core/http/ip-range-filter.js';
import type { ConnectTarget } from './server-name-resolver.js';

export interface TransportRequest {
  /** Server name for error messages. */
  readonly destination: string;
  readonly method: string;
  /** The request target: path and query. */
  readonly path: string;
  readonly target: ConnectTarget;
  readonly hostHeader: string;
  /** SNI and the certificate name; undefined for an IP address (the certificate must then hold the IP). */
  readonly sni: string | undefined;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface TlsSettings {
  /** Verify certificates (federation_verify_certificates). */
  readonly verify: boolean;
  /** Replaces the system's trusted CAs when set (federation_custom_ca_list). */
  readonly ca?: readonly Buffer[];
  /** Certificate names whose verification is skipped (federation_certificate_verification_whitelist). */
  readonly skipVerification?: (certificateName: string) => boolean;
}

export class HttpsTransport {
  private readonly dns: DnsResolver;
  private readonly ipFilter: IpRangeFilter;
  private readonly tls: TlsSettings;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: 60_000 });

  constructor(deps: { dns: DnsResolver; ipFilter: IpRangeFilter; tls: TlsSettings }) {
    this.dns = deps.dns;
    this.ipFilter = deps.ipFilter;
    this.tls = deps.tls;
  }

  /** Tries each allowed address of the target in turn until one connects. */
  async request(req: TransportRequest): Promise<TransportResponse> {
    const deadline = Date.now() + req.timeoutMs;
    const addresses = await withTimeout(this.allowedAddresses(req), req.timeoutMs, () => {
      return new FederationRequestError(req.destination, 'timeout', `resolving ${req.target.host} timed out`);
    });
    let lastError: FederationRequestError | undefined;
    for (const address of addresses) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        return await this.exchange(req, address, remaining);
      } catch (err) {
        const e = err as FederationRequestError;
        // Only a failure to connect moves on to the next address; anything later is the answer.
        if (e.kind !== 'network' || !(e as { connectFailed?: boolean }).connectFailed) throw e;
        lastError = e;
      }
    }
    throw lastError ?? new FederationRequestError(req.destination, 'timeout', 'request timed out');
  }

  close(): void {
    this.agent.destroy();
  }

  private async allowedAddresses(req: TransportRequest): Promise<string[]> {
    const { host } = req.target;
    let addresses: string[];
    if (isIP(host) !== 0) addresses = [host];
    else {
      try {
        addresses = (await this.dns.lookup(host)).map((a) => a.address);
      } catch (err) {
        throw new FederationRequestError(
          req.destination,
          'network',
          `cannot resolve ${host}: ${(err as Error).message}`,
        );
      }
    }
    const allowed = addresses.filter((a) => !this.ipFilter.isBlocked(a));
    if (allowed.length === 0) {
      throw new FederationRequestError(
        req.destination,
        'not_allowed',
        `${host} resolves only to addresses refused by ip_range_blacklist (${addresses.join(', ') || 'none'})`,
      );
    }
    return allowed;
  }

  private exchange(req: TransportRequest, address: string, timeoutMs: number): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      let connected = false;
      const fail = (kind: 'network' | 'timeout' | 'too_large', message: string): void => {
        const error = new FederationRequestError(req.destination, kind, message);
        if (!connected) Object.assign(error, { connectFailed: true });
        reject(error);
      };
      const outgoing = httpsRequest({
        agent: this.agent,
        host: address,
        port: req.target.port,
        method: req.method,
        path: req.path,
        // An empty servername sends no SNI; the identity is then checked against the IP address.
        servername: req.sni ?? '',
        ca: this.tls.ca ? [...this.tls.ca] : undefined,
        rejectUnauthorized:
          this.tls.verify && !(this.tls.skipVerification?.(req.sni ?? req.target.host) ?? false),
        headers: {
          ...req.headers,
          host: req.hostHeader,
          ...(req.body ? { 'content-length': String(req.body.length) } : {}),
        },
      });
      const timer = setTimeout(() => {
        outgoing.destroy();
        fail('timeout', `no complete answer within ${timeoutMs} ms`);
      }, timeoutMs);
      outgoing.on('socket', (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once('secureConnect', () => (connected = true));
      });
      outgoing.on('error', (err) => {
        clearTimeout(timer);
        fail('network', err.message);
      });
      outgoing.on('response', (res) => {
        connected = true;
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > req.maxResponseBytes) {
          clearTimeout(timer);
          res.destroy();
          fail('too_large', `response of ${declared} bytes exceeds ${req.maxResponseBytes}`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > req.maxResponseBytes) {
            clearTimeout(timer);
            res.destroy();
            fail('too_large', `response exceeds ${req.maxResponseBytes} bytes`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          fail('network', err.message);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      outgoing.end(req.body);
    });
  }
}

/** `promise`, or the error `onTimeout` makes once `ms` have passed (the promise is left to settle unobserved). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
