import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const ReceiptBody = Type.Object({ thread_id: Type.Optional(Type.String()) });

const ReadMarkersBody = Type.Object({
  'm.fully_read': Type.Optional(Type.String()),
  'm.read': Type.Optional(Type.String()),
  'm.read.private': Type.Optional(Type.String()),
});

export function receiptsRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.post(
    '/_matrix/client/v3/rooms/:roomId/receipt/:receiptType/:eventId',
    { auth: 'required', allowGuests: true },
    async (ctx) => {
      const body = await readBody(ctx, ReceiptBody);
      const { roomId, receiptType, eventId } = ctx.params as {
        roomId: string;
        receiptType: string;
        eventId: string;
      };
      await cradle.receiptsService.postReceipt(
        requesterOf(ctx).userId,
        roomId,
        receiptType,
        eventId,
        body.thread_id,
      );
      ctx.body = {};
    },
  );

  router.post(
    '/_matrix/client/v3/rooms/:roomId/read_markers',
    { auth: 'required', allowGuests: true },
    async (ctx) => {
      const body = await readBody(ctx, ReadMarkersBody);
      const { roomId } = ctx.params as { roomId: string };
      await cradle.receiptsService.setReadMarkers(requesterOf(ctx).userId, roomId, {
        fullyRead: body['m.fully_read'],
        read: body['m.read'],
        readPrivate: body['m.read.private'],
      });
      ctx.body = {};
    },
  );
}
