/**
 * The resident server's history reads (server-server-api "Retrieving events", "Backfilling and retrieving
 * missing events", "Timestamp to event"): `/event`, `/state`, `/state_ids`, `/event_auth`, `/backfill`,
 * `/get_missing_events`, `/timestamp_to_event`. Each is X-Matrix authenticated, checks the room's server
 * ACL and that the requesting server is in the room, and serves only the history that server is entitled
 * to (rooms' server visibility: hidden events come redacted; the state or auth chain at a hidden event is
 * refused with 403).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { federationAuthenticated } from '../api.js';
import { roomAccess } from './room-access.js';

/** get_missing_events' default and largest `limit`; /backfill's largest (as Synapse). */
const MISSING_EVENTS_DEFAULT_LIMIT = 10;
const MISSING_EVENTS_MAX_LIMIT = 20;
const BACKFILL_MAX_LIMIT = 100;

/** The values of a query parameter (koa gives a string or, when repeated, an array). */
function queryValues(ctx: AxonContext, name: string): string[] {
  const v = ctx.query[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** A required integer query parameter: 400 M_MISSING_PARAM when absent, M_INVALID_PARAM when not one. */
function intParam(ctx: AxonContext, name: string): number {
  const [v] = queryValues(ctx, name);
  if (v === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', `${name} is required`);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new MatrixError(400, 'M_INVALID_PARAM', `${name} must be an integer`);
  }
  return Number(v);
}

function stringList(body: Record<string, unknown>, name: string): string[] {
  const v = body[name];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string')) {
    throw new MatrixError(400, 'M_BAD_JSON', `${name} must be a list of event ids`);
  }
  return v;
}

function optionalInt(body: Record<string, unknown>, name: string, fallback: number): number {
  const v = body[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new MatrixError(400, 'M_BAD_JSON', `${name} must be an integer`);
  }
  return v;
}

export function readsRoutes(router: ModuleRouter, cradle: Cradle): void {
  const { rooms, checkInRoom } = roomAccess(cradle);
  const origin = (ctx: AxonContext): string => ctx.state.federationOrigin!;
  const param = (ctx: AxonContext, name: string): string => ctx.params[name] ?? '';

  router.get(
    '/_matrix/federation/v1/event/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const found = await rooms().pduForServer(origin(ctx), param(ctx, 'eventId'));
      if (!found) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown event');
      await checkInRoom(found.roomId, origin(ctx));
      ctx.body = { origin: cradle.serverName, origin_server_ts: Date.now(), pdus: [found.pdu] };
    }),
  );

  const stateRoute = (idsOnly: boolean) =>
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = param(ctx, 'roomId');
      const [eventId] = queryValues(ctx, 'event_id');
      if (eventId === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'event_id is required');
      await checkInRoom(roomId, origin(ctx));
      const at = await rooms().stateBeforeEventForServer(origin(ctx), eventId);
      if (at === 'hidden') throw new MatrixError(403, 'M_FORBIDDEN', 'Your server may not see this event');
      if (!at || at.roomId !== roomId) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown event');
      ctx.body = idsOnly
        ? { pdu_ids: at.stateIds, auth_chain_ids: at.authChainIds }
        : { pdus: at.state, auth_chain: at.authChain };
    });
  router.get('/_matrix/federation/v1/state_ids/:roomId', stateRoute(true));
  router.get('/_matrix/federation/v1/state/:roomId', stateRoute(false));

  router.get(
    '/_matrix/federation/v1/event_auth/:roomId/:eventId',
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = param(ctx, 'roomId');
      await checkInRoom(roomId, origin(ctx));
      const chain = await rooms().eventAuthChain(origin(ctx), roomId, param(ctx, 'eventId'));
      if (chain === 'hidden') throw new MatrixError(403, 'M_FORBIDDEN', 'Your server may not see this event');
      if (!chain) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown event');
      ctx.body = { auth_chain: chain };
    }),
  );

  router.get(
    '/_matrix/federation/v1/backfill/:roomId',
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = param(ctx, 'roomId');
      const from = queryValues(ctx, 'v');
      if (from.length === 0) throw new MatrixError(400, 'M_MISSING_PARAM', 'v is required');
      const limit = intParam(ctx, 'limit');
      if (limit < 0) throw new MatrixError(400, 'M_INVALID_PARAM', 'limit must not be negative');
      await checkInRoom(roomId, origin(ctx));
      const pdus = await rooms().backfill(origin(ctx), roomId, from, Math.min(limit, BACKFILL_MAX_LIMIT));
      ctx.body = { origin: cradle.serverName, origin_server_ts: Date.now(), pdus };
    }),
  );

  router.post(
    '/_matrix/federation/v1/get_missing_events/:roomId',
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = param(ctx, 'roomId');
      const body = await readJson(ctx);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new MatrixError(400, 'M_BAD_JSON', 'The body must be a JSON object');
      }
      const b = body as Record<string, unknown>;
      const query = {
        earliest: stringList(b, 'earliest_events'),
        latest: stringList(b, 'latest_events'),
        limit: Math.min(
          Math.max(optionalInt(b, 'limit', MISSING_EVENTS_DEFAULT_LIMIT), 0),
          MISSING_EVENTS_MAX_LIMIT,
        ),
        minDepth: optionalInt(b, 'min_depth', 0),
      };
      await checkInRoom(roomId, origin(ctx));
      ctx.body = { events: await rooms().missingEvents(origin(ctx), roomId, query) };
    }),
  );

  router.get(
    '/_matrix/federation/v1/timestamp_to_event/:roomId',
    federationAuthenticated(cradle, async (ctx) => {
      const roomId = param(ctx, 'roomId');
      const ts = intParam(ctx, 'ts');
      const [dir] = queryValues(ctx, 'dir');
      if (dir === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'dir is required');
      if (dir !== 'f' && dir !== 'b') throw new MatrixError(400, 'M_INVALID_PARAM', "dir must be 'f' or 'b'");
      await checkInRoom(roomId, origin(ctx));
      const found = await rooms().eventNearTimestamp(roomId, ts, dir);
      if (!found) {
        throw new MatrixError(404, 'M_NOT_FOUND', `Unable to find event from ${ts} in direction ${dir}`);
      }
      ctx.body = { event_id: found.eventId, origin_server_ts: found.originServerTs };
    }),
  );
}
