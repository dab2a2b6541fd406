/**
 * The transport of joins of rooms this server is not in: rooms' `FederationMembershipPort`
 * (modules/rooms/api.ts), registered in the federation module's `start()`. `/query/directory`, make_join
 * (each candidate server in turn), send_join v2 (knocks, leaves and invites: membership-handshakes.ts). Errors become what the client
 * should see, as Synapse answers: a candidate that cannot be reached or fails (5xx, timeout) hands over to
 * the next; a 4xx from a resident is relayed (403 invite-only, 400 incompatible version), except 404 and
 * M_UNABLE_TO_GRANT_JOIN, which try the next server too; nobody reachable → 502.
 */
import { MatrixError } from '../../../core/errors.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import type { VerifyKeyLookup } from '../../../core/protocol/pdu-signatures.js';
import { isValidRoomId, isValidServerName, parseRoomAlias } from '../../../core/protocol/identifiers.js';
import type { FederationMembershipPort } from '../../rooms/api.js';
import { FederationRequestError, type FederationClient, type KeyRing } from '../api.js';

/** A send_join answer carries the room's whole state and auth chain: Synapse allows 500 MiB. */
const SEND_JOIN_MAX_BYTES = 500 * 1024 * 1024;
/** A resident has this long to assemble a large room's state. */
const SEND_JOIN_TIMEOUT_MS = 120_000;

export interface RemoteMembershipDeps {
  readonly client: FederationClient;
  readonly keyRing: KeyRing;
}

const enc = encodeURIComponent;

export class RemoteMembershipTransport implements FederationMembershipPort {
  readonly keys: VerifyKeyLookup;

  constructor(private readonly deps: RemoteMembershipDeps) {
    this.keys = {
      getVerifyKey: (server, keyId, minimumValidUntilTs) =>
        deps.keyRing.getKey(server, keyId, minimumValidUntilTs || undefined),
    };
  }

  async queryDirectory(alias: string): Promise<{ roomId: string; servers: string[] }> {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room alias: ${alias}`);
    let answer: unknown;
    try {
      answer = await this.deps.client.request({
        method: 'GET',
        destination: parsed.serverName,
        path: '/_matrix/federation/v1/query/directory',
        query: { room_alias: alias },
      });
    } catch (err) {
      if (!(err instanceof FederationRequestError)) throw err;
      if (err.kind === 'http' && err.status === 404) {
        throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
      }
      throw new MatrixError(502, 'M_UNKNOWN', `Could not resolve ${alias}: ${err.message}`);
    }
    const body = (answer ?? {}) as { room_id?: unknown; servers?: unknown };
    if (typeof body.room_id !== 'string' || !isValidRoomId(body.room_id)) {
      throw new MatrixError(
        502,
        'M_UNKNOWN',
        `${parsed.serverName} answered the alias query without a room id`,
      );
    }
    const servers = Array.isArray(body.servers)
      ? body.servers.filter((s): s is string => typeof s === 'string' && isValidServerName(s))
      : [];
    // The alias's server first: it answered, so it is up, and it most likely is in the room.
    return { roomId: body.room_id, servers: [...new Set([parsed.serverName, ...servers])] };
  }

  async makeJoin(request: {
    readonly roomId: string;
    readonly userId: string;
    readonly servers: readonly string[];
    readonly supportedVersions: readonly string[];
  }): Promise<{ origin: string; roomVersion: string; event: unknown }> {
    const { roomId, userId } = request;
    let last: FederationRequestError | undefined;
    for (const destination of request.servers) {
      try {
        const answer = (await this.deps.client.request({
          method: 'GET',
          destination,
          path: `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}`,
          query: { ver: request.supportedVersions },
        })) as { room_version?: unknown; event?: unknown } | null;
        // Servers before v1.1 may omit room_version (then "1"); the template is checked by rooms.
        const roomVersion = typeof answer?.room_version === 'string' ? answer.room_version : '1';
        return { origin: destination, roomVersion, event: answer?.event };
      } catch (err) {
        if (!(err instanceof FederationRequestError)) throw err;
        last = err;
        if (isRelayed(err)) throw relay(err);
      }
    }
    if (last?.kind === 'http' && last.status !== undefined && last.status < 500) throw relay(last);
    throw new MatrixError(
      502,
      'M_UNKNOWN',
      `Failed to make_join via any server${last ? ` (${last.message})` : ''}`,
    );
  }

  async sendJoin(origin: string, roomId: string, eventId: string, pdu: PduJson): Promise<unknown> {
    try {
      return await this.deps.client.request({
        method: 'PUT',
        destination: origin,
        path: `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`,
        body: pdu,
        maxResponseBytes: SEND_JOIN_MAX_BYTES,
        timeoutMs: SEND_JOIN_TIMEOUT_MS,
      });
    } catch (err) {
      if (!(err instanceof FederationRequestError)) throw err;
      if (err.kind === 'http' && err.status !== undefined && err.status < 500) throw relay(err);
      throw new MatrixError(502, 'M_UNKNOWN', `Failed to send_join to ${origin}: ${err.message}`);
    }
  }
}

/** A resident's refusal the client should see at once (not worth asking another server). */
function isRelayed(err: FederationRequestError): boolean {
  return (
    err.kind === 'http' &&
    err.status !== undefined &&
    err.status >= 400 &&
    err.status < 500 &&
    err.status !== 404 &&
    err.status !== 429 &&
    err.errcode !== 'M_UNABLE_TO_GRANT_JOIN'
  );
}

/** The resident's Matrix error as ours (its errcode and message; extra fields such as room_version kept). */
function relay(err: FederationRequestError): MatrixError {
  const body = (typeof err.body === 'object' && err.body !== null ? err.body : {}) as Record<string, unknown>;
  const { errcode: _c, error, ...extra } = body;
  return new MatrixError(
    err.status ?? 502,
    err.errcode ?? 'M_UNKNOWN',
    typeof error === 'string' ? error : err.message,
    extra,
  );
}
