/** `RoomsFederationApi` (api.ts), registered as `roomsFederationApi`: what the federation module calls. */
import type { Cradle } from '../../../core/container.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import type { ReceivedInvite, RoomsFederationApi } from '../api.js';
import type { FederationMemberships } from './federation-memberships.js';
import type { FederatedEventReceiver, IncomingPdu, ReceiveOutcome } from './federated-event-receiver.js';
import type { FederationRoomReads, JoinTemplate, StateAtEvent } from './federation-room-reads.js';

export class RoomsFederationApiImpl implements RoomsFederationApi {
  private readonly receiver: FederatedEventReceiver;
  private readonly reads: FederationRoomReads;
  private readonly memberships: FederationMemberships;

  constructor({
    roomsFederatedReceiver,
    roomsFederationReads,
    roomsFederationMemberships,
  }: Pick<Cradle, 'roomsFederatedReceiver' | 'roomsFederationReads' | 'roomsFederationMemberships'>) {
    this.receiver = roomsFederatedReceiver;
    this.reads = roomsFederationReads;
    this.memberships = roomsFederationMemberships;
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
}
