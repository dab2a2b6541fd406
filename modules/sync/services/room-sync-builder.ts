/**
 * One room's part of a sync response: the timeline (filtered, limited, prev_batch), the state before it
 * (full for a new room or full_state, the delta across the gap when the timeline is limited, lazy-loaded
 * members), ephemeral events, room account data, the summary and unread counts.
 */
import type { RoomUnreadCounts, SyncEventJson } from '../api.js';
import {
  applyEventFields,
  DEFAULT_TIMELINE_LIMIT,
  limitEvents,
  matchesRoom,
  matchesRoomEventFilter,
  type RoomEventFilter,
  type SyncFilter,
} from './filter.js';
import type {
  EventFormatOption,
  MembershipAt,
  SyncRoomEvent,
  SyncRoomsSource,
  TimelineSlice,
} from './rooms-source.js';
import type { SyncToken } from './sync-token.js';
import { growingLru } from '../../../core/lru.js';

export type JsonRecord = Record<string, unknown>;

export interface RoomSyncContext {
  readonly userId: string;
  readonly deviceId: string | null;
  readonly filter: SyncFilter;
  readonly since: SyncToken | undefined;
  readonly to: SyncToken;
  readonly fullState: boolean;
  readonly useStateAfter: boolean;
  readonly ignored: ReadonlySet<string>;
}

export interface JoinedRoomInput {
  readonly newlyJoined: boolean;
  readonly hasEvents: boolean;
  readonly ephemeral: readonly SyncEventJson[];
  readonly accountData: readonly SyncEventJson[];
  readonly counts: RoomUnreadCounts | undefined;
}

type Timeline = TimelineSlice;

/** Whether the filter asks for events in federation format (the source then reads their PDUs too). */
function eventFormat(ctx: RoomSyncContext): EventFormatOption {
  return { federationFormat: ctx.filter.event_format === 'federation' };
}

export class RoomSyncBuilder {
  /**
   * Membership event ids already sent to a device per room, so lazy loading can skip redundant members.
   * Losing an entry only makes a response send a member again, which the spec allows.
   */
  private readonly sentMembers = growingLru<string, Map<string, string>>(10_000);

  constructor(private readonly rooms: () => SyncRoomsSource) {}

  async joined(
    ctx: RoomSyncContext,
    roomId: string,
    input: JoinedRoomInput,
  ): Promise<JsonRecord | undefined> {
    const from = input.newlyJoined || !ctx.since ? 0 : ctx.since.events;
    const timeline: Timeline =
      input.newlyJoined || input.hasEvents
        ? await this.timeline(ctx, roomId, from, ctx.to.events)
        : { events: [], limited: false, prevBatch: `s${ctx.to.events}`, start: ctx.to.events };
    const state = await this.state(ctx, roomId, timeline, input.newlyJoined, ctx.to.events);
    const ephemeral = limitEvents(ctx.filter.room?.ephemeral, input.ephemeral).filter(() =>
      matchesRoom(ctx.filter.room?.ephemeral, roomId),
    );
    const accountData = limitEvents(ctx.filter.room?.account_data, input.accountData).filter(() =>
      matchesRoom(ctx.filter.room?.account_data, roomId),
    );
    if (
      !input.newlyJoined &&
      !ctx.fullState &&
      timeline.events.length === 0 &&
      state.length === 0 &&
      ephemeral.length === 0 &&
      accountData.length === 0
    ) {
      return undefined;
    }
    const room: JsonRecord = {
      timeline: this.timelineJson(ctx, timeline),
      ephemeral: { events: ephemeral.map((e) => this.shapeSimple(ctx, e)) },
      account_data: { events: accountData.map((e) => this.shapeSimple(ctx, e)) },
    };
    if (ctx.useStateAfter) {
      room['state_after'] = { events: await this.stateAfter(ctx, roomId, input.newlyJoined, ctx.to.events) };
    } else {
      room['state'] = { events: state.map((e) => this.shape(ctx, e)) };
    }
    const membersChanged = [...timeline.events, ...state].some((e) => e.event.type === 'm.room.member');
    if (input.newlyJoined || membersChanged) room['summary'] = await this.summary(ctx, roomId);
    if (input.counts) {
      if (ctx.filter.room?.timeline?.unread_thread_notifications) {
        room['unread_notifications'] = { ...input.counts.main };
        room['unread_thread_notifications'] = { ...(input.counts.threads ?? {}) };
      } else {
        // Without thread notifications the spec wants room-wide totals: the main timeline plus every thread.
        const total = { ...input.counts.main };
        for (const c of Object.values(input.counts.threads ?? {})) {
          total.notification_count += c.notification_count;
          total.highlight_count += c.highlight_count;
        }
        room['unread_notifications'] = total;
      }
    }
    return room;
  }

