/**
 * One destination's transmission loop (server-server-api "Transactions"; Synapse's PerDestinationQueue):
 * at most one `PUT /send/{txnId}` in flight, ≤ 50 PDUs and ≤ 100 EDUs each, PDUs in stream order.
 *
 * Two modes. Live: PDUs handed over by the fan-out (already in the outbox table) wait in memory and go out
 * in order. Catching up — after a failed transaction, at boot, or when the memory queue grows past
 * `MAX_LIVE_PDUS` — the memory queue is dropped and PDUs are read from the outbox instead, oldest first;
 * with more than `catchUpLimit` waiting, only the newest of each room is sent (Synapse sends only that;
 * the destination fetches the gap with get_missing_events). An accepted transaction deletes its PDUs'
 * outbox rows, so a restart resumes exactly where delivery stopped.
 *
 * A 4xx answer (but 429 and 401) drops the transaction as Synapse does: the server is up and refused it,
 * and sending it again would be refused again. Anything else (network, timeout, 5xx, 429) is a failure: the
 * destination backs off and no request is made until its retry time. 401 is a failure too, not a refusal:
 * it means the destination could not verify our signature — typically it could not fetch our keys yet (a
 * server that just restarted, a key server down) — and dropping would lose PDUs for a passing reason.
 */
import type { Logger } from 'pino';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import type { RoomsFederationApi } from '../../../rooms/api.js';
import { FederationRequestError, type FederationClient } from '../../api.js';
import type { OutboundStore, OutboxEntry, StoredEdu } from '../../store/outbound-store.js';
import type { DestinationBackoff } from './destination-backoff.js';

export const MAX_PDUS_PER_TXN = 50;
export const MAX_EDUS_PER_TXN = 100;
/** Beyond this many PDUs waiting in memory the queue switches to reading the outbox (bounded memory). */
export const MAX_LIVE_PDUS = 1000;
/** Past this backoff interval volatile EDUs (typing, receipts, presence) are dropped, as Synapse does. */
const DROP_VOLATILE_EDUS_AFTER_MS = 60 * 60 * 1000;

export interface QueuedPdu {
  readonly entry: OutboxEntry;
  readonly pdu: PduJson;
}

interface VolatileEdu {
  readonly eduType: string;
  readonly content: unknown;
}

export interface DestinationQueueDeps {
  readonly destination: string;
  readonly serverName: string;
  readonly client: FederationClient;
  readonly store: OutboundStore;
  readonly backoff: DestinationBackoff;
  readonly rooms: () => Pick<RoomsFederationApi, 'pdusOf'> | undefined;
  readonly nextTxnId: () => string;
  readonly catchUpLimit: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Called after each transaction attempt (metrics). */
  readonly onTransaction?: (outcome: 'sent' | 'dropped' | 'failed', pdus: number, edus: number) => void;
}

/** What one transaction carries, and what to mark done when it is accepted. */
interface Batch {
  readonly entries: OutboxEntry[];
  readonly pdus: PduJson[];
  readonly live: Set<QueuedPdu>;
  readonly stored: StoredEdu[];
  readonly keyed: [string, VolatileEdu][];
  readonly plain: Set<VolatileEdu>;
}

