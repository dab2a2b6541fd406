/**
 * What the directory reads about a local room from its current state: the public summary (publicRooms
 * chunk, room summary, hierarchy entry), who may see it (spec: GET /hierarchy's accessibility rules) and
 * power checks against `m.room.power_levels`.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import {
  powerLevelsFromContent,
  requiredPowerForEvent,
  userPowerLevelFrom,
} from '../../../core/protocol/power-levels.js';
import { getRoomVersion } from '../../../core/protocol/room-versions.js';
import type { ClientEvent } from '../../rooms/api.js';

type Deps = Pick<Cradle, 'roomsApi'>;

/** A room's current state keyed by `type\0state_key`. */
export class RoomStateView {
  constructor(
    readonly roomId: string,
    readonly roomVersion: string,
    private readonly events: ReadonlyMap<string, ClientEvent>,
  ) {}

  get(type: string, stateKey = ''): ClientEvent | undefined {
    return this.events.get(`${type}\u0000${stateKey}`);
  }

  /** A string field of a state event's content, or undefined. */
  str(type: string, field: string): string | undefined {
    const v = this.get(type)?.content[field];
    return typeof v === 'string' ? v : undefined;
  }

  ofType(type: string): ClientEvent[] {
    return [...this.events.values()].filter((e) => e.type === type);
  }

  membershipOf(userId: string): string | undefined {
    const m = this.get('m.room.member', userId)?.content['membership'];
    return typeof m === 'string' ? m : undefined;
  }

  get joinRule(): string {
    return this.str('m.room.join_rules', 'join_rule') ?? 'invite';
  }

  get worldReadable(): boolean {
    return this.str('m.room.history_visibility', 'history_visibility') === 'world_readable';
  }

  get roomType(): string | undefined {
    const v = this.get('m.room.create')?.content['type'];
    return typeof v === 'string' ? v : undefined;
  }

  /** The room ids of a restricted join rule's `m.room_membership` allow entries. */
  get allowedRoomIds(): string[] {
    const allow = this.get('m.room.join_rules')?.content['allow'];
    if (!Array.isArray(allow)) return [];
    const out: string[] = [];
    for (const a of allow) {
      if (typeof a !== 'object' || a === null || Array.isArray(a)) continue;
      const entry = a as Record<string, unknown>;
      if (entry['type'] === 'm.room_membership' && typeof entry['room_id'] === 'string')
        out.push(entry['room_id']);
    }
    return out;
  }
}

/** The fields of a public rooms chunk (and of a room summary). */
export interface RoomChunk {
  room_id: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  avatar_url?: string;
  room_type?: string;
  [key: string]: unknown;
}

export class RoomFacts {
  private readonly roomsApi: Cradle['roomsApi'];

  constructor({ roomsApi }: Deps) {
    this.roomsApi = roomsApi;
  }

  /** The current state of a room this server knows, or undefined. */
  async state(roomId: string): Promise<RoomStateView | undefined> {
    const version = await this.roomsApi.roomVersion(roomId);
    if (!version) return undefined;
    const events = new Map<string, ClientEvent>();
    for (const e of await this.roomsApi.currentState(roomId))
      events.set(`${e.type}\u0000${e.state_key ?? ''}`, e);
    return new RoomStateView(roomId, version, events);
  }

  /** The current state, or 404 M_NOT_FOUND. */
  async requireState(roomId: string): Promise<RoomStateView> {
    const state = await this.state(roomId);
    if (!state) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
    return state;
  }

  async chunk(state: RoomStateView, joinedMembers?: number): Promise<RoomChunk> {
    const count =
      joinedMembers ?? (await this.roomsApi.joinedMemberCounts([state.roomId])).get(state.roomId) ?? 0;
    const chunk: RoomChunk = {
      room_id: state.roomId,
      num_joined_members: count,
      world_readable: state.worldReadable,
      guest_can_join: state.str('m.room.guest_access', 'guest_access') === 'can_join',
      join_rule: state.joinRule,
    };
    const optional: [keyof RoomChunk, string | undefined][] = [
      ['name', state.str('m.room.name', 'name')],
      ['topic', state.str('m.room.topic', 'topic')],
      ['canonical_alias', state.str('m.room.canonical_alias', 'alias')],
      ['avatar_url', state.str('m.room.avatar', 'url')],
      ['room_type', state.roomType],
    ];
    for (const [key, value] of optional) if (value) chunk[key] = value;
    return chunk;
  }

  /** The summary fields added in v1.15 (room summary and hierarchy). */
  summaryExtras(state: RoomStateView): Record<string, unknown> {
    const out: Record<string, unknown> = { room_version: state.roomVersion };
    const encryption = state.str('m.room.encryption', 'algorithm');
    if (encryption) out['encryption'] = encryption;
    if (state.joinRule === 'restricted' || state.joinRule === 'knock_restricted')
      out['allowed_room_ids'] = state.allowedRoomIds;
    return out;
  }

  /**
   * Whether `userId` (undefined: an unauthenticated client) may learn about the room: joined or invited,
   * a public or knockable join rule, a restricted rule they satisfy, or world_readable history.
   */
  async canSeeRoom(userId: string | undefined, state: RoomStateView): Promise<boolean> {
    const rule = state.joinRule;
    if (rule === 'public' || rule === 'knock' || rule === 'knock_restricted') return true;
    if (state.worldReadable) return true;
    if (!userId) return false;
    const membership = state.membershipOf(userId);
    if (membership === 'join' || membership === 'invite') return true;
    if (rule === 'restricted') {
      const joined = new Set(await this.roomsApi.joinedRooms(userId));
      return state.allowedRoomIds.some((id) => joined.has(id));
    }
    return false;
  }

  /** Whether `userId` has the power to send the state event `type` in the room. */
  hasPowerFor(userId: string, state: RoomStateView, type: string): boolean {
    const version = getRoomVersion(state.roomVersion);
    if (!version) return false;
    const asAuth = (e: ClientEvent | undefined) =>
      e
        ? { eventId: e.event_id, pdu: { sender: e.sender, content: e.content } as unknown as PduJson }
        : undefined;
    const plEvent = state.get('m.room.power_levels');
    const level = userPowerLevelFrom(asAuth(plEvent), asAuth(state.get('m.room.create')), userId, version);
    const needed = requiredPowerForEvent(powerLevelsFromContent(plEvent?.content, version), type, true);
    return level >= needed;
  }
}
