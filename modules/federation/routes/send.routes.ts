/** `PUT /_matrix/federation/v1/send/{txnId}`: inbound transactions (services/transaction-receiver.ts). */
import type { Cradle } from '../../../core/container.js';
import { readJson } from '../../../core/http/body.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { federationAuthenticated } from '../api.js';
import { FEDERATION_BODY } from '../services/request-authenticator.js';

export function sendRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.put(
    '/_matrix/federation/v1/send/:txnId',
    federationAuthenticated(cradle, async (ctx) => {
      const body = await readJson(ctx, FEDERATION_BODY);
      ctx.body = await cradle.federationTransactions.receive(
        ctx.state.federationOrigin!,
        ctx.params['txnId'] ?? '',
        body,
      );
    }),
  );
}
