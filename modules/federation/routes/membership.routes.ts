/**
 * Invites, knocks and leaves across servers, inbound (server-server-api "Inviting to a room", "Knocking upon a
 * room", "Leaving Rooms (Rejecting Invites)"):
 *
 * - `PUT /v2/invite/{roomId}/{eventId}` (and v1): an invite of one of our users from another server —
 *   checked (room version, format, the invitee ours, the inviter of the origin, signatures and hash, the
 *   room's server ACL when we hold it, the spam checkers), signed by us and stored (rooms' `receiveInvite`);
 * - `GET /v1/make_knock`, `PUT /v1/send_knock`: the resident side of a knock;
 * - `GET /v1/make_leave`, `PUT /v2/send_leave` (and v1): the resident side of a leave (a rejected invite)
 *   — the same endpoints as branch remotejoin's in rooms.routes.ts: at the merge keep one of them.
 *
 * Every endpoint is X-Matrix authenticated.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { isValidUserId, serverNameOf } from '../../../core/protocol/identifiers.js';
import type { JsonObject, PduJson } from '../../../core/protocol/pdu.js';
import { checkPduOnReceipt } from '../../../core/protocol/pdu-receipt.js';
import { getRoomVersion } from '../../../core/protocol/room-versions.js';
import { signEvent } from '../../../core/protocol/signing.js';
import { federationAuthenticated } from '../api.js';
import { receiveMembershipEvent, requestOrigin, templateRequest } from './resident-membership.js';
import { roomAccess } from './room-access.js';

export function membershipRoutes(router: ModuleRouter, cradle: Cradle): void {
  const { rooms, checkAcl } = roomAccess(cradle);
  const origin = requestOrigin;

  const receiveInvite = async (
    ctx: AxonContext,
    roomVersionId: string,
    event: unknown,
    inviteRoomState: unknown,
  ): Promise<PduJson> => {
    const roomId = ctx.params['roomId'] ?? '';
    const eventId = ctx.params['eventId'] ?? '';
    const version = getRoomVersion(roomVersionId);
    if (!version) {
      throw new MatrixError(
        400,
        'M_INCOMPATIBLE_ROOM_VERSION',
        `Room version ${roomVersionId} is not supported`,
        {
          room_version: roomVersionId,
        },
      );
    }
    if (inviteRoomState !== undefined && !Array.isArray(inviteRoomState)) {
      throw new MatrixError(400, 'M_BAD_JSON', 'invite_room_state must be an array');
    }
    const state = (inviteRoomState ?? []).filter(
      (e): e is JsonObject => typeof e === 'object' && e !== null && !Array.isArray(e),
    );
    if (version.roomIdIsCreateEventHash && !state.some((e) => e['type'] === 'm.room.create')) {
      // Spec v1.16: the invite's room state must hold the create event (required outright from v12).
      throw new MatrixError(400, 'M_MISSING_PARAM', 'invite_room_state must contain the m.room.create event');
    }
    const verdict = await checkPduOnReceipt({
      pdu: event,
      roomVersion: version,
      keys: cradle.federationTransactions.keys,
      roomId,
    });
    if (!verdict.accepted) {
      if (verdict.stage === 'signatures') {
        throw new MatrixError(403, 'M_FORBIDDEN', `The invite's signature is not valid: ${verdict.reason}`);
      }
      throw new MatrixError(400, 'M_BAD_JSON', `Not a valid event: ${verdict.reason}`);
    }
    if (verdict.redacted)
      throw new MatrixError(400, 'M_BAD_JSON', "The invite's content hash does not match");
    const { pdu } = verdict;
    if (verdict.eventId !== eventId) {
      throw new MatrixError(400, 'M_BAD_JSON', `The event's id is ${verdict.eventId}, not ${eventId}`);
    }
    const invitee = pdu.state_key ?? '';
    if (pdu.type !== 'm.room.member' || pdu.content['membership'] !== 'invite' || !isValidUserId(invitee)) {
      throw new MatrixError(400, 'M_BAD_JSON', 'Not an invite event');
    }
    // 400s, as Synapse answers these.
    if (serverNameOf(invitee) !== cradle.serverName) {
      throw new MatrixError(400, 'M_UNKNOWN', 'The invite event must be for this server');
    }
    if (serverNameOf(pdu.sender) !== origin(ctx)) {
      throw new MatrixError(400, 'M_UNKNOWN', 'The invite event was not from the server sending it');
    }
    await checkAcl(roomId, origin(ctx));
    await cradle.spamCheckers.assertAllowed('federatedUserMayInvite', { event: pdu });
    await cradle.spamCheckers.assertAllowed('userMayInvite', { inviter: pdu.sender, invitee, roomId });
    const signed = signEvent(pdu, version, cradle.serverName, cradle.signingKey);
    await rooms().receiveInvite({
      roomVersion: version.id,
      eventId,
      pdu: signed,
      inviteRoomState: state,
      origin: origin(ctx),
      keys: cradle.federationTransactions.keys,
    });
    return signed;
  };

  router.put(
    '/_matrix/federation/v2/invite/:roomId/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const body = await readJson(ctx);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new MatrixError(400, 'M_BAD_JSON', 'The body must be a JSON object');
      }
      const b = body as Record<string, unknown>;
      if (typeof b['room_version'] !== 'string') {
        throw new MatrixError(400, 'M_MISSING_PARAM', 'room_version is required');
      }
      ctx.body = { event: await receiveInvite(ctx, b['room_version'], b['event'], b['invite_room_state']) };
    }),
  );

  // v1: the body is the event itself, the room version is "1" (as Synapse), the answer `[200, {event}]`.
  router.put(
    '/_matrix/federation/v1/invite/:roomId/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const event = await readJson(ctx);
      const state = (event as { unsigned?: { invite_room_state?: unknown } } | null)?.unsigned
        ?.invite_room_state;
      ctx.body = [200, { event: await receiveInvite(ctx, '1', event, state) }];
    }),
  );

  const templateRoute = (membership: 'knock' | 'leave') =>
    federationAuthenticated(cradle, async (ctx) => {
      const { roomId, userId } = await templateRequest(cradle, ctx);
      if (membership === 'leave') {
        const template = await rooms().makeLeaveTemplate(roomId, userId);
        ctx.body = { room_version: template.roomVersion, event: template.event };
        return;
      }
      const ver = ctx.query['ver'];
      if (ver === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'ver is required');
      const versions = Array.isArray(ver) ? ver : [ver];
      const template = await rooms().makeKnockTemplate(roomId, userId, versions);
      ctx.body = { room_version: template.roomVersion, event: template.event };
    });
  router.get('/_matrix/federation/v1/make_knock/:roomId/:userId', templateRoute('knock'));

  /** send_knock / send_leave: the signed event of the origin's user through the receive pipeline. */
  const sendRoute = (membership: 'knock' | 'leave', answer: (roomId: string) => Promise<unknown>) =>
    federationAuthenticated(cradle, async (ctx) => {
      const { roomId } = await receiveMembershipEvent(cradle, ctx, membership);
      ctx.body = await answer(roomId);
    });
  router.put(
    '/_matrix/federation/v1/send_knock/:roomId/:eventId',
    sendRoute('knock', async (roomId) => {
      const state = await rooms().prejoinState(roomId);
      // Synapse 1.37–1.69 read the state only under `knock_state_events` (its name before the spec's), and
      // fail the knock without it; Synapse 1.70–1.94 sent both names, as here.
      return { knock_room_state: state, knock_state_events: state };
    }),
  );
  // ---- the resident side of leaves: the same endpoints as branch remotejoin's (rooms.routes.ts); at the
  // merge keep one set (these three registrations and makeLeaveTemplate's 'leave' branch above).
  router.get('/_matrix/federation/v1/make_leave/:roomId/:userId', templateRoute('leave'));
  router.put(
    '/_matrix/federation/v2/send_leave/:roomId/:eventId',
    sendRoute('leave', async () => ({})),
  );
  router.put(
    '/_matrix/federation/v1/send_leave/:roomId/:eventId',
    sendRoute('leave', async () => [200, {}]),
  );
}
