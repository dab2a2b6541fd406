/**
 * The test playing a remote server: events built on the room's head at A (read from A's container, as B
 * would learn it over federation) and signed with B's real signing key.
 */
import { authEventsSelection } from '../../../../core/protocol/auth-events-selection.js';
import { buildEvent, referenceHashOf } from '../../../../core/protocol/event-builder.js';
import { computeEventId, generateLegacyEventId } from '../../../../core/protocol/event-id.js';
import type { JsonObject, PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion, ROOM_VERSIONS } from '../../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../../core/protocol/signing.js';
import type { FederatedServer } from './test-federation.js';

export interface RemoteDraft {
  readonly sender: string;
  readonly type: string;
  readonly state_key?: string;
  readonly content: JsonObject;
  /** Defaults to now. */
  readonly origin_server_ts?: number;
}

/** The head of `roomId` at server `at`: prev_events, depth and auth events for a draft. */
export async function headAt(
  at: FederatedServer,
  roomId: string,
): Promise<{ prevEvents: string[]; depth: number; authFor: (d: RemoteDraft) => string[] }> {
  const head = (await at.kernel.container.cradle.roomsHeads.get(roomId))!;
  const state = new Map(head.state);
  return {
    prevEvents: [...head.extremities],
    depth: head.maxDepth + 1,
    authFor: (d) =>
      authEventsSelection(d, head.version)
        .map((k) => state.get(k)?.eventId)
        .filter((id): id is string => id !== undefined),
  };
}

/** An event of `from` (signed with its key) on `roomId`'s head at `at` (or on `base`, a head read earlier). */
export async function remoteEvent(
  at: FederatedServer,
  from: FederatedServer,
  roomId: string,
  draft: RemoteDraft,
  base?: Awaited<ReturnType<typeof headAt>>,
): Promise<{ eventId: string; pdu: PduJson }> {
  const head = base ?? (await headAt(at, roomId));
  const version = (await at.kernel.container.cradle.roomsHeads.get(roomId))!.version;
  // v1–2 reference events as [id, {sha256}]: the hashes of the events as A stores them.
  const referenced = await at.kernel.container.cradle.roomsEventStore.getEvents([
    ...head.prevEvents,
    ...head.authFor(draft),
  ]);
  const built = buildEvent({
    referenceHash: (id) => {
      const e = referenced.get(id);
      return e && referenceHashOf(e.pdu, version);
    },
    roomVersion: version,
    serverName: from.serverName,
    key: from.signingKey,
    partial: {
      room_id: roomId,
      ...draft,
      prev_events: head.prevEvents,
      auth_events: head.authFor(draft),
      depth: head.depth,
    },
  });
  return { eventId: built.eventId, pdu: built.pdu };
}

/** `from`'s user joins `roomId` at `at` the way a server does: make_join, sign the template, send_join v2. */
export async function joinFrom(
  at: FederatedServer,
  from: FederatedServer,
  roomId: string,
  userId: string,
): Promise<string> {
  const client = from.kernel.container.cradle.federationClient;
  const enc = encodeURIComponent;
  const template = (await client.request({
    method: 'GET',
    destination: at.serverName,
    path: `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}`,
    query: { ver: [...ROOM_VERSIONS.keys()] },
  })) as { room_version: string; event: PduJson };
  const version = getRoomVersion(template.room_version)!;
  const draft: PduJson = { ...template.event, origin_server_ts: Date.now() };
  // v1–2: the joining server names the event.
  if (version.eventIdFormat === 'v1') draft.event_id = generateLegacyEventId(from.serverName);
  const signed = hashAndSignEvent(draft, version, from.serverName, from.signingKey);
  const eventId = version.eventIdFormat === 'v1' ? signed.event_id! : computeEventId(signed, version);
  await client.request({
    method: 'PUT',
    destination: at.serverName,
    path: `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`,
    body: signed,
  });
  return eventId;
}
