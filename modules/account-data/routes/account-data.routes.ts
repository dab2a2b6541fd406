/** GET/PUT account data (global and per room) and room tags, spec "Client Config" and "Room Tagging". */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { isValidRoomId } from '../../../core/protocol/identifiers.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';

const AnyObject = Type.Record(Type.String(), Type.Unknown());
const TagBody = Type.Object({ order: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })) });

const BASE = '/_matrix/client/v3/user/:userId';

/** The user in the path, which must be the requester (nobody reads or writes another's account data). */
function ownUser(ctx: AxonContext, verb: string): string {
  const userId = ctx.params['userId'] ?? '';
  if (requesterOf(ctx).userId !== userId) {
    throw new MatrixError(403, 'M_FORBIDDEN', `Cannot ${verb} account data for other users.`);
  }
  return userId;
}

function roomOf(ctx: AxonContext): string {
  const roomId = ctx.params['roomId'] ?? '';
  if (!isValidRoomId(roomId))
    throw new MatrixError(400, 'M_INVALID_PARAM', `${roomId} is not a valid room ID`);
  return roomId;
}

export function accountDataRoutes(router: ModuleRouter, cradle: Cradle): void {
  const service = () => cradle.accountDataService;
  const opts = { auth: 'required', allowGuests: true } as const;

  router.get(`${BASE}/account_data/:type`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'get');
    const content = await service().getGlobal(userId, ctx.params['type'] ?? '');
    if (!content) throw new MatrixError(404, 'M_NOT_FOUND', 'Account data not found');
    ctx.body = content;
  });

  router.put(`${BASE}/account_data/:type`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'add');
    const content = (await readBody(ctx, AnyObject)) as JsonObject;
    await service().putGlobalFromClient(userId, ctx.params['type'] ?? '', content);
    ctx.body = {};
  });

  router.get(`${BASE}/rooms/:roomId/account_data/:type`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'get');
    const content = await service().getForRoom(userId, roomOf(ctx), ctx.params['type'] ?? '');
    if (!content) throw new MatrixError(404, 'M_NOT_FOUND', 'Room account data not found');
    ctx.body = content;
  });

  router.put(`${BASE}/rooms/:roomId/account_data/:type`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'add');
    const roomId = roomOf(ctx);
    const content = (await readBody(ctx, AnyObject)) as JsonObject;
    await service().putForRoomFromClient(userId, roomId, ctx.params['type'] ?? '', content);
    ctx.body = {};
  });

  router.get(`${BASE}/rooms/:roomId/tags`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'get');
    ctx.body = { tags: await service().getTags(userId, roomOf(ctx)) };
  });

  router.put(`${BASE}/rooms/:roomId/tags/:tag`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'add');
    const roomId = roomOf(ctx);
    const body = await readBody(ctx, TagBody);
    await service().putTag(userId, roomId, ctx.params['tag'] ?? '', body);
    ctx.body = {};
  });

  router.delete(`${BASE}/rooms/:roomId/tags/:tag`, opts, async (ctx) => {
    const userId = ownUser(ctx, 'remove');
    await service().deleteTag(userId, roomOf(ctx), ctx.params['tag'] ?? '');
    ctx.body = {};
  });
}
