/**
 * The resident side of send_join for a restricted room (server-server-api "Restricted rooms"): a join whose
 * `join_authorised_via_users_server` names one of our users needs our signature, which we give only when
 * the joining user meets the room's allow list now (else 403, or the spec's 400
 * `M_UNABLE_TO_AUTHORISE_JOIN` / `M_UNABLE_TO_GRANT_JOIN`). The auth rules then check that the user may
 * invite and is joined. The event the joining server gets back carries our signature.
 */
import type { Cradle } from '../../../core/container.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { PduJson } from '../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../core/protocol/room-versions.js';
import { signEvent } from '../../../core/protocol/signing.js';
import type { RoomsFederationApi } from '../../rooms/api.js';

export async function signRestrictedJoin(
  cradle: Pick<Cradle, 'serverName' | 'signingKey' | 'roomsApi'>,
  rooms: Pick<RoomsFederationApi, 'checkRestrictedJoin'>,
  roomId: string,
  pdu: Record<string, unknown>,
): Promise<unknown> {
  const content = pdu['content'] as Record<string, unknown>;
  const authoriser = content['join_authorised_via_users_server'];
  if (typeof authoriser !== 'string' || serverNameOf(authoriser) !== cradle.serverName) return pdu;
  const version = getRoomVersion((await cradle.roomsApi.roomVersion(roomId)) ?? '');
  if (!version?.restrictedJoinRule || typeof pdu['sender'] !== 'string') return pdu;
  await rooms.checkRestrictedJoin(roomId, pdu['sender']);
  if (typeof pdu['signatures'] !== 'object' || pdu['signatures'] === null) return pdu; // the pipeline refuses it
  try {
    return signEvent(pdu as unknown as PduJson, version, cradle.serverName, cradle.signingKey);
  } catch {
    return pdu; // not canonical JSON: the pipeline refuses it with the reason
  }
}
