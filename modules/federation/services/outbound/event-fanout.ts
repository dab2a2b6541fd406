/**
 * Fan-out of local events (the architecture's "the federation sender queues the event for every other
 * server in the room"): the rooms stream is read in order from a persisted position, every event sent by
 * one of our users goes to every other server with a joined member in its room — and, for a membership
 * event, to the server of the user it targets, so an invite, kick, ban or leave of a remote user reaches
 * them — and each (destination, event) is written to the outbox together with the new position before a
 * queue sees it. Events that came over federation (their sender is not ours) are not sent again.
 *
 * The stream, not the persisted-event hook, is the source: the hook only wakes the loop. A crash between
 * an event's commit and its fan-out therefore loses nothing: the next start reads on from the stored
 * position (Synapse's `federation_stream_position`).
 */
import type { Logger } from 'pino';
import { serverNameOf } from '../../../../core/protocol/identifiers.js';
import type { FederationOutboundEvent, RoomsFederationApi } from '../../../rooms/api.js';
import type { OutboundStore, OutboxEntry } from '../../store/outbound-store.js';
import type { QueuedPdu } from './destination-queue.js';
import type { FederationSender } from './federation-sender.js';

const BATCH = 100;
/** Without local events to record, the position is still written every this many stream positions. */
const POSITION_WRITE_INTERVAL = 1000;

export interface EventFanoutDeps {
  readonly serverName: string;
  readonly rooms: Pick<RoomsFederationApi, 'eventsInStreamOrder' | 'serversInRoom'>;
  /** The rooms stream position every event at or below which is committed. */
  readonly streamPosition: () => Promise<number>;
  readonly store: OutboundStore;
  readonly sender: FederationSender;
  readonly logger: Logger;
}

export class EventFanout {
  private position = 0;
  private persisted = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly deps: EventFanoutDeps) {}

  /** Resumes from the stored position; a first boot starts at the stream's end (history is not sent). */
  async start(): Promise<void> {
    const stored = await this.deps.store.position('fanout');
    if (stored === undefined) {
      this.position = await this.deps.streamPosition();
      await this.deps.store.recordFanout([], this.position);
    } else this.position = stored;
    this.persisted = this.position;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  /** New events were persisted. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.run().finally(() => (this.running = undefined));
  }

  private async run(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.catchUpWithStream();
      } while (this.again && !this.stopped);
    } catch (err) {
      // Nothing was recorded for the failed step: the next wake (or start) reads it again.
      this.deps.logger.error({ err }, 'federation fan-out failed');
    }
  }

  private async catchUpWithStream(): Promise<void> {
    const upTo = await this.deps.streamPosition();
    while (this.position < upTo && !this.stopped) {
      const events = await this.deps.rooms.eventsInStreamOrder(this.position, upTo, BATCH);
      const next = events.length < BATCH ? upTo : events[events.length - 1]!.streamOrdering;
      const handouts: [string, QueuedPdu][] = [];
      for (const event of events) {
        if (serverNameOf(event.sender) !== this.deps.serverName) continue;
        for (const destination of await this.destinationsOf(event)) {
          const entry: OutboxEntry = {
            destination,
            streamOrdering: event.streamOrdering,
            roomId: event.roomId,
            eventId: event.eventId,
          };
          handouts.push([destination, { entry, pdu: event.pdu }]);
        }
      }
      if (handouts.length > 0 || next - this.persisted >= POSITION_WRITE_INTERVAL) {
        await this.deps.store.recordFanout(
          handouts.map(([, q]) => q.entry),
          next,
        );
        this.persisted = next;
      }
      this.position = next;
      for (const [destination, pdu] of handouts) this.deps.sender.enqueuePdu(destination, pdu);
    }
  }

  private async destinationsOf(event: FederationOutboundEvent): Promise<string[]> {
    const servers = new Set(await this.deps.rooms.serversInRoom(event.roomId));
    if (event.membership !== null && event.stateKey !== null) {
      const target = serverNameOf(event.stateKey);
      if (target !== undefined) servers.add(target);
    }
    return [...servers].filter((s) => this.deps.sender.accepts(s));
  }
}
