/**
 * The in-memory head of each recently written room: version, forward extremities, depth, current state
 * group and the current state with its events (what the auth rules and the event builder need). The send
 * path reads it instead of the database; it is checked against the room row's `last_stream` inside every
 * write transaction, so a write by another process is noticed and the head reloaded.
 */
import type { Cradle } from '../../../core/container.js';
import { LRUCache } from 'lru-cache';
import type { AuthEvent } from '../../../core/protocol/auth-rules/index.js';
import { stateKey, type StateKey } from '../../../core/protocol/pdu.js';
import { getRoomVersion, type RoomVersion } from '../../../core/protocol/room-versions.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import type { RoomRow, RoomStore } from '../store/room-store.js';
import type { StateStore } from '../store/state-store.js';

/** A current state event; `streamOrdering` once it is persisted (not on a head built speculatively). */
export interface HeadStateEvent extends AuthEvent {
  readonly streamOrdering?: number;
}

export interface RoomHead {
  readonly roomId: string;
  readonly version: RoomVersion;
  lastStream: number;
  maxDepth: number;
  extremities: string[];
  stateGroup: number | null;
  chainLength: number;
  /** Current state: (type, state_key) → the event. */
  readonly state: Map<StateKey, HeadStateEvent>;
}

export class RoomHeads {
  private readonly heads = new LRUCache<string, RoomHead>({ max: 2000 });
  private readonly locks = new Map<string, Promise<unknown>>();

  private readonly roomStore: RoomStore;
  private readonly stateStore: StateStore;

  constructor({ roomsRoomStore, roomsStateStore }: Pick<Cradle, 'roomsRoomStore' | 'roomsStateStore'>) {
    this.roomStore = roomsRoomStore;
    this.stateStore = roomsStateStore;
  }

  /** The head of a room, loaded on first use; undefined for an unknown room. */
  async get(roomId: string, trx?: Queryable): Promise<RoomHead | undefined> {
    const cached = this.heads.get(roomId);
    if (cached) return cached;
    const room = await this.roomStore.getRoom(roomId, trx);
    if (!room) return undefined;
    return this.load(room, trx);
  }

  /** Reloads from `room` (already read, possibly under lock) and caches the result. */
  async load(room: RoomRow, trx?: Queryable): Promise<RoomHead> {
    const version = getRoomVersion(room.roomVersion);
    if (!version) throw new Error(`room ${room.roomId} has unknown room version ${room.roomVersion}`);
    const events = await this.stateStore.currentStateEvents(room.roomId, trx);
    const state = new Map<StateKey, HeadStateEvent>();
    for (const e of events) {
      const entry = { eventId: e.eventId, pdu: e.pdu, streamOrdering: e.streamOrdering };
      state.set(stateKey(e.type, e.stateKey ?? ''), entry);
    }
    const info =
      room.stateGroup === null ? undefined : await this.stateStore.stateGroupInfo(room.stateGroup, trx);
    const head: RoomHead = {
      roomId: room.roomId,
      version,
      lastStream: room.lastStream,
      maxDepth: room.maxDepth,
      extremities: [...room.forwardExtremities],
      stateGroup: room.stateGroup,
      chainLength: info?.chainLength ?? 0,
      state,
    };
    this.heads.set(room.roomId, head);
    return head;
  }

  set(head: RoomHead): void {
    this.heads.set(head.roomId, head);
  }

  /** The cached head of a room, if any (no database read). */
  peek(roomId: string): RoomHead | undefined {
    return this.heads.get(roomId);
  }

  invalidate(roomId: string): void {
    this.heads.delete(roomId);
  }

  /**
   * Runs `fn` with the room's in-process write lock held: writes to one room queue up here, so concurrent
   * sends never race for the same forward extremities (the database lock covers other processes).
   */
  async withRoomLock<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(roomId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(roomId, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(roomId) === tail) this.locks.delete(roomId);
    }
  }
}
