import { asClass, asFunction } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import type { TypingFeed } from '../sync/api.js';
import { typingRoutes } from './routes/typing.routes.js';
import { TypingFederation } from './services/typing-federation.js';
import { TypingSyncFeed } from './services/typing-feed.js';
import { TypingService, type TypingRooms } from './services/typing-service.js';

declare module '../../core/container.js' {
  interface Cradle {
    typingService: TypingService;
    typingRooms: TypingRooms;
    typingFeed: TypingFeed;
    typingFederation: TypingFederation;
  }
}

/** Typing notifications: PUT /rooms/{roomId}/typing/{userId}, delivered as `m.typing` in sync. */
export default defineModule({
  name: 'typing',
  description: 'typing notifications (m.typing)',
  enabledByDefault: true,
  requires: ['rooms'],
  register({ container }) {
    container.register({
      typingService: asClass(TypingService).singleton(),
      typingRooms: asFunction(({ roomsApi }: Cradle): TypingRooms => ({
        isJoined: async (roomId, userId) =>
          (await roomsApi.currentStateEvent(roomId, 'm.room.member', userId))?.content['membership'] ===
          'join',
      })).singleton(),
      typingFeed: asClass(TypingSyncFeed).singleton(),
      typingFederation: asClass(TypingFederation).singleton(),
    });
  },
  routes(router, { cradle }) {
    typingRoutes(router, cradle);
  },
  async start(cradle) {
    const typing = cradle.typingService;
    // Someone who leaves (or is kicked or banned) stops typing there at once.
    cradle.roomsHooks.onEventPersisted((event) => {
      if (event.type === 'm.room.member' && event.stateKey !== null && event.membership !== 'join') {
        typing.stopTyping(event.roomId, event.stateKey);
      }
    });
    // m.typing EDUs both ways; without federation, typing stays on this server.
    if (cradle.enabledModules.includes('federation')) cradle.typingFederation.start();
  },
  async stop(cradle) {
    cradle.typingService.clear();
  },
});
