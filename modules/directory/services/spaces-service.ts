/**
 * Spaces and summaries: GET /hierarchy over local rooms (spec: modules/spaces.md, space_hierarchy.yaml),
 * GET /room_summary (v1.15) and GET /mutual_rooms (v1.19).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isValidUserId } from '../../../core/protocol/identifiers.js';
import type { ClientEvent } from '../../rooms/api.js';
import type { AliasService } from './alias-service.js';
import { compareSpaceChildren } from './space-child-order.js';
import type { RoomChunk, RoomFacts, RoomStateView } from './room-facts.js';

type Deps = Pick<Cradle, 'roomsApi'> & {
  directoryRoomFacts: RoomFacts;
  directoryAliasService: AliasService;
};

export interface HierarchyQuery {
  readonly suggestedOnly: boolean;
  readonly maxDepth?: number;
  readonly limit?: number;
  readonly from?: string;
}

interface HierarchyCursor {
  /** Rooms still to visit, next first: [roomId, depth]. */
  q: [string, number][];
  /** Rooms already returned or skipped. */
  seen: string[];
  s: boolean;
  d: number | null;
}

const DEFAULT_HIERARCHY_LIMIT = 50;
const MAX_HIERARCHY_LIMIT = 100;
const MUTUAL_ROOMS_BATCH = 100;

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function encodeCursor(c: HierarchyCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(token: string): HierarchyCursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as HierarchyCursor;
    if (Array.isArray(c.q) && Array.isArray(c.seen) && typeof c.s === 'boolean') return c;
  } catch {
    // falls through to the error below
  }
  throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
}

export class SpacesService {
  constructor(private readonly deps: Deps) {}

  /** The valid m.space.child events of a space (non-empty `via`), in the spec's order; none for other rooms. */
  private children(state: RoomStateView, suggestedOnly: boolean): ClientEvent[] {
    if (state.roomType !== 'm.space') return [];
    return state
      .ofType('m.space.child')
      .filter((e) => Array.isArray(e.content['via']) && e.content['via'].length > 0)
      .filter((e) => !suggestedOnly || e.content['suggested'] === true)
      .sort(compareSpaceChildren);
  }

  async hierarchy(userId: string, roomId: string, query: HierarchyQuery) {
    const facts = this.deps.directoryRoomFacts;
    if (query.limit !== undefined && query.limit <= 0)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must be greater than zero');
    if (query.maxDepth !== undefined && query.maxDepth < 0)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'max_depth must not be negative');
    const root = await facts.state(roomId);
    if (!root || !(await facts.canSeeRoom(userId, root)))
      throw new MatrixError(403, 'M_FORBIDDEN', 'You cannot view this room');

    const maxDepth = query.maxDepth ?? null;
    let cursor: HierarchyCursor = { q: [[roomId, 0]], seen: [], s: query.suggestedOnly, d: maxDepth };
    if (query.from) {
      cursor = decodeCursor(query.from);
      if (cursor.s !== query.suggestedOnly || cursor.d !== maxDepth)
        throw new MatrixError(
          400,
          'M_INVALID_PARAM',
          'suggested_only and max_depth cannot change on paginated requests',
        );
      if (cursor.seen[0] !== roomId)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'Unknown pagination token');
    }
    const limit = Math.min(query.limit ?? DEFAULT_HIERARCHY_LIMIT, MAX_HIERARCHY_LIMIT);
    const seen = new Set(cursor.seen);
    const queue = [...cursor.q];
    const rooms: Record<string, unknown>[] = [];
    while (queue.length > 0 && rooms.length < limit) {
      const [current, depth] = queue.shift() as [string, number];
      if (seen.has(current)) continue;
      seen.add(current);
      const state = await facts.state(current);
      // Rooms unknown here would need federation; rooms the user may not see are left out.
      if (!state || !(await facts.canSeeRoom(userId, state))) continue;
      const children = this.children(state, cursor.s);
      rooms.push({
        ...(await facts.chunk(state)),
        ...facts.summaryExtras(state),
        children_state: children.map((e) => ({
          type: e.type,
          state_key: e.state_key ?? '',
          content: e.content,
          sender: e.sender,
          origin_server_ts: e.origin_server_ts,
        })),
      });
      if (maxDepth === null || depth < maxDepth) {
        const next = children.map((e): [string, number] => [e.state_key ?? '', depth + 1]);
        queue.unshift(...next.filter(([id]) => !seen.has(id)));
      }
    }
    const out: { rooms: Record<string, unknown>[]; next_batch?: string } = { rooms };
    if (queue.some(([id]) => !seen.has(id)))
      out.next_batch = encodeCursor({ q: queue, seen: [...seen], s: cursor.s, d: cursor.d });
    return out;
  }

  /** GET /room_summary/{roomIdOrAlias}: 404 for rooms unknown here or that the requester may not see. */
  async roomSummary(userId: string | undefined, roomIdOrAlias: string): Promise<Record<string, unknown>> {
    let roomId = roomIdOrAlias;
    if (roomIdOrAlias.startsWith('#')) {
      roomId = (await this.deps.directoryAliasService.resolveAlias(roomIdOrAlias)).room_id;
    } else if (!roomIdOrAlias.startsWith('!')) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `${roomIdOrAlias} is not a room id or alias`);
    }
    const facts = this.deps.directoryRoomFacts;
    const state = await facts.state(roomId);
    if (!state || !(await facts.canSeeRoom(userId, state)))
      throw new MatrixError(404, 'M_NOT_FOUND', 'Room not found or not accessible');
    const summary: RoomChunk & Record<string, unknown> = {
      ...(await facts.chunk(state)),
      ...facts.summaryExtras(state),
    };
    if (userId) summary['membership'] = state.membershipOf(userId) ?? 'leave';
    return summary;
  }

  /** GET /mutual_rooms: rooms both users are joined to, in room id order, in batches. */
  async mutualRooms(userId: string, otherUserId: string, from?: string) {
    if (!isValidUserId(otherUserId) || otherUserId === userId)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'The user ID provided was invalid');
    let after = '';
    if (from !== undefined) {
      const decoded = Buffer.from(from, 'base64url').toString('utf8');
      if (!decoded.startsWith('!')) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid from token');
      after = decoded;
    }
    const theirs = new Set(await this.deps.roomsApi.joinedRooms(otherUserId));
    const shared = (await this.deps.roomsApi.joinedRooms(userId))
      .filter((r) => theirs.has(r))
      .sort(compareStrings);
    const rest = shared.filter((r) => r > after);
    const joined = rest.slice(0, MUTUAL_ROOMS_BATCH);
    const out: { joined: string[]; count: number; next_batch?: string } = { joined, count: shared.length };
    const last = joined[joined.length - 1];
    if (rest.length > joined.length && last) out.next_batch = Buffer.from(last).toString('base64url');
    return out;
  }
}
