/** GET /sync, spec "Syncing". */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { parseRequest } from '../../../core/validation.js';

const Bool = Type.Union([Type.Literal('true'), Type.Literal('false')]);

const SyncQuery = Type.Object({
  filter: Type.Optional(Type.String()),
  since: Type.Optional(Type.String()),
  full_state: Type.Optional(Bool),
  set_presence: Type.Optional(
    Type.Union([Type.Literal('offline'), Type.Literal('online'), Type.Literal('unavailable')]),
  ),
  timeout: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
  use_state_after: Type.Optional(Bool),
});

/** Synapse caps long-polls too: a client asking for an hour still gets an answer within this. */
const MAX_TIMEOUT_MS = 5 * 60_000;

export function syncRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/client/v3/sync', { auth: 'required', allowGuests: true }, async (ctx) => {
    const requester = requesterOf(ctx);
    const query = parseRequest(SyncQuery, { ...ctx.query }, 'query');
    const filter = await cradle.syncFiltersService.resolve(requester.userId, query.filter);
    ctx.body = await cradle.syncService.sync({
      userId: requester.userId,
      deviceId: requester.deviceId,
      since: query.since === '' ? undefined : query.since,
      filter,
      fullState: query.full_state === 'true',
      setPresence: query.set_presence ?? 'online',
      timeoutMs: Math.min(Number(query.timeout ?? '0'), MAX_TIMEOUT_MS),
      useStateAfter: query.use_state_after === 'true',
    });
  });
}