  /** A room the user left (or was kicked or banned from): what happened up to the leave, then nothing more. */
  async left(
    ctx: RoomSyncContext,
    m: MembershipAt,
    accountData: readonly SyncEventJson[],
  ): Promise<JsonRecord> {
    const upTo = Math.min(m.stream, ctx.to.events);
    const leftInWindow = ctx.since !== undefined && !ctx.fullState && m.stream > ctx.since.events;
    const from = leftInWindow && ctx.since ? ctx.since.events : 0;
    const timeline = await this.timeline(ctx, m.roomId, from, upTo);
    const fresh = from === 0;
    const state = await this.state(ctx, m.roomId, timeline, fresh, upTo);
    const room: JsonRecord = {
      timeline: this.timelineJson(ctx, timeline),
      account_data: {
        events: limitEvents(ctx.filter.room?.account_data, accountData).map((e) => this.shapeSimple(ctx, e)),
      },
    };
    if (ctx.useStateAfter)
      room['state_after'] = { events: await this.stateAfter(ctx, m.roomId, fresh, upTo) };
    else room['state'] = { events: state.map((e) => this.shape(ctx, e)) };
    return room;
  }

  /** The newest `limit` events in `(from, to]` that pass the timeline filter and are not from ignored users. */
  private async timeline(ctx: RoomSyncContext, roomId: string, from: number, to: number): Promise<Timeline> {
    const filter = ctx.filter.room?.timeline;
    const limit = filter?.limit ?? DEFAULT_TIMELINE_LIMIT;
    const viewer = { userId: ctx.userId, deviceId: ctx.deviceId };
    if (!matchesRoom(filter, roomId) || limit === 0) {
      const probe = await this.rooms().timeline(roomId, { from, to, limit: 1, viewer });
      return { events: [], limited: probe.events.length > 0, prevBatch: probe.prevBatch, start: to };
    }
    const slice = await this.rooms().timeline(roomId, {
      from,
      to,
      limit,
      viewer,
      ignored: ctx.ignored,
      ...eventFormat(ctx),
      filter: {
        types: filter?.types,
        not_types: filter?.not_types,
        senders: filter?.senders,
        not_senders: filter?.not_senders,
        contains_url: filter?.contains_url,
        related_by_senders: filter?.related_by_senders,
        related_by_rel_types: filter?.related_by_rel_types,
      },
    });
    // Spec "Ignoring Users": state events of an ignored user are still sent; everything else is hidden.
    const events = slice.events.filter(
      (e) => e.event.state_key !== undefined || !ctx.ignored.has(e.event.sender),
    );
    return { ...slice, events };
  }

  /**
   * State before the timeline: everything for a new room (or full_state), the changes since `since` when the
   * timeline does not reach back to it (a gap), nothing otherwise (the timeline carries the changes). With lazy
   * loading, membership events are kept only for the timeline's senders (and the user on a new room), except
   * those that changed in a gap, which the spec requires.
   */
  private async state(
    ctx: RoomSyncContext,
    roomId: string,
    timeline: Timeline,
    fresh: boolean,
    to: number,
  ): Promise<SyncRoomEvent[]> {
    const filter = ctx.filter.room?.state;
    const lazy = filter?.lazy_load_members === true;
    const full = fresh || ctx.fullState;
    const start = timeline.events.length > 0 ? timeline.start : to;
    const gap = !full && timeline.limited;
    const format = eventFormat(ctx);
    let state: SyncRoomEvent[] = [];
    let before: SyncRoomEvent[] | undefined;
    if (full || (lazy && timeline.events.length > 0))
      before = await this.rooms().stateAt(roomId, start, format);
    if (full) state = before ?? [];
    else if (gap && ctx.since) state = await this.rooms().stateDelta(roomId, ctx.since.events, start, format);
    else if (ctx.since && timeline.events.length > 0) {
      // Forks met in the window and state resolution changed the state: as Synapse, the changes the
      // timeline does not carry go in `state` (state at the end that is neither known nor in the timeline).
      const inTimeline = new Set(timeline.events.map((e) => e.event.event_id));
      state = (await this.rooms().resolvedStateDelta(roomId, ctx.since.events, to, format)).filter(
        (e) => !inTimeline.has(e.event.event_id),
      );
    }
    if (!matchesRoom(filter, roomId)) return [];
    state = state.filter((e) => matchesRoomEventFilter(filter, e.event));
    if (!lazy) return this.relatedOnly(filter, state);

    const senders = new Set(timeline.events.map((e) => e.event.sender));
    if (full) senders.add(ctx.userId);
    const inState = new Set(state.map((e) => e.event.event_id));
    const kept = state.filter(
      (e) => e.event.type !== 'm.room.member' || gap || senders.has(e.event.state_key ?? ''),
    );
    // Members who sent in the timeline but whose membership did not change in the window.
    for (const e of before ?? []) {
      if (e.event.type !== 'm.room.member' || inState.has(e.event.event_id)) continue;
      if (senders.has(e.event.state_key ?? '') && matchesRoomEventFilter(filter, e.event)) kept.push(e);
    }
    const related = await this.relatedOnly(filter, kept);
    return this.dropRedundant(ctx, roomId, related, filter?.include_redundant_members === true, full);
  }

