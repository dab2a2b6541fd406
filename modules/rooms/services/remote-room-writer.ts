/**
 * Stores a validated remote join (remote-join-validator.ts) in ONE transaction, through the one commit
 * step (`EventPersister.persistEvents`, whose `prelude` writes first):
 *
 *  - the room row (unless we knew the room already: a rejoin, or a room we were invited to);
 *  - every event of the answer (state and auth chain) as an outlier: a `rooms_events` row at a negative
 *    stream ordering (store/remote-room-store.ts), so no timeline shows it, with its edges;
 *  - the state before the join as one snapshot state group, which is also every outlier's state group: a
 *    read positioned before the join (sync's state before its timeline) finds that state;
 *  - the room's current state and memberships from it;
 *  - then the join itself, the room's first timeline event, as any event is committed: its state group is
 *    the one-entry delta off the snapshot, and the room head moves to it (forward extremities = the join).
 */
import type { Cradle } from '../../../core/container.js';
import { referenceIds } from '../../../core/protocol/event-references.js';
import type { StateKey } from '../../../core/protocol/pdu.js';
import type { NewEvent, StoredEvent } from '../store/event-rows.js';
import type { RemoteRoomStore } from '../store/remote-room-store.js';
import type { RoomStore } from '../store/room-store.js';
import type { StateStore } from '../store/state-store.js';
import type { EventPersister } from './event-persister.js';
import type { CheckedPdu, ValidatedJoin } from './remote-join-validator.js';
import type { HeadStateEvent, RoomHead, RoomHeads } from './room-heads.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import type { Sql } from '../../../core/storage/sql.js';

/** Attempts of a join's transaction when another one took the same outlier stream orderings. */
const MAX_ATTEMPTS = 3;

type Deps = Pick<
  Cradle,
  | 'roomsRoomStore'
  | 'roomsStateStore'
  | 'roomsRemoteRoomStore'
  | 'roomsEventPersister'
  | 'roomsHeads'
  | 'roomsOutOfBand'
>;

export class RemoteRoomWriter {
  private readonly roomStore: RoomStore;
  private readonly stateStore: StateStore;
  private readonly store: RemoteRoomStore;
  private readonly persister: EventPersister;
  private readonly heads: RoomHeads;
  private readonly outOfBand: Deps['roomsOutOfBand'];

  constructor({
    roomsRoomStore,
    roomsStateStore,
    roomsRemoteRoomStore,
    roomsEventPersister,
    roomsHeads,
    roomsOutOfBand,
  }: Deps) {
    this.roomStore = roomsRoomStore;
    this.stateStore = roomsStateStore;
    this.store = roomsRemoteRoomStore;
    this.persister = roomsEventPersister;
    this.heads = roomsHeads;
    this.outOfBand = roomsOutOfBand;
  }

  /**
   * Persists the joined room and announces the join (sync wakes); returns the stored join. On PostgreSQL
   * two joins of different rooms may pick the same negative stream orderings for their outliers (neither
   * sees the other's uncommitted rows): the loser's unique violation rolls it back and it tries again.
   */
  async persist(roomId: string, joined: ValidatedJoin): Promise<StoredEvent> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.persistOnce(roomId, joined);
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  private async persistOnce(roomId: string, joined: ValidatedJoin): Promise<StoredEvent> {
    const stored = await this.heads.withRoomLock(roomId, async () => {
      const existing = await this.roomStore.getRoom(roomId);
      const lastStream = existing?.lastStream ?? 0;
      const start: RoomHead = {
        roomId,
        version: joined.version,
        lastStream,
        maxDepth: 0,
        extremities: [],
        stateGroup: null,
        chainLength: 0,
        state: new Map(),
      };
      const creator = joined.create.pdu.content['creator'];
      const [persisted] = await this.persister.persistEvents(
        start,
        [{ eventId: joined.join.eventId, pdu: joined.join.pdu }],
        {
          newRoom: existing
            ? undefined
            : {
                roomId,
                roomVersion: joined.version.id,
                creator: typeof creator === 'string' ? creator : joined.create.pdu.sender,
                visibility: 'private',
                createdTs: Date.now(),
                lastStream: 0,
                maxDepth: 0,
                forwardExtremities: [],
                stateGroup: null,
              },
          prelude: (sql) => this.writeState(roomId, joined, lastStream, sql),
        },
      );
      return persisted!.stored;
    });
    await this.persister.announce(stored);
    return stored;
  }

