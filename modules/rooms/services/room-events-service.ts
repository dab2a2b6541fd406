/**
 * Sending messages and state as a user, redactions, and reading a room's state and members.
 */
import type { RoomHooks } from './hooks.js';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { splitStateKey, stateKey, type JsonObject, type StateKey } from '../../../core/protocol/pdu.js';
import type { StoredEvent } from '../store/event-rows.js';
import type { EventStore } from '../store/event-store.js';
import type { MembershipStore } from '../store/membership-store.js';
import type { StateStore } from '../store/state-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import { toClientEvent, type ClientEvent } from './client-events.js';
import type { EventSender, SentEvent } from './event-sender.js';
import type { Actor } from './membership-service.js';
import type { RoomReader } from './room-reader.js';
import { parseRoomToken } from './tokens.js';

export interface MembersQuery {
  readonly at?: string;
  readonly membership?: string;
  readonly notMembership?: string;
}

export class RoomEventsService {
  private readonly spamCheckers: Cradle['spamCheckers'];
  private readonly eventStore: EventStore;
  private readonly timelineStore: TimelineStore;
  private readonly stateStore: StateStore;
  private readonly membershipStore: MembershipStore;
  private readonly sender: EventSender;
  private readonly reader: RoomReader;
  private readonly hooks: RoomHooks;

  constructor({
    spamCheckers,
    roomsEventStore,
    roomsTimelineStore,
    roomsStateStore,
    roomsMembershipStore,
    roomsSender,
    roomsReader,
    roomsHookLists,
  }: Pick<
    Cradle,
    | 'spamCheckers'
    | 'roomsEventStore'
    | 'roomsTimelineStore'
    | 'roomsStateStore'
    | 'roomsMembershipStore'
    | 'roomsSender'
    | 'roomsReader'
    | 'roomsHookLists'
  >) {
    this.spamCheckers = spamCheckers;
    this.eventStore = roomsEventStore;
    this.timelineStore = roomsTimelineStore;
    this.stateStore = roomsStateStore;
    this.membershipStore = roomsMembershipStore;
    this.sender = roomsSender;
    this.reader = roomsReader;
    this.hooks = roomsHookLists;
  }

  /** PUT /rooms/{id}/send/{type}/{txnId}: idempotent per (user, device, txnId). */
  async sendMessage(
    actor: Actor,
    roomId: string,
    type: string,
    txnId: string,
    content: JsonObject,
  ): Promise<SentEvent> {
    if (type === 'm.room.redaction') {
      const redacts = content['redacts'];
      if (typeof redacts !== 'string')
        throw new MatrixError(400, 'M_BAD_JSON', 'm.room.redaction needs content.redacts');
      return this.redact(actor, roomId, redacts, txnId, content);
    }
    await this.reader.head(roomId);
    return this.sender.send({
      roomId,
      sender: actor.userId,
      type,
      content,
      txn: { deviceId: actor.deviceId ?? '', txnId },
    });
  }

  /**
   * PUT /rooms/{id}/state/{type}/{stateKey}. Resending the current content from the same sender returns
   * the existing event, as Synapse does.
   */
  async sendState(
    actor: Actor,
    roomId: string,
    type: string,
    key: string,
    content: JsonObject,
  ): Promise<SentEvent> {
    const head = await this.reader.head(roomId);
    await this.spamCheckers.assertAllowed('userMaySendStateEvent', {
      userId: actor.userId,
      roomId,
      eventType: type,
      stateKey: key,
      content,
    });
    for (const validate of this.hooks.stateValidators)
      await validate({ userId: actor.userId, roomId, type, stateKey: key, content });
    const current = head.state.get(stateKey(type, key));
    if (
      current &&
      current.pdu.sender === actor.userId &&
      JSON.stringify(current.pdu.content) === JSON.stringify(content)
    ) {
      const stored = await this.eventStore.getEvent(current.eventId);
      return {
        eventId: current.eventId,
        streamOrdering: stored?.streamOrdering ?? 0,
        roomId,
        deduplicated: true,
      };
    }
    if (type === 'm.room.member') {
      const membership = content['membership'];
      if (typeof membership !== 'string')
        throw new MatrixError(400, 'M_BAD_JSON', 'm.room.member needs content.membership');
      // Membership through the state endpoint asks the same spam checks as /join and /invite.
      if (membership === 'join') {
        const current = head.state.get(stateKey('m.room.member', key))?.pdu.content['membership'];
        await this.spamCheckers.assertAllowed('userMayJoinRoom', {
          userId: key,
          roomId,
          isInvited: current === 'invite',
        });
      } else if (membership === 'invite') {
        await this.spamCheckers.assertAllowed('userMayInvite', {
          inviter: actor.userId,
          invitee: key,
          roomId,
        });
      }
    }
    return this.sender.send({ roomId, sender: actor.userId, type, stateKey: key, content });
  }

