/**
 * The local send path (ARCHITECTURE.md "The flow of an event"), as three jobs:
 *
 *   queue   (this file)          a room's sends wait here; whoever holds the room lock takes them all
 *   build   (event-builder.ts)   each on the head left by the previous one: signed, authorised, spam-checked
 *   commit  (event-persister.ts) the batch in one transaction — the step federation will enter at too
 *
 * Writes to a room are serialised by an in-process lock and, across processes, by the room head's
 * optimistic `last_stream` check inside the transaction.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { BuiltEvent } from '../../../core/protocol/event-builder.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';
import type { RoomVersion } from '../../../core/protocol/room-versions.js';
import { growingLru } from '../../../core/lru.js';
import type { EventStore } from '../store/event-store.js';
import type { TxnStore } from '../store/txn-store.js';
import { afterBuilt, type LocalEventBuilder, type SendRequest } from './event-builder.js';
import {
  HeadMoved,
  TxnReplayed,
  type EventPersister,
  type EventToPersist,
  type Persisted,
} from './event-persister.js';
import type { RoomHead, RoomHeads } from './room-heads.js';

export type { SendRequest } from './event-builder.js';

export interface SentEvent {
  readonly eventId: string;
  readonly streamOrdering: number;
  readonly roomId: string;
  /** True when the txn id had been used: nothing new was sent. */
  readonly deduplicated: boolean;
}

/** How many queued sends of one room go into one transaction. */
const MAX_BATCH = 64;

type Outcome = { readonly next: Persisted; readonly built: BuiltEvent } | TxnReplayed | HeadMoved;

interface Pending {
  readonly req: SendRequest;
  resolve(outcome: Outcome): void;
  reject(err: unknown): void;
}

type Deps = Pick<
  Cradle,
  'roomsHeads' | 'roomsEventBuilder' | 'roomsEventPersister' | 'roomsEventStore' | 'roomsTxnStore'
>;

export class EventSender {
  private readonly heads: RoomHeads;
  private readonly builder: LocalEventBuilder;
  private readonly persister: EventPersister;
  private readonly eventStore: EventStore;
  private readonly txnStore: TxnStore;

  /** Recently used txn ids of this process, so a client's retry is answered without building anything. */
  private readonly recentTxns = growingLru<string, string>(10_000);

  /** Sends waiting for their room's write lock; whoever holds it persists them all in one transaction. */
  private readonly pending = new Map<string, Pending[]>();

  constructor({ roomsHeads, roomsEventBuilder, roomsEventPersister, roomsEventStore, roomsTxnStore }: Deps) {
    this.heads = roomsHeads;
    this.builder = roomsEventBuilder;
    this.persister = roomsEventPersister;
    this.eventStore = roomsEventStore;
    this.txnStore = roomsTxnStore;
  }

