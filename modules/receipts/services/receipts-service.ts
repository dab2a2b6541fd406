/**
 * Read receipts and read markers. A receipt only moves forward (by the event's stream position); public
 * receipts wake the room, private ones only their owner. `m.fully_read` lives in room account data (the
 * account-data module), written here through the `fullyReadMarkers` port.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { RECEIPTS_STREAM, type ReceiptListener, type ReceiptUpdate } from '../api.js';
import { UNTHREADED, type ReceiptsStore } from '../store/receipts-store.js';

export const READ_RECEIPT_TYPES = ['m.read', 'm.read.private'] as const;

/** What receipts need from the rooms module. */
export interface ReceiptRooms {
  isJoined(roomId: string, userId: string): Promise<boolean>;
  /** The event's stream position and thread (`main` when none), or undefined when it is not in the room. */
  eventInfo(
    roomId: string,
    eventId: string,
  ): Promise<{ streamOrdering: number; threadId: string } | undefined>;
}

/** Where `m.fully_read` is stored (room account data). */
export interface FullyReadMarkers {
  setFullyRead(userId: string, roomId: string, eventId: string): Promise<void>;
}

type Deps = Pick<Cradle, 'notifier'> & {
  receiptsStore: ReceiptsStore;
  receiptRooms: ReceiptRooms;
  fullyReadMarkers: FullyReadMarkers;
};

export class ReceiptsService {
  private readonly listeners: ReceiptListener[] = [];

  constructor(private readonly deps: Deps) {}

  onReceipt(listener: ReceiptListener): void {
    this.listeners.push(listener);
  }

  /** POST /rooms/{roomId}/receipt/{receiptType}/{eventId}. */
  async postReceipt(
    userId: string,
    roomId: string,
    receiptType: string,
    eventId: string,
    threadId: string | undefined,
  ): Promise<void> {
    if (threadId !== undefined && threadId === '')
      throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id field must be a non-empty string');
    if (receiptType === 'm.fully_read') {
      if (threadId !== undefined)
        throw new MatrixError(400, 'M_INVALID_PARAM', 'thread_id is not allowed for m.fully_read');
      await this.setReadMarkers(userId, roomId, { fullyRead: eventId });
      return;
    }
    if (!(READ_RECEIPT_TYPES as readonly string[]).includes(receiptType))
      throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown receipt type ${receiptType}`);
    await this.requireJoined(userId, roomId);
    await this.store(userId, roomId, receiptType, eventId, threadId);
  }

  /** POST /rooms/{roomId}/read_markers: the fully-read marker and optionally both read receipts. */
  async setReadMarkers(
    userId: string,
    roomId: string,
    markers: { fullyRead?: string | undefined; read?: string | undefined; readPrivate?: string | undefined },
  ): Promise<void> {
    await this.requireJoined(userId, roomId);
    if (markers.fullyRead !== undefined) {
      await this.requireEvent(roomId, markers.fullyRead);
      await this.deps.fullyReadMarkers.setFullyRead(userId, roomId, markers.fullyRead);
    }
    if (markers.read !== undefined) await this.store(userId, roomId, 'm.read', markers.read, undefined);
    if (markers.readPrivate !== undefined)
      await this.store(userId, roomId, 'm.read.private', markers.readPrivate, undefined);
  }

  /**
   * A public read receipt another server sent (`m.receipt` EDU), already checked to be of its user in a room
   * it is in. False (nothing stored) when the event is unknown here or not in the named thread.
   */
  async storeRemote(
    userId: string,
    roomId: string,
    eventId: string,
    threadId: string | undefined,
    ts: number,
  ): Promise<boolean> {
    try {
      await this.store(userId, roomId, 'm.read', eventId, threadId, ts);
      return true;
    } catch (err) {
      if (err instanceof MatrixError) return false;
      throw err;
    }
  }

  private async store(
    userId: string,
    roomId: string,
    receiptType: string,
    eventId: string,
    threadId: string | undefined,
    ts = Date.now(),
  ): Promise<void> {
    const info = await this.requireEvent(roomId, eventId);
    if (
      threadId !== undefined &&
      threadId !== info.threadId &&
      !(threadId === eventId && info.threadId === 'main')
    ) {
      throw new MatrixError(400, 'M_INVALID_PARAM', `Event ${eventId} is not in thread ${threadId}`);
    }
    const position = await this.deps.receiptsStore.advance({
      roomId,
      receiptType,
      userId,
      threadId: threadId ?? UNTHREADED,
      eventId,
      eventStreamOrdering: info.streamOrdering,
      ts,
    });
    if (position === undefined) return; // not ahead of the stored receipt: nothing changes
    const update: ReceiptUpdate = {
      roomId,
      userId,
      receiptType,
      eventId,
      eventStreamOrdering: info.streamOrdering,
      threadId,
      ts,
    };
    for (const listener of this.listeners) await listener(update);
    this.deps.notifier.publish(
      receiptType === 'm.read.private'
        ? { stream: RECEIPTS_STREAM, position, userIds: [userId] }
        : { stream: RECEIPTS_STREAM, position, roomIds: [roomId] },
    );
  }

  private async requireJoined(userId: string, roomId: string): Promise<void> {
    if (!(await this.deps.receiptRooms.isJoined(roomId, userId)))
      throw new MatrixError(403, 'M_FORBIDDEN', 'You are not a member of this room');
  }

  private async requireEvent(
    roomId: string,
    eventId: string,
  ): Promise<{ streamOrdering: number; threadId: string }> {
    const info = await this.deps.receiptRooms.eventInfo(roomId, eventId);
    if (!info) throw new MatrixError(404, 'M_NOT_FOUND', `Event ${eventId} not found in ${roomId}`);
    return info;
  }
}
