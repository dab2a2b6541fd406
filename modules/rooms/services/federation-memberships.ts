/**
 * The rooms side of invites and knocks across servers (server-server-api "Inviting to a room", "Knocking
 * upon a room"): storing an invite another server sent one of our users, the make_knock template, the room
 * state shown with an invite or a knock (Synapse's `room_prejoin_state` defaults), and stripping it for
 * clients.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { stateKey, type JsonObject, type PduJson } from '../../../core/protocol/pdu.js';
import type { ReceivedInvite, RefusalCode, RoomsFederationMembershipApi } from '../api.js';
import type { FederatedEventReceiver } from './federated-event-receiver.js';
import type { FederationRoomReads, JoinTemplate } from './federation-room-reads.js';
import type { OutOfBandMemberships, StrippedState } from './out-of-band-memberships.js';
import type { RoomHead, RoomHeads } from './room-heads.js';

/** The state types shown to an invitee or knocker (Synapse's default `room_prejoin_state`). */
export const PREJOIN_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
  'm.room.topic',
] as const;

/** The prejoin state of a room at `head`: full PDUs, the create event first. */
export function prejoinStateOf(head: RoomHead): PduJson[] {
  const out: PduJson[] = [];
  for (const type of PREJOIN_STATE_TYPES) {
    const e = head.state.get(stateKey(type, ''));
    if (e) out.push(e.pdu);
  }
  return out;
}

/** Client-side stripped state from events another server sent (full PDUs or stripped already); junk dropped. */
export function stripState(events: readonly JsonObject[]): StrippedState[] {
  const out: StrippedState[] = [];
  for (const e of events) {
    const { type, state_key: key, sender, content } = e;
    if (typeof type !== 'string' || typeof key !== 'string' || typeof sender !== 'string') continue;
    if (typeof content !== 'object' || content === null || Array.isArray(content)) continue;
    out.push({ type, state_key: key, sender, content });
  }
  return out;
}

/** Refusals that say our copy of the room lacks something, not that the invite is bad. */
const GAPS = new Set<RefusalCode>(['missing_prev_events', 'missing_auth_events']);

type Deps = Pick<Cradle, 'roomsHeads' | 'roomsFederatedReceiver' | 'roomsFederationReads' | 'roomsOutOfBand'>;

export class FederationMemberships implements RoomsFederationMembershipApi {
  private readonly heads: RoomHeads;
  private readonly receiver: FederatedEventReceiver;
  private readonly reads: FederationRoomReads;
  private readonly outOfBand: OutOfBandMemberships;

  constructor({ roomsHeads, roomsFederatedReceiver, roomsFederationReads, roomsOutOfBand }: Deps) {
    this.heads = roomsHeads;
    this.receiver = roomsFederatedReceiver;
    this.reads = roomsFederationReads;
    this.outOfBand = roomsOutOfBand;
  }

  async receiveInvite(invite: ReceivedInvite): Promise<void> {
    const roomId = invite.pdu.room_id ?? '';
    if (await this.heads.get(roomId)) {
      // We are in the room: the invite is an event of its DAG like any other.
      const outcome = await this.receiver.receive({
        pdu: invite.pdu,
        keys: invite.keys,
        roomId,
        origin: invite.origin,
      });
      // A gap in our copy of the room is no reason to refuse the invite: it reaches us again through the
      // inviting server's transaction (Synapse stores such an invite as an outlier and answers it).
      if (outcome.status === 'refused' && !GAPS.has(outcome.code)) {
        throw new MatrixError(400, 'M_BAD_JSON', outcome.reason);
      }
      if (outcome.status === 'rejected' || outcome.status === 'soft_failed') {
        throw new MatrixError(403, 'M_FORBIDDEN', `The invite is not allowed: ${outcome.reason}`);
      }
      return;
    }
    const stripped = stripState(invite.inviteRoomState);
    await this.outOfBand.save({
      eventId: invite.eventId,
      pdu: invite.pdu,
      roomVersion: invite.roomVersion,
      servers: [invite.origin],
      strippedState: stripped,
    });
  }

  makeKnockTemplate(
    roomId: string,
    userId: string,
    supportedVersions: readonly string[],
  ): Promise<JoinTemplate> {
    return this.reads.makeKnockTemplate(roomId, userId, supportedVersions);
  }

  checkRestrictedJoin(roomId: string, userId: string): Promise<void> {
    return this.reads.checkRestrictedJoin(roomId, userId);
  }

  async prejoinState(roomId: string): Promise<PduJson[]> {
    const head = await this.heads.get(roomId);
    return head ? prejoinStateOf(head) : [];
  }
}
