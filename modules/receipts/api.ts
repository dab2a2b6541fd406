/**
 * What other modules may use of the receipts module. Registered as `receiptsApi`; the sync feed is
 * `receiptsFeed` (modules/sync/api.ts).
 *
 * _Added in Axon 0.1._
 */

/** The receipts stream on the notifier and in sync tokens. */
export const RECEIPTS_STREAM = 'receipts';

/** A read receipt that moved forward. */
export interface ReceiptUpdate {
  readonly roomId: string;
  readonly userId: string;
  /** `m.read` or `m.read.private`. */
  readonly receiptType: string;
  readonly eventId: string;
  /** The event's position in the room's stream. */
  readonly eventStreamOrdering: number;
  /** undefined: unthreaded; `main` or a thread root's event id otherwise. */
  readonly threadId: string | undefined;
  /** When it was made (ms; the sending server's clock for a remote user's receipt). */
  readonly ts: number;
}

/** Awaited after a receipt is stored and before sync is woken (push rules clear unread counts here). */
export type ReceiptListener = (update: ReceiptUpdate) => Promise<void>;

export interface ReceiptsApi {
  /** Runs `listener` for every receipt that moves forward (public and private alike). */
  onReceipt(listener: ReceiptListener): void;
}

/** What a thread lookup needs from an event: its relation. */
export interface RelatedEvent {
  readonly eventId: string;
  readonly content: Readonly<Record<string, unknown>>;
}

/**
 * The thread an event belongs to (`main` when none), following relations up to 3 hops as the spec
 * recommends (Threaded read receipts): an `m.thread` relation names the root; any other relation defers to
 * its parent. Thread roots are in the main timeline.
 */
export async function threadIdOf(
  event: RelatedEvent,
  parentOf: (eventId: string) => Promise<RelatedEvent | undefined>,
): Promise<string> {
  let current: RelatedEvent | undefined = event;
  for (let hop = 0; hop < 3 && current; hop++) {
    const relation = current.content['m.relates_to'];
    if (typeof relation !== 'object' || relation === null) return 'main';
    const { rel_type: relType, event_id: parentId } = relation as Record<string, unknown>;
    if (typeof parentId !== 'string') return 'main';
    if (relType === 'm.thread') return parentId;
    current = await parentOf(parentId);
  }
  return 'main';
}
