/** `RoomsFederationApi` (api.ts), registered as `roomsFederationApi`: what the federation module calls. */
import type { Cradle } from '../../../core/container.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import type { FederationOutboundEvent, ReceivedInvite, RoomsFederationApi } from '../api.js';
import type { EventStore } from '../store/event-store.js';
import type { TimelineStore } from '../store/timeline-store.js';
import type { FederationMemberships } from './federation-memberships.js';
import type {
  FederatedEventReceiver,
  IncomingPdu,
  ReceiveOutcome,
  ReceiveResult,
} from './federated-event-receiver.js';
import type { FederationHistoryReads, MissingEventsQuery } from './federation-history-reads.js';
import type { FederationRoomReads, JoinTemplate, StateAtEvent } from './federation-room-reads.js';

export class RoomsFederationApiImpl implements RoomsFederationApi {
  private readonly receiver: FederatedEventReceiver;
  private readonly reads: FederationRoomReads;
  private readonly timeline: TimelineStore;
  private readonly events: EventStore;
  private readonly memberships: FederationMemberships;
  private readonly history: FederationHistoryReads;

  constructor({
    roomsFederatedReceiver,
    roomsFederationReads,
    roomsTimelineStore,
    roomsEventStore,
    roomsFederationMemberships,
    roomsFederationHistory,
  }: Pick<
    Cradle,
    | 'roomsFederatedReceiver'
    | 'roomsFederationReads'
    | 'roomsTimelineStore'
    | 'roomsEventStore'
    | 'roomsFederationMemberships'
    | 'roomsFederationHistory'
  >) {
    this.receiver = roomsFederatedReceiver;
    this.reads = roomsFederationReads;
    this.timeline = roomsTimelineStore;
    this.events = roomsEventStore;
    this.memberships = roomsFederationMemberships;
    this.history = roomsFederationHistory;
  }

  receiveInvite(invite: ReceivedInvite): Promise<void> {
    return this.memberships.receiveInvite(invite);
  }

  makeKnockTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate> {
    return this.memberships.makeKnockTemplate(roomId, userId, supportedVersions);
  }

  checkRestrictedJoin(roomId: string, userId: string): Promise<void> {
    return this.memberships.checkRestrictedJoin(roomId, userId);
  }

  prejoinState(roomId: string): Promise<PduJson[]> {
    return this.memberships.prejoinState(roomId);
  }

  receivePdu(input: IncomingPdu): Promise<ReceiveOutcome> {
    return this.receiver.receive(input);
  }

  receivePdus(inputs: readonly IncomingPdu[]): Promise<ReceiveResult[]> {
    return this.receiver.receiveAll(inputs);
  }

  eventIdOf(pdu: unknown): Promise<string | undefined> {
    return this.receiver.eventIdOf(pdu);
  }

  makeJoinTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate> {
    return this.reads.makeJoinTemplate(roomId, userId, supportedVersions);
  }

  makeLeaveTemplate(roomId: string, userId: string): Promise<JoinTemplate> {
    return this.reads.makeLeaveTemplate(roomId, userId);
  }

  async getPdu(eventId: string): Promise<{ roomId: string; pdu: PduJson } | undefined> {
    const e = await this.reads.event(eventId);
    return e && { roomId: e.roomId, pdu: e.pdu };
  }

  async stateBeforeEvent(eventId: string): Promise<(StateAtEvent & { roomId: string }) | undefined> {
    const e = await this.reads.event(eventId);
    return e && { roomId: e.roomId, ...(await this.reads.stateBefore(e)) };
  }

  authChain(pdus: readonly PduJson[]): Promise<PduJson[]> {
    return this.reads.authChain(pdus);
  }

  serversInRoom(roomId: string): Promise<string[]> {
    return this.reads.serversInRoom(roomId);
  }

  async eventsInStreamOrder(after: number, upTo: number, limit: number): Promise<FederationOutboundEvent[]> {
    return (await this.timeline.eventsInStreamOrder(after, upTo, limit)).map((e) => ({
      streamOrdering: e.streamOrdering,
      eventId: e.eventId,
      roomId: e.roomId,
      sender: e.sender,
      stateKey: e.stateKey,
      membership: e.membership,
      pdu: e.pdu,
    }));
  }

  async pdusOf(eventIds: readonly string[]): Promise<Map<string, PduJson>> {
    const found = await this.events.getEvents(eventIds);
    const out = new Map<string, PduJson>();
    for (const [id, e] of found) if (e.rejectedReason === null) out.set(id, e.pdu);
    return out;
  }

  pduForServer(server: string, eventId: string): Promise<{ roomId: string; pdu: PduJson } | undefined> {
    return this.history.eventForServer(server, eventId);
  }

  async stateBeforeEventForServer(
    server: string,
    eventId: string,
  ): Promise<(StateAtEvent & { roomId: string }) | 'hidden' | undefined> {
    const e = await this.reads.event(eventId);
    if (!e) return undefined;
    if (!(await this.history.serverMaySeeEvent(server, e))) return 'hidden';
    return { roomId: e.roomId, ...(await this.reads.stateBefore(e)) };
  }

  backfill(server: string, roomId: string, from: readonly string[], limit: number): Promise<PduJson[]> {
    return this.history.backfill(server, roomId, from, limit);
  }

  missingEvents(server: string, roomId: string, query: MissingEventsQuery): Promise<PduJson[]> {
    return this.history.missingEvents(server, roomId, query);
  }

  async eventAuthChain(
    server: string,
    roomId: string,
    eventId: string,
  ): Promise<PduJson[] | 'hidden' | undefined> {
    const e = await this.reads.event(eventId);
    if (!e || e.roomId !== roomId) return undefined;
    if (!(await this.history.serverMaySeeEvent(server, e))) return 'hidden';
    return this.reads.authChain([e.pdu]);
  }

  eventNearTimestamp(
    roomId: string,
    ts: number,
    dir: 'f' | 'b',
  ): Promise<{ eventId: string; originServerTs: number } | undefined> {
    return this.history.eventNearTimestamp(roomId, ts, dir);
  }
}
