/**
 * The resident server's room endpoints (server-server-api "Joining rooms", "Retrieving events"):
 * `make_join`, `send_join` v2, `/event`, `/state`, `/state_ids`. Rooms answer through its
 * `RoomsFederationApi`; every endpoint is X-Matrix authenticated and checks the room's server ACL.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { isValidUserId, serverNameOf } from '../../../core/protocol/identifiers.js';
import type { RoomsFederationApi } from '../../rooms/api.js';
import { federationAuthenticated } from '../api.js';
import { isServerAllowedByAcl } from '../services/server-acl.js';
import { signRestrictedJoin } from '../services/restricted-join-signing.js';
import { receiveMembershipEvent, templateRequest } from './resident-membership.js';

export function roomsRoutes(router: ModuleRouter, cradle: Cradle): void {
  const rooms = (): RoomsFederationApi => {
    if (!cradle.enabledModules.includes('rooms')) {
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
    return cradle.roomsFederationApi;
  };
  /** 403 when the room's server ACL denies the requesting server. */
  const checkAcl = async (roomId: string, origin: string): Promise<void> => {
    const acl = await cradle.roomsApi.currentStateEvent(roomId, 'm.room.server_acl', '');
    if (acl && !isServerAllowedByAcl(origin, acl.content)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Server is banned from room');
    }
  };
  /** 403 unless the requesting server has a joined member in the room. */
  const checkInRoom = async (roomId: string, origin: string): Promise<void> => {
    await checkAcl(roomId, origin);
    if (!(await rooms().serversInRoom(roomId)).includes(origin)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Your server is not in the room');
    }
  };
  const origin = (ctx: AxonContext): string => ctx.state.federationOrigin!;

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

  router.get(
    '/_matrix/federation/v1/event/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const found = await rooms().getPdu(ctx.params['eventId'] ?? '');
      if (!found) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown event');
      await checkInRoom(found.roomId, origin(ctx));
      ctx.body = { origin: cradle.serverName, origin_server_ts: Date.now(), pdus: [found.pdu] };
    }),
  );

  const stateRoute = (idsOnly: boolean) =>
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = ctx.params['roomId'] ?? '';
      const eventId = ctx.query['event_id'];
      if (typeof eventId !== 'string') {
        throw new MatrixError(400, 'M_MISSING_PARAM', 'event_id is required');
      }
      await checkInRoom(roomId, origin(ctx));
      const at = await rooms().stateBeforeEvent(eventId);
      if (!at || at.roomId !== roomId) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown event');
      ctx.body = idsOnly
        ? { pdu_ids: at.stateIds, auth_chain_ids: at.authChainIds }
        : { pdus: at.state, auth_chain: at.authChain };
    });
  router.get('/_matrix/federation/v1/state_ids/:roomId', stateRoute(true));
  router.get('/_matrix/federation/v1/state/:roomId', stateRoute(false));
}
