/** `RoomsFederationApi` (api.ts), registered as `roomsFederationApi`: what the federation module calls. */
import type { Cradle } from '../../../core/container.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import type { RoomsFederationApi } from '../api.js';
import type {
  FederatedEventReceiver,
  IncomingPdu,
  ReceiveOutcome,
  ReceiveResult,
} from './federated-event-receiver.js';
import type { FederationRoomReads, JoinTemplate, StateAtEvent } from './federation-room-reads.js';

export class RoomsFederationApiImpl implements RoomsFederationApi {
  private readonly receiver: FederatedEventReceiver;
  private readonly reads: FederationRoomReads;

  constructor({
    roomsFederatedReceiver,
    roomsFederationReads,
  }: Pick<Cradle, 'roomsFederatedReceiver' | 'roomsFederationReads'>) {
    this.receiver = roomsFederatedReceiver;
    this.reads = roomsFederationReads;
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
