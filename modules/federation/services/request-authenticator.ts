/**
 * Inbound request authentication (server-server-api "Request Authentication"): the X-Matrix header is
 * parsed, its destination (when given) must be this server, the origin must pass
 * federation_domain_whitelist, and the signature over {method, uri, origin, destination, content} must
 * verify with a current key of the origin (fetched through the key ring when unknown).
 */
import { MatrixError } from '../../../core/errors.js';
import { readJson, type ReadJsonOptions } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import { isValidServerName } from '../../../core/protocol/identifiers.js';
import type { KeyRing } from '../api.js';
import type { DomainPolicy } from './domain-policy.js';
import { parseXMatrix } from './x-matrix.js';

/**
 * How a federation request body is read (the first reader is this authenticator: the signature covers it).
 * The limit is Synapse's: the largest body expected is a full `/send` transaction — 50 PDUs of at most
 * 65,536 bytes each plus up to 100 EDUs, which the spec does not bound — so 200 × 64 KiB (12.5 MiB); the
 * client API's `max_request_body_size` (1 MiB) holds barely 16 full PDUs. Integers beyond canonical JSON's
 * range are kept exactly (v1–5 events may hold them; their hashes cover every digit).
 */
export const FEDERATION_BODY: ReadJsonOptions = { limit: 200 * 65_536, fromServer: true };

const unauthorized = (message: string): MatrixError => new MatrixError(401, 'M_UNAUTHORIZED', message);

export class RequestAuthenticator {
  constructor(
    private readonly deps: {
      serverName: string;
      keyRing: KeyRing;
      domainPolicy: DomainPolicy;
      /** Called for every authenticated request (the sender ends the origin's backoff). */
      onAuthenticated?: (origin: string) => void;
    },
  ) {}

  /** Returns the authenticated origin and records it in `ctx.state.federationOrigin`. */
  async authenticate(ctx: AxonContext): Promise<string> {
    if (ctx.state.federationOrigin !== undefined) return ctx.state.federationOrigin;
    const header = ctx.get('authorization');
    if (!header) throw unauthorized('Missing Authorization headers');
    const params = parseXMatrix(header);
    if (!params) throw unauthorized('Malformed X-Matrix Authorization header');
    const { origin, destination, key, sig } = params;
    if (!isValidServerName(origin)) throw unauthorized('The origin is not a valid server name');
    if (destination !== undefined && destination !== this.deps.serverName) {
      throw unauthorized(`The request is for ${destination}, not this server`);
    }
    if (origin === this.deps.serverName) throw unauthorized('A request cannot come from this server');
    if (!this.deps.domainPolicy.isAllowed(origin)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Federation denied with origin');
    }
    const json: Record<string, unknown> = {
      method: ctx.method,
      uri: ctx.originalUrl,
      origin,
      destination: this.deps.serverName,
      signatures: { [origin]: { [key]: sig } },
    };
    if (hasBody(ctx)) json['content'] = await readJson(ctx, FEDERATION_BODY);
    const valid = await this.deps.keyRing.verifyServerSignature(origin, key, json, { allowOldKeys: false });
    if (!valid) throw unauthorized('Invalid signature for server ' + origin + ' with key ' + key);
    ctx.state.federationOrigin = origin;
    this.deps.onAuthenticated?.(origin);
    return origin;
  }
}

function hasBody(ctx: AxonContext): boolean {
  const length = ctx.get('content-length');
  if (length !== '') return Number(length) > 0;
  return ctx.get('transfer-encoding') !== '';
}
