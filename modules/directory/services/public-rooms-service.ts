/**
 * The room directory (spec: client-server-api "Room directory"): a room's published visibility and the
 * public rooms list with search, room type filter and opaque offset tokens.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { AliasStore } from '../store/alias-store.js';
import type { DirectoryRules } from './directory-rules.js';
import type { RemotePublicRooms, RemotePublicRoomsService } from './remote-public-rooms.js';
import type { RoomChunk, RoomFacts } from './room-facts.js';

type Deps = Pick<Cradle, 'serverName' | 'spamCheckers' | 'roomsApi' | 'authApi' | 'enabledModules'> & {
  directoryRemotePublicRooms: RemotePublicRoomsService;
  directoryAliasStore: AliasStore;
  directoryRoomFacts: RoomFacts;
  directoryRules: DirectoryRules;
};

export interface PublicRoomsQuery {
  readonly limit?: number;
  readonly since?: string;
  readonly server?: string;
  readonly searchTerm?: string;
  /** Room types to keep; `null` stands for rooms without a type. */
  readonly roomTypes?: readonly (string | null)[];
  readonly thirdPartyInstanceId?: string;
  /** Asked of another server: include every network (only sent on, no bridges here). */
  readonly includeAllNetworks?: boolean;
  /** For another server: leave out rooms created with `m.federate: false` (as Synapse). */
  readonly federatableOnly?: boolean;
}

export interface PublicRoomsPage {
  chunk: RoomChunk[];
  total_room_count_estimate: number;
  next_batch?: string;
  prev_batch?: string;
}

const MAX_LIMIT = 500;

function encodeOffset(offset: number): string {
  return Buffer.from(`o${offset}`).toString('base64url');
}

function decodeOffset(token: string): number {
  const raw = Buffer.from(token, 'base64url').toString('utf8');
  const m = /^o(\d{1,9})$/.exec(raw);
  if (!m?.[1]) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
  return Number(m[1]);
}

export class PublicRoomsService {
  constructor(private readonly deps: Deps) {}

  async getVisibility(roomId: string): Promise<'public' | 'private'> {
    await this.deps.directoryRoomFacts.requireState(roomId);
    const published = await this.deps.roomsApi.listRooms({ visibility: 'public' });
    return published.some((r) => r.roomId === roomId) ? 'public' : 'private';
  }

  /** PUT /directory/list/room/{roomId}: the power to send m.room.canonical_alias, or a server admin. */
  async setVisibility(userId: string, roomId: string, visibility: 'public' | 'private'): Promise<void> {
    const state = await this.deps.directoryRoomFacts.requireState(roomId);
    if (
      !this.deps.directoryRoomFacts.hasPowerFor(userId, state, 'm.room.canonical_alias') &&
      (await this.deps.authApi.getUser(userId))?.admin !== true
    )
      throw new MatrixError(403, 'M_FORBIDDEN', 'You do not have permission to change the room visibility');
    if (visibility === 'public') {
      if (!this.deps.directoryRules.roomListEnabled)
        throw new MatrixError(
          403,
          'M_FORBIDDEN',
          'This user is not permitted to publish rooms to the room list',
        );
      await this.deps.spamCheckers.assertAllowed('userMayPublishRoom', { userId, roomId });
      // room_list_publication_rules, over the room's local aliases and its canonical and alternative ones
      const aliases = new Set(await this.deps.directoryAliasStore.aliasesOfRoom(roomId));
      const canonical = state.get('m.room.canonical_alias')?.content;
      if (typeof canonical?.['alias'] === 'string') aliases.add(canonical['alias']);
      if (Array.isArray(canonical?.['alt_aliases']))
        for (const a of canonical['alt_aliases']) if (typeof a === 'string') aliases.add(a);
      if (!this.deps.directoryRules.mayPublishRoom(userId, roomId, [...aliases]))
        throw new MatrixError(403, 'M_FORBIDDEN', 'Not allowed to publish room');
    }
    await this.deps.roomsApi.setRoomVisibility(roomId, visibility);
  }

  /** GET/POST /publicRooms: the most joined first, then by room id. */
  async publicRooms(query: PublicRoomsQuery): Promise<PublicRoomsPage | RemotePublicRooms> {
    if (query.server !== undefined && query.server !== this.deps.serverName) {
      if (this.deps.enabledModules.includes('federation'))
        return this.deps.directoryRemotePublicRooms.list(query.server, { ...query, server: undefined });
      throw new MatrixError(400, 'M_INVALID_PARAM', `Cannot list the rooms of ${query.server}`);
    }
    if (!this.deps.directoryRules.roomListEnabled) return { chunk: [], total_room_count_estimate: 0 };
    if (query.limit !== undefined && query.limit < 0)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must not be negative');
    const offset = query.since ? decodeOffset(query.since) : 0;
    // No bridges here: a third-party network has no rooms.
    const rows = query.thirdPartyInstanceId
      ? []
      : await this.deps.roomsApi.listRooms({ visibility: 'public' });
    const counts = await this.deps.roomsApi.joinedMemberCounts(rows.map((r) => r.roomId));
    const aliases = await this.deps.directoryAliasStore.aliasesOfRooms(rows.map((r) => r.roomId));
    const all: RoomChunk[] = [];
    for (const row of rows) {
      const state = await this.deps.directoryRoomFacts.state(row.roomId);
      if (!state) continue;
      if (query.federatableOnly && state.get('m.room.create')?.content['m.federate'] === false) continue;
      all.push(await this.deps.directoryRoomFacts.chunk(state, counts.get(row.roomId) ?? 0));
    }
    const term = query.searchTerm?.toLowerCase();
    const types = query.roomTypes;
    const matching = all.filter((c) => {
      if (types && !types.includes(c.room_type ?? null)) return false;
      if (!term) return true;
      const fields = [c.name, c.topic, c.canonical_alias, ...(aliases.get(c.room_id) ?? [])];
      return fields.some((f) => f?.toLowerCase().includes(term));
    });
    matching.sort((a, b) =>
      b.num_joined_members !== a.num_joined_members
        ? b.num_joined_members - a.num_joined_members
        : a.room_id < b.room_id
          ? -1
          : a.room_id > b.room_id
            ? 1
            : 0,
    );
    const limit = Math.min(query.limit ?? matching.length, MAX_LIMIT);
    const page: PublicRoomsPage = {
      chunk: matching.slice(offset, offset + limit),
      total_room_count_estimate: matching.length,
    };
    if (offset + limit < matching.length) page.next_batch = encodeOffset(offset + limit);
    if (offset > 0) page.prev_batch = encodeOffset(Math.max(0, offset - limit));
    return page;
  }
}
