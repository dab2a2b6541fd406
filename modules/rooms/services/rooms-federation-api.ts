/** `RoomsFederationApi` (api.ts), registered as `roomsFederationApi`: what the federation module calls. */
import type { Cradle } from '../../../core/container.js';
import type { RoomsFederationApi } from '../api.js';
import type { FederatedEventReceiver, IncomingPdu, ReceiveOutcome } from './federated-event-receiver.js';

export class RoomsFederationApiImpl implements RoomsFederationApi {
  private readonly receiver: FederatedEventReceiver;

  constructor({ roomsFederatedReceiver }: Pick<Cradle, 'roomsFederatedReceiver'>) {
    this.receiver = roomsFederatedReceiver;
  }

  receivePdu(input: IncomingPdu): Promise<ReceiveOutcome> {
    return this.receiver.receive(input);
  }

  eventIdOf(pdu: unknown): Promise<string | undefined> {
    return this.receiver.eventIdOf(pdu);
  }
}
