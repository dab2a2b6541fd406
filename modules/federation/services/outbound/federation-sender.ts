/**
 * The federation sender: one DestinationQueue per server we send to, the EDU entry points other modules
 * use (api.ts `sendEdu`, `sendStoredEdu`), and the "this server is up" signal that ends a backoff and
 * starts a catch-up. Transaction ids are `<boot epoch>_<counter>`: the epoch is counted in the database
 * once per start, so an id is never reused across restarts (a reused id would be answered from the
 * destination's cache of the earlier transaction, and the new PDUs silently lost).
 */
import type { Logger } from 'pino';
import { isValidServerName } from '../../../../core/protocol/identifiers.js';
import type { RoomsFederationApi } from '../../../rooms/api.js';
import type { FederationClient } from '../../api.js';
import type { OutboundStore } from '../../store/outbound-store.js';
import type { DomainPolicy } from '../domain-policy.js';
import type { DestinationBackoff } from './destination-backoff.js';
import { DestinationQueue, type QueuedPdu } from './destination-queue.js';

export interface FederationSenderDeps {
  readonly serverName: string;
  readonly client: FederationClient;
  readonly store: OutboundStore;
  readonly backoff: DestinationBackoff;
  readonly domainPolicy: DomainPolicy;
  readonly rooms: () => Pick<RoomsFederationApi, 'pdusOf'> | undefined;
  readonly catchUpLimit: number;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly onTransaction?: (outcome: 'sent' | 'dropped' | 'failed', pdus: number, edus: number) => void;
}

export class FederationSender {
  private readonly queues = new Map<string, DestinationQueue>();
  private txnEpoch = 0;
  private txnCounter = 0;
  private started = false;

  constructor(private readonly deps: FederationSenderDeps) {}

  /** Loads the backoff registry and resumes every destination with PDUs or EDUs left from before. */
  async start(): Promise<void> {
    this.txnEpoch = await this.deps.store.nextTxnEpoch();
    await this.deps.backoff.load();
    this.started = true;
    for (const destination of await this.deps.store.destinationsWithPending()) {
      const queue = this.queue(destination);
      queue.startCatchingUp();
      queue.storedEdusAdded();
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all([...this.queues.values()].map((q) => q.stop(1000)));
  }

  /** Whether `destination` is a server we may send to (not us, a valid name, allowed by the whitelist). */
  accepts(destination: string): boolean {
    return (
      destination !== this.deps.serverName &&
      isValidServerName(destination) &&
      this.deps.domainPolicy.isAllowed(destination)
    );
  }

  /** A PDU recorded in the outbox for `destination` (by the fan-out). */
  enqueuePdu(destination: string, pdu: QueuedPdu): void {
    if (this.started) this.queue(destination).addPdu(pdu);
  }

  /** A volatile EDU (typing, receipts, presence): lost on restart, dropped after a long outage. */
  sendEdu(destination: string, eduType: string, content: unknown, options: { key?: string } = {}): void {
    if (!this.started || !this.accepts(destination)) return;
    this.queue(destination).addEdu(eduType, content, options.key);
  }

  /** An EDU that must arrive (to-device, device lists): stored until the destination accepts it. */
  async sendStoredEdu(destination: string, eduType: string, content: unknown): Promise<void> {
    if (!this.accepts(destination)) return;
    await this.deps.store.addEdu(destination, eduType, content);
    if (this.started) this.queue(destination).storedEdusAdded();
  }

  /**
   * `origin` spoke to us, or answered a request: if it was marked down its backoff ends and whatever
   * waits for it is sent now (Synapse resets the retry timings on any inbound request).
   */
  async remoteServerUp(origin: string): Promise<void> {
    if (!this.deps.backoff.isMarkedDown(origin)) return;
    await this.deps.backoff.success(origin);
    this.queues.get(origin)?.wake();
  }

  private queue(destination: string): DestinationQueue {
    let queue = this.queues.get(destination);
    if (!queue) {
      queue = new DestinationQueue({
        destination,
        serverName: this.deps.serverName,
        client: this.deps.client,
        store: this.deps.store,
        backoff: this.deps.backoff,
        rooms: this.deps.rooms,
        nextTxnId: () => `${this.txnEpoch}_${++this.txnCounter}`,
        catchUpLimit: this.deps.catchUpLimit,
        timeoutMs: this.deps.timeoutMs,
        logger: this.deps.logger,
        onTransaction: this.deps.onTransaction,
      });
      this.queues.set(destination, queue);
    }
    return queue;
  }
}
