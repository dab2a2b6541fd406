/**
 * Rooms' `RemoteEventSource` port over the signed federation client: one other server's room reads
 * (get_missing_events, state_ids, state, event, event_auth, backfill), the answers' shapes checked here
 * (the PDUs themselves are checked by the receive pipeline). Every failure throws.
 */
import type { RemoteEventSource } from '../../rooms/api.js';
import { FederationRequestError, type FederationClient } from '../api.js';

/** How long one read may take (Synapse gives get_missing_events a minute too). */
const READ_TIMEOUT_MS = 60_000;

const enc = encodeURIComponent;

function objectList(server: string, value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new FederationRequestError(server, 'http', `${what} is not a list`);
  return value.filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
}

function idList(server: string, value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) {
    throw new FederationRequestError(server, 'http', `${what} is not a list of event ids`);
  }
  return value;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

export function remoteEventSource(client: FederationClient, server: string): RemoteEventSource {
  const get = (path: string, query?: Record<string, string | readonly string[]>): Promise<unknown> =>
    client.request({
      method: 'GET',
      destination: server,
      path,
      timeoutMs: READ_TIMEOUT_MS,
      ...(query ? { query } : {}),
    });
  return {
    server,
    async getMissingEvents(roomId, q) {
      const body = await client.request({
        method: 'POST',
        destination: server,
        path: `/_matrix/federation/v1/get_missing_events/${enc(roomId)}`,
        body: { earliest_events: q.earliest, latest_events: q.latest, limit: q.limit, min_depth: q.minDepth },
        timeoutMs: READ_TIMEOUT_MS,
      });
      return objectList(server, field(body, 'events'), 'events');
    },
    async stateIds(roomId, eventId) {
      const body = await get(`/_matrix/federation/v1/state_ids/${enc(roomId)}`, { event_id: eventId });
      return {
        stateIds: idList(server, field(body, 'pdu_ids'), 'pdu_ids'),
        authChainIds: idList(server, field(body, 'auth_chain_ids'), 'auth_chain_ids'),
      };
    },
    async state(roomId, eventId) {
      const body = await get(`/_matrix/federation/v1/state/${enc(roomId)}`, { event_id: eventId });
      return {
        state: objectList(server, field(body, 'pdus'), 'pdus'),
        authChain: objectList(server, field(body, 'auth_chain'), 'auth_chain'),
      };
    },
    async event(eventId) {
      const body = await get(`/_matrix/federation/v1/event/${enc(eventId)}`);
      const [pdu] = objectList(server, field(body, 'pdus'), 'pdus');
      if (pdu === undefined) throw new FederationRequestError(server, 'http', 'no PDU in the answer');
      return pdu;
    },
    async eventAuth(roomId, eventId) {
      const body = await get(`/_matrix/federation/v1/event_auth/${enc(roomId)}/${enc(eventId)}`);
      return objectList(server, field(body, 'auth_chain'), 'auth_chain');
    },
    async backfill(roomId, from, limit) {
      const body = await get(`/_matrix/federation/v1/backfill/${enc(roomId)}`, {
        v: from,
        limit: String(limit),
      });
      return objectList(server, field(body, 'pdus'), 'pdus');
    },
  };
}
