/**
 * What other modules may use of the federation module: resolve `federationApi` from the container
 * (`cradle.federationApi`, present only when the module is enabled) and import the types and helpers below.
 * Everything else in modules/federation is private.
 *
 * _Added in Axon 0.1._
 */
import type { Next } from 'koa';
import type { Cradle } from '../../core/container.js';
import { MatrixError } from '../../core/errors.js';
import type { AxonContext } from '../../core/http/context.js';

declare module '../../core/http/context.js' {
  interface AxonState {
    /** The server name a federation request was signed by (set by the X-Matrix check). */
    federationOrigin?: string;
  }
}

/** Why an outbound federation request failed. */
export type FederationErrorKind =
  /** The destination is not allowed: federation_domain_whitelist, or every address in ip_range_blacklist. */
  | 'not_allowed'
  /** DNS, connection or TLS failure (including an untrusted certificate). */
  | 'network'
  | 'timeout'
  /** The response body exceeded the request's size bound. */
  | 'too_large'
  /** The destination answered with a non-2xx status (`status`, and `errcode` when it sent a Matrix error). */
  | 'http'
  /** A 2xx answer whose body is not JSON. */
  | 'invalid_response';

export class FederationRequestError extends Error {
  constructor(
    readonly destination: string,
    readonly kind: FederationErrorKind,
    message: string,
    readonly status?: number,
    readonly errcode?: string,
    /** The parsed error body, when the destination sent JSON. */
    readonly body?: unknown,
  ) {
    super(`${destination}: ${message}`);
    this.name = 'FederationRequestError';
  }
}

export interface FederationRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly destination: string;
  /** The path starting with `/_matrix/`, already percent-encoded. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
  /** A JSON body (POST and PUT send `{}` when none is given, as the spec requires). */
  readonly body?: unknown;
  /** Default: `federation.client_timeout` (60 s). */
  readonly timeoutMs?: number;
  /** Largest response body accepted; default 10 MiB. */
  readonly maxResponseBytes?: number;
  /** false: do not sign (key fetches); default true. */
  readonly authenticated?: boolean;
}

/** Signed requests to other servers: discovery, TLS, X-Matrix signing, timeouts, bounded responses. */
export interface FederationClient {
  /**
   * Sends the request and returns the parsed JSON body of a 2xx answer.
   * @throws FederationRequestError for every failure (never anything else).
   */
  request(request: FederationRequest): Promise<unknown>;
}

/** A public key of a server, as the key ring knows it. */
export interface ServerVerifyKey {
  readonly serverName: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  /** The last ms timestamp the key may be used at (valid_until_ts capped at 7 days after fetching, or
   *  expired_ts for an old key). */
  readonly validUntilTs: number;
  /** Listed under old_verify_keys: valid for events signed before expired_ts, never for requests. */
  readonly expired: boolean;
}

export interface VerifyOptions {
  /** The time the signature must have been made at (e.g. the event's origin_server_ts); default now. */
  readonly atTs?: number;
  /** false: ignore key validity (room versions 1–4 ignore valid_until_ts); default true. */
  readonly enforceValidity?: boolean;
  /** Canonical JSON strictness (room versions 6+ are strict); default false. */
  readonly strict?: boolean;
  /** false: refuse keys from old_verify_keys (request signatures); default true. */
  readonly allowOldKeys?: boolean;
}

/** Other servers' signing keys: cached in the database, fetched directly or through trusted notaries. */
export interface KeyRing {
  /**
   * A server's key by id, fetched when not cached or not valid until `minimumValidUntilTs`; undefined when
   * no source has it.
   */
  getKey(
    serverName: string,
    keyId: string,
    minimumValidUntilTs?: number,
  ): Promise<ServerVerifyKey | undefined>;
  /**
   * True when `json` carries a valid signature by `serverName` with `keyId`, made with a key valid at
   * `atTs`. False (never a throw) for a missing signature, an unknown or unfetchable key, or a bad one.
   */
  verifyServerSignature(
    serverName: string,
    keyId: string,
    json: Readonly<Record<string, unknown>>,
    options?: VerifyOptions,
  ): Promise<boolean>;
  /** True when `json` carries at least one valid signature by `serverName` (any of its key ids). */
  verifySignedBy(
    serverName: string,
    json: Readonly<Record<string, unknown>>,
    options?: VerifyOptions,
  ): Promise<boolean>;
}

