/**
 * The resident server's room endpoints (server-server-api "Joining rooms", "Retrieving events"):
 * `make_join`, `send_join` v2 (the reads are in reads.routes.ts). Rooms answer through its
 * `RoomsFederationApi`; every endpoint is X-Matrix authenticated and checks the room's server ACL.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { isValidUserId, serverNameOf } from '../../../core/protocol/identifiers.js';
import { federationAuthenticated } from '../api.js';
import { roomAccess } from './room-access.js';

export function roomsRoutes(router: ModuleRouter, cradle: Cradle): void {
  const { rooms, checkAcl } = roomAccess(cradle);
  const origin = (ctx: AxonContext): string => ctx.state.federationOrigin!;

  router.get(
    '/_matrix/federation/v1/make_join/:roomId/:userId',
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = ctx.params['roomId'] ?? '';
      const userId = ctx.params['userId'] ?? '';
      if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
      if (serverNameOf(userId) !== origin(ctx)) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'The user does not belong to the requesting server');
      }
      const ver = ctx.query['ver'];
      const versions = ver === undefined ? ['1'] : Array.isArray(ver) ? ver : [ver];
      await checkAcl(roomId, origin(ctx));
      const template = await rooms().makeJoinTemplate(roomId, userId, versions);
      ctx.body = { room_version: template.roomVersion, event: template.event };
    }),
  );

  router.put(
    '/_matrix/federation/v2/send_join/:roomId/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = ctx.params['roomId'] ?? '';
      const eventId = ctx.params['eventId'] ?? '';
      const pdu = await readJson(ctx);
      if (typeof pdu !== 'object' || pdu === null || Array.isArray(pdu)) {
        throw new MatrixError(400, 'M_BAD_JSON', 'The join event must be a JSON object');
      }
      const p = pdu as Record<string, unknown>;
      const content = p['content'] as Record<string, unknown> | undefined;
      if (
        p['type'] !== 'm.room.member' ||
        typeof p['sender'] !== 'string' ||
        p['state_key'] !== p['sender'] ||
        typeof content !== 'object' ||
        content === null ||
        content['membership'] !== 'join'
      ) {
        throw new MatrixError(400, 'M_BAD_JSON', 'Not a join event of its sender');
      }
      await checkAcl(roomId, origin(ctx));
      const api = rooms();
      const computed = await api.eventIdOf(pdu);
      if (computed === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room or bad event');
      if (computed !== eventId) {
        throw new MatrixError(400, 'M_BAD_JSON', `The event's id is ${computed}, not ${eventId}`);
      }
      const outcome = await api.receivePdu({
        pdu,
        keys: cradle.federationTransactions.keys,
        roomId,
        origin: origin(ctx),
      });
      if (outcome.status === 'refused') throw new MatrixError(400, 'M_BAD_JSON', outcome.reason);
      if (outcome.status === 'rejected' || outcome.status === 'soft_failed') {
        throw new MatrixError(403, 'M_FORBIDDEN', `The join is not allowed: ${outcome.reason}`);
      }
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
