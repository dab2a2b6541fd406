/**
 * The room endpoints of the client-server API: creating rooms, membership, sending and reading events.
 * Each handler parses its input, calls one service method and shapes the response.
 */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';
import type { RoomEventFilter } from '../services/timeline-service.js';
import { limitAction } from '../../rate-limits/api.js';
import {
  actorOf,
  param,
  queryBool,
  queryDir,
  queryInt,
  queryJson,
  queryServers,
  queryString,
} from './params.js';

const V3 = '/_matrix/client/v3';
const V1 = '/_matrix/client/v1';
const ROOM = `${V3}/rooms/:roomId`;

const AnyObject = Type.Object({}, { additionalProperties: true });
const StateEventSchema = Type.Object({
  type: Type.String({ minLength: 1 }),
  state_key: Type.Optional(Type.String()),
  content: AnyObject,
});
const CreateRoomSchema = Type.Object({
  visibility: Type.Optional(Type.Union([Type.Literal('public'), Type.Literal('private')])),
  room_alias_name: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  topic: Type.Optional(Type.String()),
  invite: Type.Optional(Type.Array(Type.String())),
  invite_3pid: Type.Optional(Type.Array(Type.Unknown())),
  room_version: Type.Optional(Type.String()),
  creation_content: Type.Optional(AnyObject),
  initial_state: Type.Optional(Type.Array(StateEventSchema)),
  preset: Type.Optional(
    Type.Union([
      Type.Literal('private_chat'),
      Type.Literal('public_chat'),
      Type.Literal('trusted_private_chat'),
    ]),
  ),
  is_direct: Type.Optional(Type.Boolean()),
  power_level_content_override: Type.Optional(AnyObject),
});
const ReasonSchema = Type.Object({ reason: Type.Optional(Type.String()) });
const TargetSchema = Type.Object({
  user_id: Type.String({ minLength: 1 }),
  reason: Type.Optional(Type.String()),
});
const InviteSchema = Type.Object({
  user_id: Type.Optional(Type.String({ minLength: 1 })),
  reason: Type.Optional(Type.String()),
  id_server: Type.Optional(Type.String()),
  medium: Type.Optional(Type.String()),
  address: Type.Optional(Type.String()),
});
const UpgradeSchema = Type.Object({
  new_version: Type.String({ minLength: 1 }),
  additional_creators: Type.Optional(Type.Array(Type.String())),
});