export class DestinationQueue {
  private live: QueuedPdu[] = [];
  private catchingUp = false;
  private catchUpMode: 'oldest' | 'latest' | undefined;
  /** In 'latest' mode: the newest PDU waiting when the catch-up began. */
  private latestUpTo = 0;
  /** A PDU was handed over while catching up (it is in the outbox): read it before leaving catch-up. */
  private missedWhileCatchingUp = false;
  private plainEdus: VolatileEdu[] = [];
  private keyedEdus = new Map<string, VolatileEdu>();
  /** Stored EDUs may be waiting in federation_outbound_edus. */
  private storedEdusWaiting = false;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: DestinationQueueDeps) {}

  get destination(): string {
    return this.deps.destination;
  }

  /** A PDU the fan-out recorded in the outbox for this destination. */
  addPdu(pdu: QueuedPdu): void {
    if (this.catchingUp) this.missedWhileCatchingUp = true;
    else if (this.live.length >= MAX_LIVE_PDUS) this.startCatchingUp();
    else this.live.push(pdu);
    this.wake();
  }

  /** A volatile EDU; one with a key replaces a waiting one with the same key. */
  addEdu(eduType: string, content: unknown, key?: string): void {
    if (key === undefined) this.plainEdus.push({ eduType, content });
    else {
      this.keyedEdus.delete(key); // re-inserted last: it goes out in the order of its latest update
      this.keyedEdus.set(key, { eduType, content });
    }
    this.wake();
  }

  /** EDUs were written to federation_outbound_edus for this destination. */
  storedEdusAdded(): void {
    this.storedEdusWaiting = true;
    this.wake();
  }

  /** Read the outbox rather than memory until it is empty (after a failure, at boot). */
  startCatchingUp(): void {
    this.catchingUp = true;
    this.catchUpMode = undefined;
    this.live = [];
  }

  /** Starts the loop unless it runs or the destination is backing off (then a retry is scheduled). */
  wake(): void {
    if (this.stopped || this.running) return;
    if (this.deps.backoff.isBackingOff(this.deps.destination)) {
      this.scheduleRetry();
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.hasWork()) this.scheduleRetry();
    });
  }

  /** Resolves when the loop has nothing more to do for now (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops sending; an attempt in flight is awaited up to `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) {
      await Promise.race([this.running, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
  }

  private hasWork(): boolean {
    return (
      this.live.length > 0 ||
      this.catchingUp ||
      this.plainEdus.length > 0 ||
      this.keyedEdus.size > 0 ||
      this.storedEdusWaiting
    );
  }

  private scheduleRetry(): void {
    if (this.stopped || this.timer || !this.hasWork()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.deps.backoff.msUntilRetry(this.deps.destination));
    this.timer.unref(); // a retry is no reason to keep a stopping process alive
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.deps.backoff.isBackingOff(this.deps.destination)) return;
        const batch = await this.nextBatch();
        if (batch.entries.length === 0 && !hasEdus(batch)) return;
        if (!(await this.transmit(batch))) return;
      }
    } catch (err) {
      // A database error: leave the outbox as it is and try again later.
      this.deps.logger.error({ err, destination: this.deps.destination }, 'outbound queue failed');
      this.startCatchingUp();
      await this.deps.backoff.failure(this.deps.destination).catch(() => undefined);
    }
  }

  private async nextBatch(): Promise<Batch> {
    const { entries, pdus, live } = await this.nextPdus();
    const stored: StoredEdu[] = [];
    if (this.storedEdusWaiting) {
      this.storedEdusWaiting = false; // set again by an EDU stored while we read
      stored.push(...(await this.deps.store.pendingEdus(this.deps.destination, MAX_EDUS_PER_TXN)));
      if (stored.length === MAX_EDUS_PER_TXN) this.storedEdusWaiting = true;
    }
    let room = MAX_EDUS_PER_TXN - stored.length;
    const keyed = [...this.keyedEdus].slice(0, room);
    room -= keyed.length;
    const plain = new Set(this.plainEdus.slice(0, room));
    return { entries, pdus, live, stored, keyed, plain };
  }

  private async nextPdus(): Promise<{ entries: OutboxEntry[]; pdus: PduJson[]; live: Set<QueuedPdu> }> {
    if (!this.catchingUp) {
      const taken = this.live.slice(0, MAX_PDUS_PER_TXN);
      return { entries: taken.map((q) => q.entry), pdus: taken.map((q) => q.pdu), live: new Set(taken) };
    }
    const { store, destination } = this.deps;
    for (;;) {
      if (this.catchUpMode === undefined) {
        const tooMany = (await store.pendingCount(destination)) > this.deps.catchUpLimit;
        this.catchUpMode = tooMany ? 'latest' : 'oldest';
        // Only what was missed is thinned out; PDUs fanned out during the catch-up all go, in order.
        if (tooMany) this.latestUpTo = await store.newestPending(destination);
      }
      this.missedWhileCatchingUp = false;
      const entries =
        this.catchUpMode === 'latest'
          ? await store.latestPendingPerRoom(destination, MAX_PDUS_PER_TXN, this.latestUpTo)
          : await store.oldestPending(destination, MAX_PDUS_PER_TXN);
      if (entries.length === 0 && this.catchUpMode === 'latest') {
        this.catchUpMode = 'oldest';
        continue;
      }
      if (entries.length === 0) {
        if (this.missedWhileCatchingUp) continue;
        // Caught up: from here PDUs are queued in memory again (nothing awaited since the read).
        this.catchingUp = false;
        this.catchUpMode = undefined;
        return this.nextPdus();
      }
      const rooms = this.deps.rooms();
      const found = rooms ? await rooms.pdusOf(entries.map((e) => e.eventId)) : new Map<string, PduJson>();
      // An event that is gone (purged) is marked done with the others: there is nothing left to send.
      const pdus = entries.map((e) => found.get(e.eventId)).filter((p): p is PduJson => p !== undefined);
      if (this.catchUpMode === 'latest') {
        this.deps.logger.info(
          { destination, rooms: entries.length },
          'catch-up: too many PDUs missed, sending the latest of each room',
        );
      }
      return { entries, pdus, live: new Set() };
    }
  }

  /** Sends one transaction; false when the destination failed (and now backs off). */
  private async transmit(batch: Batch): Promise<boolean> {
    const { destination, serverName, client, logger } = this.deps;
    const txnId = this.deps.nextTxnId();
    const edus = [
      ...batch.stored.map((e) => ({ edu_type: e.eduType, content: e.content })),
      ...batch.keyed.map(([, e]) => ({ edu_type: e.eduType, content: e.content })),
      ...[...batch.plain].map((e) => ({ edu_type: e.eduType, content: e.content })),
    ];
    const counts = [batch.pdus.length, edus.length] as const;
    try {
      const answer = await client.request({
        method: 'PUT',
        destination,
        path: `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`,
        body: { origin: serverName, origin_server_ts: Date.now(), pdus: batch.pdus, edus },
        timeoutMs: this.deps.timeoutMs,
      });
      logPduErrors(logger, destination, txnId, answer);
      await this.done(batch);
      this.deps.onTransaction?.('sent', ...counts);
      return true;
    } catch (err) {
      if (
        err instanceof FederationRequestError &&
        err.kind === 'http' &&
        err.status !== undefined &&
        err.status >= 400 &&
        err.status < 500 &&
        err.status !== 429 &&
        err.status !== 401
      ) {
        logger.warn(
          { destination, txnId, status: err.status, errcode: err.errcode, pdus: counts[0], edus: counts[1] },
          'transaction refused: dropped',
        );
        await this.done(batch);
        this.deps.onTransaction?.('dropped', ...counts);
        return true;
      }
      logger.info({ destination, txnId, err: (err as Error).message }, 'transaction failed: backing off');
      this.deps.onTransaction?.('failed', ...counts);
      const timings = await this.deps.backoff.failure(destination);
      this.startCatchingUp();
      if (timings.retryInterval > DROP_VOLATILE_EDUS_AFTER_MS) {
        this.plainEdus = [];
        this.keyedEdus.clear();
      }
      if (batch.stored.length > 0) this.storedEdusWaiting = true;
      return false;
    }
  }

  /** The transaction was accepted or dropped: its PDUs and EDUs are done. */
  private async done(batch: Batch): Promise<void> {
    await this.deps.store.delivered(this.deps.destination, batch.entries);
    await this.deps.store.deleteEdus(batch.stored.map((e) => e.id));
    this.live = this.live.filter((q) => !batch.live.has(q));
    this.plainEdus = this.plainEdus.filter((e) => !batch.plain.has(e));
    for (const [key, edu] of batch.keyed) if (this.keyedEdus.get(key) === edu) this.keyedEdus.delete(key);
    await this.deps.backoff.success(this.deps.destination);
  }
}

function hasEdus(batch: Batch): boolean {
  return batch.stored.length > 0 || batch.keyed.length > 0 || batch.plain.size > 0;
}

/** Per-PDU errors in a /send answer are the destination's verdicts: logged, never retried. */
function logPduErrors(logger: Logger, destination: string, txnId: string, answer: unknown): void {
  const pdus = (answer as { pdus?: unknown } | null)?.pdus;
  if (typeof pdus !== 'object' || pdus === null) return;
  for (const [eventId, result] of Object.entries(pdus as Record<string, unknown>)) {
    const error = (result as { error?: unknown } | null)?.error;
    if (error !== undefined) logger.info({ destination, txnId, eventId, error }, 'destination refused a PDU');
  }
}
