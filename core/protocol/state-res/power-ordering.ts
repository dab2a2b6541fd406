/**
 * Power events and the reverse topological power ordering (spec: rooms/fragments/v2-state-res.md).
 */
import { createEventIdForRoomId } from '../auth-rules/create-rules.js';
import type { AuthEvent } from '../auth-rules/types.js';
import { userPowerLevelFrom } from '../power-levels.js';
import type { RoomVersion } from '../room-versions.js';
import { authIds } from './auth-chain.js';
import type { EventCache } from './event-cache.js';
import { MinHeap } from './min-heap.js';

/** Power levels, join rules, and kicks/bans of someone else: events that can take abilities away. */
export function isPowerEvent(event: AuthEvent): boolean {
  const { pdu } = event;
  if (pdu.state_key === '' && (pdu.type === 'm.room.power_levels' || pdu.type === 'm.room.join_rules'))
    return true;
  if (pdu.type === 'm.room.member' && typeof pdu.state_key === 'string') {
    const m = pdu.content['membership'];
    return (m === 'leave' || m === 'ban') && pdu.sender !== pdu.state_key;
  }
  return false;
}

/** The create event an event's auth relies on: cited in `auth_events`, or (v12+) named by the room id. */
export function createEventFor(
  event: AuthEvent,
  cache: EventCache,
  version: RoomVersion,
): AuthEvent | undefined {
  if (version.roomIdIsCreateEventHash) {
    const roomId = event.pdu.room_id;
    const id = typeof roomId === 'string' ? createEventIdForRoomId(roomId) : undefined;
    return id === undefined ? undefined : cache.get(id);
  }
  for (const a of authIds(event)) {
    const e = cache.get(a);
    if (e?.pdu.type === 'm.room.create' && e.pdu.state_key === '') return e;
  }
  return undefined;
}

/** The v12+ create event id for an event, so it can be loaded up front. */
export function createEventIdFor(event: AuthEvent, version: RoomVersion): string | undefined {
  const roomId = event.pdu.room_id;
  return version.roomIdIsCreateEventHash && typeof roomId === 'string'
    ? createEventIdForRoomId(roomId)
    : undefined;
}

/** The power events' sender levels "when looking at their respective auth_events". */
function senderPower(event: AuthEvent, cache: EventCache, version: RoomVersion): number {
  let powerLevels: AuthEvent | undefined;
  for (const a of authIds(event)) {
    const e = cache.get(a);
    if (e?.pdu.type === 'm.room.power_levels' && e.pdu.state_key === '') {
      powerLevels = e;
      break;
    }
  }
  return userPowerLevelFrom(powerLevels, createEventFor(event, cache, version), event.pdu.sender, version);
}

/**
 * Step 1 of the algorithm: the power events of the full conflicted set, enlarged with the events of
 * their auth chains that are in the full conflicted set, sorted by the reverse topological power
 * ordering (Kahn's algorithm, smallest ready vertex first: higher sender power, then earlier
 * origin_server_ts, then lower event id).
 *
 * Like other implementations, the enlargement and the graph follow only `auth_events` edges that stay
 * inside the full conflicted set; all servers must agree on this order, so we match them.
 */
export async function sortPowerEvents(
  cache: EventCache,
  fullConflicted: ReadonlySet<string>,
  version: RoomVersion,
): Promise<string[]> {
  const edges = new Map<string, string[]>(); // event → its auth events within the set
  const stack: string[] = [];
  for (const id of fullConflicted) {
    const e = cache.get(id);
    if (e && isPowerEvent(e)) stack.push(id);
  }
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (edges.has(id)) continue;
    const e = cache.get(id);
    const inSet = e ? [...new Set(authIds(e))].filter((a) => fullConflicted.has(a) && cache.has(a)) : [];
    edges.set(id, inSet);
    for (const a of inSet) if (!edges.has(a)) stack.push(a);
  }

  // Sender power needs each event's power levels auth event and create event.
  const needed: string[] = [];
  for (const id of edges.keys()) {
    const e = cache.get(id)!;
    needed.push(...authIds(e));
    const createId = createEventIdFor(e, version);
    if (createId !== undefined) needed.push(createId);
  }
  await cache.load(needed);

  interface Vertex {
    readonly id: string;
    readonly power: number;
    readonly ts: number;
  }
  const vertices = new Map<string, Vertex>();
  for (const id of edges.keys()) {
    const e = cache.get(id)!;
    vertices.set(id, { id, power: senderPower(e, cache, version), ts: e.pdu.origin_server_ts });
  }
  return kahn(edges, vertices, (x, y) => {
    if (x.power !== y.power) return x.power > y.power;
    if (x.ts !== y.ts) return x.ts < y.ts;
    return x.id < y.id;
  });
}

/** Lexicographically smallest topological order of `edges` (child → parents first) under `less`. */
function kahn<V extends { readonly id: string }>(
  edges: ReadonlyMap<string, readonly string[]>,
  vertices: ReadonlyMap<string, V>,
  less: (a: V, b: V) => boolean,
): string[] {
  const waitingOn = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  const heap = new MinHeap<V>(less);
  for (const [id, parents] of edges) {
    waitingOn.set(id, parents.length);
    for (const p of parents) {
      const list = dependents.get(p);
      if (list) list.push(id);
      else dependents.set(p, [id]);
    }
    if (parents.length === 0) heap.push(vertices.get(id)!);
  }
  const order: string[] = [];
  for (let v = heap.pop(); v !== undefined; v = heap.pop()) {
    order.push(v.id);
    for (const d of dependents.get(v.id) ?? []) {
      const left = waitingOn.get(d)! - 1;
      waitingOn.set(d, left);
      if (left === 0) heap.push(vertices.get(d)!);
    }
  }
  return order;
}
