/** PUT /sendToDevice/{eventType}/{txnId}, spec "Send-to-Device messaging". */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { limitAction } from '../../rate-limits/api.js';
import type { ToDeviceMessages } from '../api.js';

const SendBody = Type.Object({
  messages: Type.Record(
    Type.String(),
    Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
  ),
});

export function toDeviceRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.put(
    '/_matrix/client/v3/sendToDevice/:eventType/:txnId',
    { auth: 'required', allowGuests: true },
    async (ctx) => {
      const requester = requesterOf(ctx);
      const body = await readBody(ctx, SendBody);
      if (ctx.params['eventType'] === 'm.room_key_request') {
        const cost = Object.values(body.messages).reduce((n, devices) => n + Object.keys(devices).length, 0);
        await limitAction(ctx, 'key_requests', { cost });
      }
      await cradle.toDeviceService.send(
        { userId: requester.userId, deviceId: requester.deviceId, txnId: ctx.params['txnId'] ?? '' },
        ctx.params['eventType'] ?? '',
        body.messages as ToDeviceMessages,
      );
      ctx.body = {};
    },
  );
}