/** Answers `GET /_matrix/federation/v1/query/{queryType}` for one query type (`profile`, `directory`, …). */
export type FederationQueryHandler = (query: {
  readonly origin: string;
  readonly params: Readonly<Record<string, string | string[] | undefined>>;
}) => Promise<Readonly<Record<string, unknown>>>;

/** Receives one EDU of a type from an inbound transaction (`m.typing`, `m.receipt`, …). */
export type EduHandler = (edu: { readonly origin: string; readonly content: unknown }) => Promise<void>;

export interface FederationApi {
  readonly client: FederationClient;
  readonly keyRing: KeyRing;
  /** Whether federation with `serverName` is allowed (federation_domain_whitelist). */
  isDomainAllowed(serverName: string): boolean;
  /** Registers the handler of a `/query/{queryType}` type; a second handler for the same type throws. */
  registerQueryHandler(queryType: string, handler: FederationQueryHandler): void;
  /**
   * Registers the handler of an EDU type; inbound `/send` (federation part 2) dispatches to it. A second
   * handler for the same type throws.
   */
  registerEduHandler(eduType: string, handler: EduHandler): void;
  /**
   * Checks a request's X-Matrix signature and returns the origin (401 `M_UNAUTHORIZED` when missing or
   * bad, 403 when the origin is not in federation_domain_whitelist).
   */
  authenticateRequest(ctx: AxonContext): Promise<string>;
  /**
   * Queues an EDU for `destination` (server-server-api "EDUs"); it goes out in the destination's next
   * transaction. Volatile: kept in memory only, lost on restart and dropped after a long outage (typing,
   * receipts, presence). With `key`, it replaces a waiting EDU queued with the same key (e.g.
   * `typing:<room_id>`: only the latest typing state is sent). Our own name, invalid names and servers
   * outside federation_domain_whitelist are ignored.
   *
   * _Added in Axon 0.1._
   */
  sendEdu(destination: string, eduType: string, content: unknown, options?: { key?: string }): void;
  /**
   * Queues an EDU that must arrive (`m.direct_to_device`, `m.device_list_update`): stored in the database
   * before this resolves and sent in order until the destination accepts it, across restarts.
   *
   * _Added in Axon 0.1._
   */
  sendStoredEdu(destination: string, eduType: string, content: unknown): Promise<void>;
  /**
   * `serverName` is up (it spoke to us through another channel): ends its backoff and sends what waits for
   * it. Authenticated requests and answers to our requests already call this.
   */
  remoteServerUp(serverName: string): void;
}

/**
 * Wraps the handler of a federation endpoint another module serves: the request's X-Matrix signature is
 * checked first and the origin is in `ctx.state.federationOrigin`. When the federation module is disabled,
 * the endpoint answers 404 M_UNRECOGNIZED like every other federation endpoint.
 *
 * @example router.get('/_matrix/federation/v1/user/devices/:userId', federationAuthenticated(cradle, handler))
 */
export function federationAuthenticated(
  cradle: Cradle,
  handler: (ctx: AxonContext) => Promise<void>,
): (ctx: AxonContext, next?: Next) => Promise<void> {
  return async (ctx) => {
    if (!cradle.enabledModules.includes('federation')) {
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
    await cradle.federationApi.authenticateRequest(ctx);
    await handler(ctx);
  };
}

declare module '../../core/container.js' {
  interface Cradle {
    /** The public API of the federation module (see modules/federation/api.ts). */
    federationApi: FederationApi;
  }
}