  /** Builds, authorises and persists one event as a local user. */
  async send(req: SendRequest): Promise<SentEvent> {
    const txnKey = req.txn ? `${req.sender}|${req.txn.deviceId}|${req.txn.txnId}` : undefined;
    const recent = txnKey ? this.recentTxns.get(txnKey) : undefined;
    if (recent) return this.deduplicated(recent, req.roomId);
    if (!(await this.heads.get(req.roomId)))
      throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${req.roomId}`);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.enqueue(req);
      if (outcome instanceof TxnReplayed && req.txn) {
        const existing = await this.txnStore.getTxn(req.sender, req.txn.deviceId, req.txn.txnId);
        if (existing) return this.deduplicated(existing, req.roomId);
        continue;
      }
      if (outcome instanceof HeadMoved || outcome instanceof TxnReplayed) {
        if (attempt >= 10) throw new MatrixError(503, 'M_UNKNOWN', 'The room is busy; try again');
        continue;
      }
      const { next, built } = outcome;
      if (txnKey) this.recentTxns.set(txnKey, built.eventId);
      await this.persister.announce(next.stored);
      return {
        eventId: built.eventId,
        streamOrdering: next.stored.streamOrdering,
        roomId: req.roomId,
        deduplicated: false,
      };
    }
  }

  /**
   * Builds and checks one event on the room's current head, under the room lock, without storing it: for an
   * event another server must sign first (send it later with `prebuilt`). Returns it with that head.
   */
  async buildDetached(req: SendRequest): Promise<{ built: BuiltEvent; head: RoomHead }> {
    return this.heads.withRoomLock(req.roomId, async () => {
      const head = await this.heads.get(req.roomId);
      if (!head) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${req.roomId}`);
      return { built: await this.builder.buildChecked(head, req), head };
    });
  }

  /**
   * Creates a room: persists its m.room.create event with the room row. Returns the room id (for v12+ the
   * create event's reference hash). Later events go through `send`.
   */
  async createRoom(
    sender: string,
    version: RoomVersion,
    content: JsonObject,
    visibility: 'public' | 'private',
  ): Promise<string> {
    const { built, head } = this.builder.buildCreate(sender, version, content);
    const roomId = built.roomId;
    const [created] = await this.heads.withRoomLock(roomId, async () => {
      const req = { roomId, sender, type: 'm.room.create', stateKey: '', content };
      const writes = await this.builder.prepareWrites(built, req, afterBuilt(head, built, req));
      const newRoom = {
        roomId,
        roomVersion: version.id,
        creator: sender,
        visibility,
        createdTs: Date.now(),
        lastStream: 0,
        maxDepth: 0,
        forwardExtremities: [],
        stateGroup: null,
      };
      return this.persister.persistEvents(head, [{ eventId: built.eventId, pdu: built.pdu, writes }], {
        newRoom,
      });
    });
    if (created) await this.persister.announce(created.stored);
    return roomId;
  }

  /**
   * Queues a send for its room. Group commit: the first send of an idle room takes the room lock; sends
   * that arrive meanwhile wait in the queue and are built one on top of the other and persisted together
   * in one transaction (one fsync) — the DAG stays linear, and concurrent senders stop paying one commit
   * each.
   */
  private enqueue(req: SendRequest): Promise<Outcome> {
    return new Promise<Outcome>((resolve, reject) => {
      let queue = this.pending.get(req.roomId);
      if (!queue) this.pending.set(req.roomId, (queue = []));
      queue.push({ req, resolve, reject });
      if (queue.length === 1) void this.heads.withRoomLock(req.roomId, () => this.drain(req.roomId));
    });
  }

  private async drain(roomId: string): Promise<void> {
    for (;;) {
      const queue = this.pending.get(roomId);
      if (!queue || queue.length === 0) {
        this.pending.delete(roomId);
        return;
      }
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await this.persistBatch(roomId, batch);
      } catch (err) {
        for (const item of batch) item.reject(err);
      }
    }
  }

  /** Builds each send on the head left by the previous one, then commits the batch in one transaction. */
  private async persistBatch(roomId: string, batch: readonly Pending[]): Promise<void> {
    const head = await this.heads.get(roomId);
    if (!head) {
      for (const item of batch) item.reject(new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`));
      return;
    }
    const ready: { item: Pending; built: BuiltEvent }[] = [];
    const events: EventToPersist[] = [];
    let speculative = head;
    for (const item of batch) {
      try {
        const { built, writes, after } = await this.builder.prepare(speculative, item.req);
        ready.push({ item, built });
        events.push({ eventId: built.eventId, pdu: built.pdu, txn: item.req.txn, writes });
        speculative = after;
      } catch (err) {
        item.reject(err);
      }
    }
    if (ready.length === 0) return;
    try {
      const results = await this.persister.persistEvents(head, events);
      ready.forEach(({ item, built }, i) => item.resolve({ next: results[i] as Persisted, built }));
    } catch (err) {
      if (ready.length > 1) {
        // One send spoiled the batch (a replayed txn id, a moved head): retry each alone so only it is affected.
        for (const { item } of ready) await this.persistBatch(roomId, [item]);
        return;
      }
      const only = ready[0];
      if (!only) return;
      if (err instanceof TxnReplayed || err instanceof HeadMoved) only.item.resolve(err);
      else only.item.reject(err);
    }
  }

  private async deduplicated(eventId: string, roomId: string): Promise<SentEvent> {
    const event = await this.eventStore.getEvent(eventId);
    return {
      eventId,
      streamOrdering: event?.streamOrdering ?? 0,
      roomId: event?.roomId ?? roomId,
      deduplicated: true,
    };
  }
}
