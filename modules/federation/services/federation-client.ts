/**
 * Outbound requests to other servers: the destination is resolved (discovery), the request signed with
 * X-Matrix (spec "Request Authentication"), sent through the checked HTTPS transport, and the answer parsed;
 * every failure becomes a FederationRequestError.
 */
import type { SigningKey } from '../../../core/protocol/signing-key.js';
import { signJson } from '../../../core/protocol/signing.js';
import { FederationRequestError, type FederationClient, type FederationRequest } from '../api.js';
import type { DomainPolicy } from './domain-policy.js';
import { withTimeout, type HttpsTransport } from './https-transport.js';
import type { ServerNameResolver } from './server-name-resolver.js';
import { formatXMatrix } from './x-matrix.js';

export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export interface FederationClientDeps {
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly resolver: ServerNameResolver;
  readonly transport: HttpsTransport;
  readonly domainPolicy: DomainPolicy;
  readonly defaultTimeoutMs: number;
  /** Called when a destination answered (below 500, not 429): it is up, whatever it said (the sender's backoff). */
  readonly onReachable?: (destination: string) => void;
}

/** `path?query` with the query encoded as the spec's examples are (repeated keys for arrays). */
export function requestTarget(path: string, query: FederationRequest['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) params.append(key, String(v));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export class FederationClientImpl implements FederationClient {
  constructor(private readonly deps: FederationClientDeps) {}

  async request(request: FederationRequest): Promise<unknown> {
    const { destination } = request;
    if (!this.deps.domainPolicy.isAllowed(destination)) {
      throw new FederationRequestError(destination, 'not_allowed', 'not in federation_domain_whitelist');
    }
    // One deadline for discovery and the exchange together.
    const timeoutMs = request.timeoutMs ?? this.deps.defaultTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    let resolved;
    try {
      resolved = await withTimeout(this.deps.resolver.resolve(destination), timeoutMs, () => {
        return new FederationRequestError(destination, 'timeout', 'server discovery timed out');
      });
    } catch (err) {
      if (err instanceof FederationRequestError) throw err;
      throw new FederationRequestError(destination, 'network', (err as Error).message);
    }
    const target = requestTarget(request.path, request.query);
    const hasBody = request.method === 'POST' || request.method === 'PUT' || request.body !== undefined;
    const content = hasBody ? (request.body ?? {}) : undefined;
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: Buffer | undefined;
    if (content !== undefined) {
      body = Buffer.from(JSON.stringify(content), 'utf8');
      headers['content-type'] = 'application/json';
    }
    if (request.authenticated !== false)
      headers['authorization'] = this.authorization(request.method, target, destination, content);

    let lastError: unknown;
    for (const connectTarget of resolved.targets) {
      try {
        const response = await this.deps.transport.request({
          destination,
          method: request.method,
          path: target,
          target: connectTarget,
          hostHeader: resolved.hostHeader,
          sni: resolved.sni,
          headers,
          body,
          timeoutMs: Math.max(1, deadline - Date.now()),
          maxResponseBytes: request.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
        });
        if (response.status < 500 && response.status !== 429) this.deps.onReachable?.(destination);
        return parseResponse(destination, response.status, response.body);
      } catch (err) {
        // The next SRV target is tried only when this one could not be reached at all.
        if (err instanceof FederationRequestError && err.kind === 'network' && resolved.targets.length > 1) {
          lastError = err;
          continue;
        }
        throw err;
      }
    }
    throw lastError instanceof FederationRequestError
      ? lastError
      : new FederationRequestError(destination, 'network', 'no address to connect to');
  }

  /** The X-Matrix header value for a request (exported for tests through the class). */
  authorization(method: string, uri: string, destination: string, content: unknown): string {
    const { serverName, signingKey } = this.deps;
    const json: Record<string, unknown> = { method, uri, origin: serverName, destination };
    if (content !== undefined) json['content'] = content;
    const signed = signJson(json, serverName, signingKey);
    const sig = signed.signatures[serverName]?.[signingKey.keyId] ?? '';
    return formatXMatrix({ origin: serverName, destination, key: signingKey.keyId, sig });
  }
}

function parseResponse(destination: string, status: number, raw: Buffer): unknown {
  let body: unknown;
  let parsed = false;
  try {
    body = JSON.parse(raw.toString('utf8'));
    parsed = true;
  } catch {
    body = undefined;
  }
  if (status >= 200 && status < 300) {
    if (!parsed)
      throw new FederationRequestError(destination, 'invalid_response', 'the answer is not JSON', status);
    return body;
  }
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const errcode = typeof record['errcode'] === 'string' ? record['errcode'] : undefined;
  const error = typeof record['error'] === 'string' ? record['error'] : `HTTP ${status}`;
  throw new FederationRequestError(
    destination,
    'http',
    `${status} ${errcode ?? ''} ${error}`.replace(/\s+/g, ' '),
    status,
    errcode,
    body,
  );
}