  /**
   * The filter's `related_by_senders` / `related_by_rel_types` on state: not in the spec (MSC3440); Synapse
   * applies its whole state filter, these included, to the state it sends (`filter_room_state`), so a state
   * event is kept only when a matching relation points to it. One read, and none without either list.
   */
  private async relatedOnly(
    filter: RoomEventFilter | undefined,
    events: SyncRoomEvent[],
  ): Promise<SyncRoomEvent[]> {
    const senders = filter?.related_by_senders?.length ? filter.related_by_senders : undefined;
    const relTypes = filter?.related_by_rel_types?.length ? filter.related_by_rel_types : undefined;
    if ((!senders && !relTypes) || events.length === 0) return events;
    const related = await this.rooms().relatedBy(
      events.map((e) => e.event.event_id),
      { ...(senders ? { senders } : {}), ...(relTypes ? { relTypes } : {}) },
    );
    return events.filter((e) => related.has(e.event.event_id));
  }

  /** Lazy loading without include_redundant_members: skip member events this device already has. */
  private dropRedundant(
    ctx: RoomSyncContext,
    roomId: string,
    state: SyncRoomEvent[],
    includeRedundant: boolean,
    reset: boolean,
  ): SyncRoomEvent[] {
    const key = `${ctx.userId}|${ctx.deviceId ?? ''}|${roomId}`;
    if (reset || !ctx.since) this.sentMembers.delete(key);
    let sent = this.sentMembers.get(key);
    if (!sent) this.sentMembers.set(key, (sent = new Map()));
    const out: SyncRoomEvent[] = [];
    for (const e of state) {
      if (e.event.type === 'm.room.member') {
        const member = e.event.state_key ?? '';
        if (!includeRedundant && sent.get(member) === e.event.event_id) continue;
        sent.set(member, e.event.event_id);
      }
      out.push(e);
    }
    return out;
  }

  /** `state_after` (use_state_after): the state changes between `since` and the end of the timeline. */
  private async stateAfter(
    ctx: RoomSyncContext,
    roomId: string,
    fresh: boolean,
    to: number,
  ): Promise<JsonRecord[]> {
    const format = eventFormat(ctx);
    const changed =
      fresh || ctx.fullState || !ctx.since
        ? await this.rooms().stateAt(roomId, to, format)
        : await this.rooms().stateDelta(roomId, ctx.since.events, to, format);
    const filter = ctx.filter.room?.state;
    const kept = await this.relatedOnly(
      filter,
      changed.filter((e) => matchesRoomEventFilter(filter, e.event)),
    );
    return kept.map((e) => this.shape(ctx, e));
  }

  private timelineJson(ctx: RoomSyncContext, timeline: Timeline): JsonRecord {
    return {
      events: timeline.events.map((e) => this.shape(ctx, e)),
      limited: timeline.limited,
      prev_batch: timeline.prevBatch,
    };
  }

  /** `m.heroes` (up to 5 other members, joined then invited) and the member counts. */
  private async summary(ctx: RoomSyncContext, roomId: string): Promise<JsonRecord> {
    const { joined, invited } = await this.rooms().members(roomId);
    const heroes = [...joined, ...invited].filter((u) => u !== ctx.userId).slice(0, 5);
    return {
      'm.heroes': heroes,
      'm.joined_member_count': joined.length,
      'm.invited_member_count': invited.length,
    };
  }

  /**
   * A room event in the requested format, with only `event_fields`. The client format drops `room_id` (it is
   * the key); the federation format is the PDU as is (Synapse keeps its `room_id` too).
   */
  private shape(ctx: RoomSyncContext, e: SyncRoomEvent): JsonRecord {
    let out: JsonRecord;
    if (ctx.filter.event_format === 'federation' && e.pdu) out = { ...(e.pdu as JsonRecord) };
    else {
      out = { ...e.event };
      delete out['room_id'];
    }
    return applyEventFields(out, ctx.filter.event_fields);
  }

  private shapeSimple(ctx: RoomSyncContext, e: SyncEventJson): JsonRecord {
    return applyEventFields({ ...e }, ctx.filter.event_fields);
  }
}