export function roomsRoutes(router: ModuleRouter, cradle: Cradle): void {
  const member = { auth: 'required', allowGuests: true } as const;
  const user = { auth: 'required' } as const;

  router.post(`${V3}/createRoom`, user, async (ctx) => {
    const body = await readBody(ctx, CreateRoomSchema);
    const roomId = await cradle.roomsCreation.createRoom(actorOf(ctx), body);
    ctx.body = { room_id: roomId };
  });

  // ---- membership ----------------------------------------------------------------------------------
  router.post(`${V3}/join/:roomIdOrAlias`, member, async (ctx) => {
    await limitAction(ctx, 'join', { room: param(ctx, 'roomIdOrAlias') });
    const { reason } = await readBody(ctx, ReasonSchema);
    ctx.body = {
      room_id: await cradle.roomsMembership.join(
        actorOf(ctx),
        param(ctx, 'roomIdOrAlias'),
        reason,
        queryServers(ctx),
      ),
    };
  });
  router.post(`${ROOM}/join`, member, async (ctx) => {
    await limitAction(ctx, 'join', { room: param(ctx, 'roomId') });
    const { reason } = await readBody(ctx, ReasonSchema);
    ctx.body = { room_id: await cradle.roomsMembership.join(actorOf(ctx), param(ctx, 'roomId'), reason) };
  });
  router.post(`${V3}/knock/:roomIdOrAlias`, user, async (ctx) => {
    const { reason } = await readBody(ctx, ReasonSchema);
    const servers = [ctx.query['via'], ctx.query['server_name']].flat().filter((s) => typeof s === 'string');
    ctx.body = {
      room_id: await cradle.roomsMembership.knock(actorOf(ctx), param(ctx, 'roomIdOrAlias'), reason, servers),
    };
  });
  router.post(`${ROOM}/invite`, user, async (ctx) => {
    const body = await readBody(ctx, InviteSchema);
    if (body.user_id === undefined) {
      throw new MatrixError(
        400,
        'M_UNRECOGNIZED',
        'Third-party invites (id_server/medium/address) are not supported',
      );
    }
    await limitAction(ctx, 'invite', { room: param(ctx, 'roomId'), target: body.user_id });
    await cradle.roomsMembership.invite(actorOf(ctx), param(ctx, 'roomId'), body.user_id, body.reason);
    ctx.body = {};
  });
  router.post(`${ROOM}/leave`, member, async (ctx) => {
    const { reason } = await readBody(ctx, ReasonSchema);
    await cradle.roomsMembership.leave(actorOf(ctx), param(ctx, 'roomId'), reason);
    ctx.body = {};
  });
  for (const action of ['kick', 'ban', 'unban'] as const) {
    router.post(`${ROOM}/${action}`, user, async (ctx) => {
      const body = await readBody(ctx, TargetSchema);
      await cradle.roomsMembership.moderate(
        actorOf(ctx),
        param(ctx, 'roomId'),
        action,
        body.user_id,
        body.reason,
      );
      ctx.body = {};
    });
  }
  router.post(`${ROOM}/forget`, member, async (ctx) => {
    await cradle.roomsMembership.forget(actorOf(ctx), param(ctx, 'roomId'));
    ctx.body = {};
  });
  router.get(`${V3}/joined_rooms`, member, async (ctx) => {
    ctx.body = { joined_rooms: await cradle.roomsMembership.joinedRooms(actorOf(ctx).userId) };
  });

  // ---- sending -------------------------------------------------------------------------------------
  router.put(`${ROOM}/send/:eventType/:txnId`, member, async (ctx) => {
    await limitAction(ctx, 'message');
    const content = (await readBody(ctx, AnyObject)) as JsonObject;
    const sent = await cradle.roomsEvents.sendMessage(
      actorOf(ctx),
      param(ctx, 'roomId'),
      param(ctx, 'eventType'),
      param(ctx, 'txnId'),
      content,
    );
    ctx.body = { event_id: sent.eventId };
  });
  const putState = async (ctx: AxonContext, key: string): Promise<void> => {
    await limitAction(ctx, 'message');
    const content = (await readBody(ctx, AnyObject)) as JsonObject;
    const sent = await cradle.roomsEvents.sendState(
      actorOf(ctx),
      param(ctx, 'roomId'),
      param(ctx, 'eventType'),
      key,
      content,
    );
    ctx.body = { event_id: sent.eventId };
  };
  router.put(`${ROOM}/state/:eventType`, user, (ctx) => putState(ctx, ''));
  router.put(`${ROOM}/state/:eventType/:stateKey`, user, (ctx) => putState(ctx, param(ctx, 'stateKey')));
  router.put(`${ROOM}/redact/:eventId/:txnId`, member, async (ctx) => {
    await limitAction(ctx, 'redaction');
    const body = (await readBody(ctx, AnyObject)) as JsonObject;
    const sent = await cradle.roomsEvents.redact(
      actorOf(ctx),
      param(ctx, 'roomId'),
      param(ctx, 'eventId'),
      param(ctx, 'txnId'),
      body,
    );
    ctx.body = { event_id: sent.eventId };
  });
  router.post(`${ROOM}/upgrade`, user, async (ctx) => {
    const body = await readBody(ctx, UpgradeSchema);
    const replacement = await cradle.roomsUpgrade.upgrade(
      actorOf(ctx),
      param(ctx, 'roomId'),
      body.new_version,
      body.additional_creators,
    );
    ctx.body = { replacement_room: replacement };
  });

  // ---- state reads ---------------------------------------------------------------------------------
  router.get(`${ROOM}/state`, member, async (ctx) => {
    ctx.body = await cradle.roomsEvents.state(actorOf(ctx), param(ctx, 'roomId'));
  });
  const getState = async (ctx: AxonContext, key: string): Promise<void> => {
    const event = await cradle.roomsEvents.stateEvent(
      actorOf(ctx),
      param(ctx, 'roomId'),
      param(ctx, 'eventType'),
      key,
    );
    ctx.body = queryString(ctx, 'format') === 'event' ? event : event.content;
  };
  router.get(`${ROOM}/state/:eventType`, member, (ctx) => getState(ctx, ''));
  router.get(`${ROOM}/state/:eventType/:stateKey`, member, (ctx) => getState(ctx, param(ctx, 'stateKey')));
  router.get(`${ROOM}/members`, member, async (ctx) => {
    const chunk = await cradle.roomsEvents.members(actorOf(ctx), param(ctx, 'roomId'), {
      at: queryString(ctx, 'at'),
      membership: queryString(ctx, 'membership'),
      notMembership: queryString(ctx, 'not_membership'),
    });
    ctx.body = { chunk };
  });
  router.get(`${ROOM}/joined_members`, member, async (ctx) => {
    ctx.body = { joined: await cradle.roomsEvents.joinedMembers(actorOf(ctx), param(ctx, 'roomId')) };
  });

  // ---- timeline ------------------------------------------------------------------------------------
  router.get(`${ROOM}/messages`, member, async (ctx) => {
    ctx.body = await cradle.roomsTimeline.messages(actorOf(ctx), param(ctx, 'roomId'), {
      from: queryString(ctx, 'from'),
      to: queryString(ctx, 'to'),
      dir: queryDir(ctx, 'f'),
      limit: queryInt(ctx, 'limit', 10),
      filter: queryJson<RoomEventFilter>(ctx, 'filter'),
    });
  });
  router.get(`${ROOM}/context/:eventId`, member, async (ctx) => {
    ctx.body = await cradle.roomsTimeline.context(
      actorOf(ctx),
      param(ctx, 'roomId'),
      param(ctx, 'eventId'),
      Math.min(Math.max(queryInt(ctx, 'limit', 10), 0), 100),
      queryJson<RoomEventFilter>(ctx, 'filter'),
    );
  });
  router.get(`${ROOM}/event/:eventId`, member, async (ctx) => {
    ctx.body = await cradle.roomsTimeline.event(actorOf(ctx), param(ctx, 'roomId'), param(ctx, 'eventId'));
  });
  const relations = async (ctx: AxonContext): Promise<void> => {
    ctx.body = await cradle.roomsTimeline.relations(
      actorOf(ctx),
      param(ctx, 'roomId'),
      param(ctx, 'eventId'),
      {
        relType: ctx.params['relType'],
        eventType: ctx.params['eventType'],
        from: queryString(ctx, 'from'),
        to: queryString(ctx, 'to'),
        limit: queryInt(ctx, 'limit', 50),
        dir: queryDir(ctx, 'b'),
        recurse: queryString(ctx, 'recurse') === undefined ? undefined : queryBool(ctx, 'recurse'),
      },
    );
  };
  router.get(`${V1}/rooms/:roomId/relations/:eventId`, member, relations);
  router.get(`${V1}/rooms/:roomId/relations/:eventId/:relType`, member, relations);
  router.get(`${V1}/rooms/:roomId/relations/:eventId/:relType/:eventType`, member, relations);
  router.get(`${V1}/rooms/:roomId/threads`, member, async (ctx) => {
    const include = queryString(ctx, 'include') ?? 'all';
    if (include !== 'all' && include !== 'participated')
      throw new MatrixError(400, 'M_INVALID_PARAM', 'include must be all or participated');
    ctx.body = await cradle.roomsTimeline.threads(actorOf(ctx), param(ctx, 'roomId'), {
      include,
      from: queryString(ctx, 'from'),
      limit: queryInt(ctx, 'limit', 50),
    });
  });
  router.get(`${V1}/rooms/:roomId/timestamp_to_event`, member, async (ctx) => {
    const ts = queryString(ctx, 'ts');
    if (ts === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing ts');
    const dir = queryString(ctx, 'dir');
    if (dir !== 'f' && dir !== 'b') throw new MatrixError(400, 'M_INVALID_PARAM', 'dir must be f or b');
    ctx.body = await cradle.roomsTimeline.timestampToEvent(
      actorOf(ctx),
      param(ctx, 'roomId'),
      queryInt(ctx, 'ts', 0),
      dir,
    );
  });
}