  /** The outliers, the state before the join, current state and memberships; the head the join builds on. */
  private async writeState(
    roomId: string,
    joined: ValidatedJoin,
    lastStream: number,
    sql: Sql,
  ): Promise<RoomHead> {
    // An invite or knock of ours in this room was an out-of-band outlier: the room's own events replace it.
    await this.outOfBand.clearRoom(roomId, sql);
    const stateIds = new Map<StateKey, string>();
    for (const [key, e] of joined.state) stateIds.set(key, e.eventId);
    const group = await this.stateStore.createStateGroup(roomId, null, 0, stateIds, () => stateIds, sql);

    // Oldest (lowest depth) first, so the outliers' stream order follows the room's order.
    const events = [...joined.events.values()].sort((x, y) => x.pdu.depth - y.pdu.depth);
    const lowest = await this.store.lowestStreamOrdering(sql);
    const streamOf = new Map<string, number>();
    events.forEach((e, i) => streamOf.set(e.eventId, lowest - events.length + i));
    await this.store.insertOutliers(
      events.map((e) => ({
        event: outlierRow(roomId, e, group.id),
        streamOrdering: streamOf.get(e.eventId)!,
      })),
      sql,
    );
    await this.store.insertEdges(
      events.flatMap((e) => [
        ...referenceIds(e.pdu.prev_events).map((id) => [e.eventId, id, 'p'] as const),
        ...referenceIds(e.pdu.auth_events).map((id) => [e.eventId, id, 'a'] as const),
      ]),
      sql,
    );
    const state = [...joined.state.values()];
    await this.store.replaceCurrentState(
      roomId,
      state.map((e) => [e.pdu.type, e.pdu.state_key!, e.eventId] as const),
      sql,
    );
    await this.store.setMemberships(
      roomId,
      state.flatMap((e) => {
        const membership = e.pdu.content['membership'];
        return e.pdu.type === 'm.room.member' && typeof membership === 'string'
          ? [
              {
                userId: e.pdu.state_key!,
                membership,
                eventId: e.eventId,
                streamOrdering: streamOf.get(e.eventId)!,
              },
            ]
          : [];
      }),
      sql,
    );
    const headState = new Map<StateKey, HeadStateEvent>();
    for (const [key, e] of joined.state) {
      headState.set(key, { eventId: e.eventId, pdu: e.pdu, streamOrdering: streamOf.get(e.eventId)! });
    }
    return {
      roomId,
      version: joined.version,
      lastStream,
      maxDepth: Math.max(0, ...state.map((e) => e.pdu.depth)),
      extremities: [],
      stateGroup: group.id,
      chainLength: group.chainLength,
      state: headState,
    };
  }
}

function outlierRow(roomId: string, e: CheckedPdu, stateGroup: number): NewEvent {
  const { pdu } = e;
  const membership = pdu.content['membership'];
  return {
    eventId: e.eventId,
    roomId,
    type: pdu.type,
    stateKey: pdu.state_key ?? null,
    sender: pdu.sender,
    depth: pdu.depth,
    originServerTs: pdu.origin_server_ts,
    pdu,
    unsigned: undefined,
    rejectedReason: null,
    stateGroup,
    membership: pdu.type === 'm.room.member' && typeof membership === 'string' ? membership : null,
    relatesTo: null,
    relType: null,
  };
}