  /** PUT /rooms/{id}/redact/{eventId}/{txnId}. */
  async redact(
    actor: Actor,
    roomId: string,
    eventId: string,
    txnId: string,
    content: JsonObject,
  ): Promise<SentEvent> {
    await this.reader.requireJoined(actor.userId, roomId);
    const target = await this.eventStore.getEvent(eventId);
    if (target && target.roomId !== roomId) throw new MatrixError(404, 'M_NOT_FOUND', 'Event not found.');
    const body: JsonObject = { ...content };
    delete body['redacts'];
    return this.sender.send({
      roomId,
      sender: actor.userId,
      type: 'm.room.redaction',
      content: body,
      redacts: eventId,
      redactionTargetSender: target?.sender,
      txn: { deviceId: actor.deviceId ?? '', txnId },
    });
  }

  /** GET /rooms/{id}/state. */
  async state(actor: Actor, roomId: string): Promise<ClientEvent[]> {
    const scope = await this.reader.readScope(actor.userId, roomId);
    return this.reader.format(await this.reader.stateEvents(scope), actor);
  }

  /** GET /rooms/{id}/state/{type}/{stateKey}: the event (for `format=event`) or its content. */
  async stateEvent(actor: Actor, roomId: string, type: string, key: string): Promise<ClientEvent> {
    const scope = await this.reader.readScope(actor.userId, roomId);
    let event: StoredEvent | undefined;
    if (scope.kind === 'current') event = await this.stateStore.currentStateEvent(roomId, type, key);
    else {
      const id = (await this.reader.stateAfter(scope.lastEvent)).get(stateKey(type, key));
      event = id ? await this.eventStore.getEvent(id) : undefined;
    }
    if (!event) throw new MatrixError(404, 'M_NOT_FOUND', `Event not found.`);
    return toClientEvent(event);
  }

  /** GET /rooms/{id}/members with `at`, `membership`, `not_membership`. */
  async members(actor: Actor, roomId: string, query: MembersQuery): Promise<ClientEvent[]> {
    const scope = await this.reader.readScope(actor.userId, roomId);
    let state: Map<StateKey, string> | undefined;
    if (query.at !== undefined) {
      const token = parseRoomToken(query.at, 'at');
      const pos =
        token.kind === 'topo'
          ? token.pos
          : await this.timelineStore.topoPositionAtStream(roomId, token.stream);
      const [event] = await this.timelineStore.roomEventsTopological(roomId, pos, 'b', 1);
      state = event ? await this.reader.stateAfter(event) : new Map();
    } else if (scope.kind === 'until') {
      state = await this.reader.stateAfter(scope.lastEvent);
    }
    let events: StoredEvent[];
    if (state) {
      const ids = [...state].filter(([k]) => splitStateKey(k)[0] === 'm.room.member').map(([, id]) => id);
      events = [...(await this.eventStore.getEvents(ids)).values()];
    } else {
      const rows = await this.membershipStore.membersOfRoom(roomId);
      events = [...(await this.eventStore.getEvents(rows.map((r) => r.eventId))).values()];
    }
    events = events.filter((e) => {
      const m = e.membership ?? (e.pdu.content['membership'] as string | undefined);
      if (query.membership !== undefined && m !== query.membership) return false;
      if (query.notMembership !== undefined && m === query.notMembership) return false;
      return true;
    });
    events.sort((a, b) => (a.stateKey ?? '').localeCompare(b.stateKey ?? ''));
    return this.reader.format(events, actor);
  }

  /** GET /rooms/{id}/joined_members: members must be joined (Synapse also allows world_readable peeks). */
  async joinedMembers(
    actor: Actor,
    roomId: string,
  ): Promise<Record<string, { display_name: string | null; avatar_url: string | null }>> {
    const scope = await this.reader.readScope(actor.userId, roomId);
    if (scope.kind !== 'current')
      throw new MatrixError(403, 'M_FORBIDDEN', `User ${actor.userId} is not in room ${roomId}`);
    const out: Record<string, { display_name: string | null; avatar_url: string | null }> = {};
    for (const [k, e] of scope.head.state) {
      const [type, userId] = splitStateKey(k);
      if (type !== 'm.room.member' || e.pdu.content['membership'] !== 'join') continue;
      const dn = e.pdu.content['displayname'];
      const av = e.pdu.content['avatar_url'];
      out[userId] = {
        display_name: typeof dn === 'string' ? dn : null,
        avatar_url: typeof av === 'string' ? av : null,
      };
    }
    return out;
  }
}
