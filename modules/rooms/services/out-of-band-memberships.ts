/**
 * Memberships of local users in rooms this server is not in: an invite another server sent, a knock we sent
 * to another server, the leave that rejected or retracted either (server-server-api "Inviting to a room",
 * "Knocking upon a room", "Leaving Rooms"). The membership event is stored as an outlier row of
 * `rooms_events` — no state group, no edges, no room head — so it takes a position in the `events` stream and
 * sync finds it like any membership (`rooms.invite` with `invite_state` from its `unsigned.invite_room_state`,
 * `rooms.knock` with `knock_state`); `rooms_out_of_band_memberships` records which rows those are, the room
 * version and the servers to ask about the room.
 *
 * When this server comes to hold the room (a remote join), `clearRoom` removes the outliers in the join's
 * transaction, so the room's real events (which may include the very invite) are stored as they come.
 */
import type { Cradle } from '../../../core/container.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import { sqlTransaction, type Sql } from '../../../core/storage/sql.js';
import type { EventStore } from '../store/event-store.js';
import type { MembershipStore } from '../store/membership-store.js';
import type { OutOfBandMembership, OutOfBandStore } from '../store/out-of-band-store.js';
import type { StreamTracker } from './stream-tracker.js';

export type { OutOfBandMembership } from '../store/out-of-band-store.js';

/** A stripped state event, as clients see it with an invite or knock. */
export interface StrippedState {
  readonly type: string;
  readonly state_key: string;
  readonly sender: string;
  readonly content: Readonly<Record<string, unknown>>;
}

export interface OutOfBandEvent {
  readonly eventId: string;
  /** The membership event, signed as the room needs it. */
  readonly pdu: PduJson;
  readonly roomVersion: string;
  /** Servers that are in the room (the inviter's, the one that answered the knock). */
  readonly servers: readonly string[];
  /** The room's state as the remote server described it (invite_room_state / knock_room_state), stripped. */
  readonly strippedState?: readonly StrippedState[];
}

type Deps = Pick<
  Cradle,
  'db' | 'notifier' | 'roomsEventStore' | 'roomsMembershipStore' | 'roomsOutOfBandStore' | 'roomsStreams'
>;

export class OutOfBandMemberships {
  private readonly db: Deps['db'];
  private readonly notifier: Deps['notifier'];
  private readonly eventStore: EventStore;
  private readonly membershipStore: MembershipStore;
  private readonly store: OutOfBandStore;
  private readonly streams: StreamTracker;

  constructor({
    db,
    notifier,
    roomsEventStore,
    roomsMembershipStore,
    roomsOutOfBandStore,
    roomsStreams,
  }: Deps) {
    this.db = db;
    this.notifier = notifier;
    this.eventStore = roomsEventStore;
    this.membershipStore = roomsMembershipStore;
    this.store = roomsOutOfBandStore;
    this.streams = roomsStreams;
  }

  get(roomId: string, userId: string): Promise<OutOfBandMembership | undefined> {
    return this.store.get(roomId, userId);
  }

  /**
   * Stores `event` (an m.room.member of a local user) as that user's membership in a room we are not in,
   * replacing an earlier out-of-band one; wakes the user's sync. Returns the stream position, or undefined
   * when the event was stored already.
   */
  async save(event: OutOfBandEvent): Promise<number | undefined> {
    const { pdu, eventId } = event;
    const userId = pdu.state_key ?? '';
    const roomId = pdu.room_id ?? '';
    const membership = membershipOf(pdu);
    const reservations: number[] = [];
    try {
      const position = await sqlTransaction(this.db, async (sql) => {
        if (await this.eventStore.getEventIn(sql, eventId)) return undefined;
        const previous = await this.store.getIn(sql, roomId, userId);
        if (previous) await this.store.deleteOutlierEvent(previous.eventId, sql);
        const stream = await this.insertOutlier(event, sql, reservations);
        await this.membershipStore.setMembership(roomId, userId, membership, eventId, stream, sql);
        await this.store.upsert(
          { roomId, userId, membership, eventId, roomVersion: event.roomVersion, servers: event.servers },
          sql,
        );
        return stream;
      });
      if (position === undefined) return undefined;
      this.streams.committed(position);
      this.notifier.publish({ stream: 'events', position, roomIds: [roomId], userIds: [userId] });
      return position;
    } finally {
      for (const n of reservations) this.streams.release(n);
    }
  }

  /**
   * This server now holds `roomId` for real (a remote join is being persisted): drops its out-of-band
   * membership events in the caller's transaction, before the room's own events are stored (the invite may
   * be among them). The memberships themselves are overwritten by the room's membership rows.
   */
  async clearRoom(roomId: string, sql: Sql): Promise<void> {
    for (const m of await this.store.ofRoomIn(sql, roomId)) {
      await this.store.deleteOutlierEvent(m.eventId, sql);
      await this.store.delete(roomId, m.userId, sql);
    }
  }

  private async insertOutlier(event: OutOfBandEvent, sql: Sql, reservations: number[]): Promise<number> {
    const { pdu } = event;
    const membership = membershipOf(pdu);
    let reserved: number | undefined;
    if (this.eventStore.reservesStreamOrdering) {
      reserved = await this.streams.reserve(() => this.eventStore.reserveStreamOrdering(sql));
      reservations.push(reserved);
    }
    const stateKey = membership === 'knock' ? 'knock_room_state' : 'invite_room_state';
    return this.eventStore.insertEvent(
      {
        eventId: event.eventId,
        roomId: pdu.room_id ?? '',
        type: pdu.type,
        stateKey: pdu.state_key ?? null,
        sender: pdu.sender,
        depth: pdu.depth,
        originServerTs: pdu.origin_server_ts,
        pdu,
        unsigned: event.strippedState ? { [stateKey]: [...event.strippedState] } : undefined,
        rejectedReason: null,
        stateGroup: null,
        membership,
        relatesTo: null,
        relType: null,
      },
      sql,
      reserved,
    );
  }
}

function membershipOf(pdu: PduJson): string {
  const membership = pdu.content['membership'];
  return typeof membership === 'string' ? membership : '';
}
