/**
 * The test playing server B against a resident server A (both real Axon servers over TLS): B's signed
 * requests to A, joining A's rooms through make_join + send_join with B's real key, and catching errors.
 */
import { computeEventId } from '../../../../core/protocol/event-id.js';
import { stateKey, type PduJson, type StateKey } from '../../../../core/protocol/pdu.js';
import { getRoomVersion, ROOM_VERSIONS } from '../../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../../core/protocol/signing.js';
import type { FederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const enc = encodeURIComponent;

export interface ResidentPeer {
  /** B asks A (signed with B's key). */
  ask(
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    options?: { body?: unknown; query?: Record<string, string | string[]> },
  ): Promise<Json>;
  /** B's `user` joins A's room; returns the join's id and A's send_join answer. */
  join(roomId: string, user: string): Promise<{ eventId: string; answer: Json }>;
}

export function residentPeer(a: FederatedServer, b: FederatedServer): ResidentPeer {
  const ask: ResidentPeer['ask'] = (method, path, options = {}) =>
    b.kernel.container.cradle.federationClient.request({
      method,
      destination: a.serverName,
      path,
      ...options,
    });
  return {
    ask,
    async join(roomId, user) {
      const template = await ask('GET', `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(user)}`, {
        query: { ver: [...ROOM_VERSIONS.keys()] },
      });
      const version = getRoomVersion(template.room_version as string)!;
      const signed = hashAndSignEvent(
        { ...(template.event as PduJson), origin_server_ts: Date.now() },
        version,
        b.serverName,
        b.signingKey,
      );
      const eventId = version.eventIdFormat === 'v1' ? signed.event_id! : computeEventId(signed, version);
      const answer = await ask('PUT', `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`, {
        body: signed,
      });
      return { eventId, answer };
    },
  };
}

/**
 * Copies A's room, as it is now, into B's database through B's rooms persister (B has no remote join of
 * its own here): B then holds the same events, signed by their origins, and serves its real endpoints.
 */
export async function mirrorRoom(from: FederatedServer, to: FederatedServer, roomId: string): Promise<void> {
  const src = from.kernel.container.cradle;
  const dst = to.kernel.container.cradle;
  // The copy is the test's instrument: what it holds reaches `from` only when the test says so (its
  // outbound fan-out would otherwise send its users' events on its own).
  await dst.federationFanout.stop();
  const head = (await src.roomsHeads.get(roomId))!;
  const events = await src.roomsTimelineStore.roomEventsTopological(
    roomId,
    { depth: 0, stream: 0 },
    'f',
    100_000,
  );
  const create = events[0]!;
  await dst.roomsHeads.withRoomLock(roomId, () =>
    dst.roomsEventPersister.persistEvents(
      {
        roomId,
        version: head.version,
        lastStream: 0,
        maxDepth: 0,
        extremities: [],
        stateGroup: null,
        chainLength: 0,
        state: new Map(),
      },
      events.map((e) => ({ eventId: e.eventId, pdu: e.pdu })),
      {
        newRoom: {
          roomId,
          roomVersion: head.version.id,
          creator: create.sender,
          visibility: 'private',
          createdTs: Date.now(),
          lastStream: 0,
          maxDepth: 0,
          forwardExtremities: [],
          stateGroup: null,
        },
      },
    ),
  );
}

/**
 * What a remote join leaves on the joining server, made directly through rooms' services (the joining
 * side is not built on this branch): `joiner`'s user joined `resident`'s room through make_join/send_join
 * (signed with the joiner's key); the joiner stores the answer's state and auth chain as outliers (checked),
 * then the join as the room's first timeline event, with that state as the room's current state.
 */
export async function seedRemoteJoin(
  joiner: FederatedServer,
  resident: FederatedServer,
  roomId: string,
  userId: string,
): Promise<string> {
  const { eventId, answer } = await residentPeer(resident, joiner).join(roomId, userId);
  const c = joiner.kernel.container.cradle;
  const state = answer.state as PduJson[];
  const createPdu = state.find((p) => p.type === 'm.room.create')!;
  const version = getRoomVersion((createPdu.content['room_version'] as string | undefined) ?? '1')!;
  const entry = (p: PduJson): [StateKey, { eventId: string; pdu: PduJson }] => [
    stateKey(p.type, p.state_key ?? ''),
    { eventId: computeEventId(p, version), pdu: p },
  ];
  const head = {
    roomId,
    version,
    lastStream: 0,
    maxDepth: 0,
    extremities: [],
    stateGroup: null,
    chainLength: 0,
    state: new Map([entry(createPdu)]),
  };
  const remote = c.roomsHookLists.remoteRooms!;
  await c.roomsMissingEvents.storeOutliers(
    head,
    [...state, ...(answer.auth_chain as PduJson[])],
    remote.readsOf(resident.serverName),
    remote.keys,
  );
  const joined = { ...head, state: new Map(state.map(entry)) };
  await c.roomsHeads.withRoomLock(roomId, () =>
    c.roomsEventPersister.persistEvents(joined, [{ eventId, pdu: answer.event as PduJson }], {
      newRoom: {
        roomId,
        roomVersion: version.id,
        creator: createPdu.sender,
        visibility: 'private',
        createdTs: Date.now(),
        lastStream: 0,
        maxDepth: 0,
        forwardExtremities: [],
        stateGroup: null,
      },
    }),
  );
  for (const p of state) {
    if (p.type === 'm.room.member' && p.state_key === userId) continue;
    await c.roomsStateStore.setCurrentState(roomId, p.type, p.state_key ?? '', computeEventId(p, version));
  }
  c.roomsHeads.invalidate(roomId);
  return eventId;
}

export { failure } from './test-federation.js';
