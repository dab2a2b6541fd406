/**
 * What the resident side of every membership handshake shares (server-server-api "Joining Rooms",
 * "Knocking upon a room", "Leaving Rooms"): the template endpoints (`make_join`, `make_knock`, `make_leave`)
 * and the send endpoints (`send_join`, `send_knock`, `send_leave`), used by rooms.routes.ts and
 * membership.routes.ts.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import { isValidUserId, serverNameOf } from '../../../core/protocol/identifiers.js';
import { roomAccess } from './room-access.js';

export type Membership = 'join' | 'knock' | 'leave';

/** The authenticated requesting server (set by `federationAuthenticated`). */
export function requestOrigin(ctx: AxonContext): string {
  return ctx.state.federationOrigin!;
}

/** make_*: the room and user of the path, the user the origin's (403), the ACL checked. */
export async function templateRequest(
  cradle: Cradle,
  ctx: AxonContext,
): Promise<{ roomId: string; userId: string }> {
  const roomId = ctx.params['roomId'] ?? '';
  const userId = ctx.params['userId'] ?? '';
  if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
  if (serverNameOf(userId) !== requestOrigin(ctx)) {
    throw new MatrixError(403, 'M_FORBIDDEN', 'The user does not belong to the requesting server');
  }
  await roomAccess(cradle).checkAcl(roomId, requestOrigin(ctx));
  return { roomId, userId };
}

/**
 * send_*: the body must be a `membership` event of its sender whose id is `eventId`, from the origin; it
 * runs the receive pipeline (refused → 400, rejected or soft-failed → 403). `prepare` may replace the event
 * before it is received (a restricted join signed by us).
 */
export async function receiveMembershipEvent(
  cradle: Cradle,
  ctx: AxonContext,
  membership: Membership,
  prepare?: (roomId: string, pdu: Record<string, unknown>) => Promise<unknown>,
): Promise<{ roomId: string; eventId: string }> {
  const roomId = ctx.params['roomId'] ?? '';
  const eventId = ctx.params['eventId'] ?? '';
  const body = await readJson(ctx);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new MatrixError(400, 'M_BAD_JSON', `The ${membership} event must be a JSON object`);
  }
  const p = body as Record<string, unknown>;
  const content = p['content'] as Record<string, unknown> | undefined;
  if (
    p['type'] !== 'm.room.member' ||
    typeof p['sender'] !== 'string' ||
    p['state_key'] !== p['sender'] ||
    typeof content !== 'object' ||
    content === null ||
    content['membership'] !== membership
  ) {
    throw new MatrixError(400, 'M_BAD_JSON', `Not a ${membership} event of its sender`);
  }
  await roomAccess(cradle).checkAcl(roomId, requestOrigin(ctx));
  const api = roomAccess(cradle).rooms();
  const computed = await api.eventIdOf(p);
  if (computed === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown room or bad event');
  if (computed !== eventId) {
    throw new MatrixError(400, 'M_BAD_JSON', `The event's id is ${computed}, not ${eventId}`);
  }
  const pdu = prepare ? await prepare(roomId, p) : p;
  const outcome = await api.receivePdu({
    pdu,
    keys: cradle.federationTransactions.keys,
    roomId,
    origin: requestOrigin(ctx),
  });
  if (outcome.status === 'refused') throw new MatrixError(400, 'M_BAD_JSON', outcome.reason);
  if (outcome.status === 'rejected' || outcome.status === 'soft_failed') {
    throw new MatrixError(403, 'M_FORBIDDEN', `The ${membership} is not allowed: ${outcome.reason}`);
  }
  return { roomId, eventId };
}
