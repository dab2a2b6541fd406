/**
 * The resident server's room endpoints (server-server-api "Joining rooms", "Retrieving events"):
 * `make_join`, `send_join` v2 (the reads are in reads.routes.ts). Rooms answer through its
 * `RoomsFederationApi`; every endpoint is X-Matrix authenticated and checks the room's server ACL.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { federationAuthenticated } from '../api.js';
import { signRestrictedJoin } from '../services/restricted-join-signing.js';
import { receiveMembershipEvent, templateRequest } from './resident-membership.js';
import { roomAccess } from './room-access.js';

export function roomsRoutes(router: ModuleRouter, cradle: Cradle): void {
  const { rooms } = roomAccess(cradle);

  router.get(
    '/_matrix/federation/v1/make_join/:roomId/:userId',
    federationAuthenticated(cradle, async (ctx) => {
      const { roomId, userId } = await templateRequest(cradle, ctx);
      const ver = ctx.query['ver'];
      const versions = ver === undefined ? ['1'] : Array.isArray(ver) ? ver : [ver];
      const template = await rooms().makeJoinTemplate(roomId, userId, versions);
      ctx.body = { room_version: template.roomVersion, event: template.event };
    }),
  );

  router.put(
    '/_matrix/federation/v2/send_join/:roomId/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const api = rooms();
      const { roomId, eventId } = await receiveMembershipEvent(cradle, ctx, 'join', (room, pdu) =>
        // A restricted join vouched for by one of our users: ours to sign (restricted-join-signing.ts).
        signRestrictedJoin(cradle, api, room, pdu),
      );
      const [stored, before] = await Promise.all([api.getPdu(eventId), api.stateBeforeEvent(eventId)]);
      if (!stored || !before) throw new MatrixError(403, 'M_FORBIDDEN', 'The join was rejected');
      ctx.body = {
        origin: cradle.serverName,
        event: stored.pdu,
        state: before.state,
        auth_chain: await api.authChain([...before.state, stored.pdu]),
        members_omitted: false,
        servers_in_room: await api.serversInRoom(roomId),
      };
    }),
  );
}
