/** HTTP for aliases, the room directory, spaces, summaries and mutual rooms. */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { isValidRoomId } from '../../../core/protocol/identifiers.js';
import { federationAuthenticated } from '../../federation/api.js';
import type { PublicRoomsQuery } from '../services/public-rooms-service.js';

const C = '/_matrix/client/v3';
const V1 = '/_matrix/client/v1';
const F = '/_matrix/federation/v1';

const AliasBody = Type.Object({ room_id: Type.String() });
const VisibilityBody = Type.Object({
  visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private')])),
});
const PublicRoomsBody = Type.Object({
  limit: Type.Optional(Type.Integer()),
  since: Type.Optional(Type.String()),
  filter: Type.Optional(
    Type.Object({
      generic_search_term: Type.Optional(Type.String()),
      room_types: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Null()]))),
    }),
  ),
  include_all_networks: Type.Optional(Type.Boolean()),
  third_party_instance_id: Type.Optional(Type.String()),
});

function query(ctx: AxonContext, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

function queryInt(ctx: AxonContext, name: string): number | undefined {
  const v = query(ctx, name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be an integer`);
  return Number(v);
}

function param(ctx: AxonContext, name: string): string {
  return ctx.params[name] ?? '';
}

function roomIdParam(ctx: AxonContext): string {
  const roomId = param(ctx, 'roomId');
  if (!isValidRoomId(roomId)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room id: ${roomId}`);
  return roomId;
}

export function directoryRoutes(router: ModuleRouter, cradle: Cradle): void {
  const aliases = cradle.directoryAliasService;
  const directory = cradle.directoryPublicRooms;
  const spaces = cradle.directorySpaces;

  router.put(`${C}/directory/room/:roomAlias`, { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, AliasBody);
    await aliases.createAlias(requesterOf(ctx).userId, param(ctx, 'roomAlias'), body.room_id);
    ctx.body = {};
  });
  router.get(`${C}/directory/room/:roomAlias`, { auth: 'none' }, async (ctx) => {
    ctx.body = await aliases.resolveAlias(param(ctx, 'roomAlias'));
  });
  router.delete(`${C}/directory/room/:roomAlias`, { auth: 'required' }, async (ctx) => {
    await aliases.deleteAlias(requesterOf(ctx).userId, param(ctx, 'roomAlias'));
    ctx.body = {};
  });
  router.get(`${C}/rooms/:roomId/aliases`, { auth: 'required', allowGuests: true }, async (ctx) => {
    ctx.body = { aliases: await aliases.roomAliases(requesterOf(ctx).userId, roomIdParam(ctx)) };
  });

  router.get(`${C}/directory/list/room/:roomId`, { auth: 'none' }, async (ctx) => {
    ctx.body = { visibility: await directory.getVisibility(roomIdParam(ctx)) };
  });
  router.put(`${C}/directory/list/room/:roomId`, { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, VisibilityBody);
    await directory.setVisibility(requesterOf(ctx).userId, roomIdParam(ctx), body.visibility ?? 'public');
    ctx.body = {};
  });

  // Synapse lets anyone read our own list, but asking another server needs an access token.
  router.get(`${C}/publicRooms`, { auth: 'optional' }, async (ctx) => {
    const server = query(ctx, 'server');
    if (server !== undefined && server !== cradle.serverName && !ctx.state.requester)
      throw new MatrixError(401, 'M_MISSING_TOKEN', 'An access token is needed to list another server');
    ctx.body = await directory.publicRooms({
      limit: queryInt(ctx, 'limit'),
      since: query(ctx, 'since'),
      server,
      thirdPartyInstanceId: query(ctx, 'third_party_instance_id'),
    });
  });
  router.post(`${C}/publicRooms`, { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, PublicRoomsBody);
    ctx.body = await directory.publicRooms({
      limit: body.limit,
      since: body.since,
      server: query(ctx, 'server'),
      searchTerm: body.filter?.generic_search_term,
      roomTypes: body.filter?.room_types,
      thirdPartyInstanceId: body.include_all_networks ? undefined : body.third_party_instance_id,
      includeAllNetworks: body.include_all_networks,
    });
  });

  // Server-server "Public Room Directory", for servers when allow_public_rooms_over_federation is set.
  const federationDirectory = async (ctx: AxonContext, request: PublicRoomsQuery): Promise<void> => {
    const origin = ctx.state.federationOrigin ?? '';
    if (!cradle.directoryRules.listedOverFederation)
      throw new MatrixError(403, 'M_FORBIDDEN', `Federation denied with ${origin}.`);
    // limit 0 means no limit (Synapse); rooms that do not federate stay off the list.
    const limit = request.limit === 0 ? undefined : request.limit;
    ctx.body = await directory.publicRooms({ ...request, limit, federatableOnly: true });
  };
  router.get(
    `${F}/publicRooms`,
    federationAuthenticated(cradle, async (ctx) => {
      const all = query(ctx, 'include_all_networks') === 'true';
      await federationDirectory(ctx, {
        limit: queryInt(ctx, 'limit'),
        since: query(ctx, 'since'),
        thirdPartyInstanceId: all ? undefined : query(ctx, 'third_party_instance_id'),
      });
    }),
  );
  router.post(
    `${F}/publicRooms`,
    federationAuthenticated(cradle, async (ctx) => {
      const body = await readBody(ctx, PublicRoomsBody);
      if (body.include_all_networks && body.third_party_instance_id !== undefined)
        throw new MatrixError(
          400,
          'M_INVALID_PARAM',
          "Can't use include_all_networks with an explicit network",
        );
      await federationDirectory(ctx, {
        limit: body.limit ?? 100,
        since: body.since,
        searchTerm: body.filter?.generic_search_term,
        roomTypes: body.filter?.room_types,
        thirdPartyInstanceId: body.include_all_networks ? undefined : body.third_party_instance_id,
      });
    }),
  );

  router.get(`${V1}/rooms/:roomId/hierarchy`, { auth: 'required', allowGuests: true }, async (ctx) => {
    const suggested = query(ctx, 'suggested_only');
    ctx.body = await spaces.hierarchy(requesterOf(ctx).userId, roomIdParam(ctx), {
      suggestedOnly: suggested === 'true',
      maxDepth: queryInt(ctx, 'max_depth'),
      limit: queryInt(ctx, 'limit'),
      from: query(ctx, 'from'),
    });
  });
  router.get(`${V1}/room_summary/:roomIdOrAlias`, { auth: 'optional' }, async (ctx) => {
    ctx.body = await spaces.roomSummary(ctx.state.requester?.userId, param(ctx, 'roomIdOrAlias'));
  });
  router.get(`${V1}/mutual_rooms`, { auth: 'required' }, async (ctx) => {
    const userId = query(ctx, 'user_id');
    if (!userId) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: user_id');
    ctx.body = await spaces.mutualRooms(requesterOf(ctx).userId, userId, query(ctx, 'from'));
  });
}
