import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const TypingBody = Type.Object({
  typing: Type.Boolean(),
  timeout: Type.Optional(Type.Integer({ minimum: 0 })),
});

export function typingRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.put(
    '/_matrix/client/v3/rooms/:roomId/typing/:userId',
    { auth: 'required', allowGuests: true },
    async (ctx) => {
      const body = await readBody(ctx, TypingBody);
      const { roomId, userId } = ctx.params as { roomId: string; userId: string };
      await cradle.typingService.setTyping(
        requesterOf(ctx).userId,
        roomId,
        userId,
        body.typing,
        body.timeout,
      );
      ctx.body = {};
    },
  );
}
