/** `PushRooms` over the rooms module's public API. */
import type { JsonObject } from '../../../core/protocol/pdu.js';
import type { RoomsApiForPushRules } from '../../rooms/api.js';
import type { PushRooms } from './notification-service.js';

export function pushRoomsFrom(roomsApi: RoomsApiForPushRules): PushRooms {
  return {
    async eventContent(eventId) {
      return (await roomsApi.getEvent(eventId))?.content;
    },
    async clientEvents(userId, eventIds) {
      const out = new Map<string, JsonObject>();
      for (const [id, event] of await roomsApi.clientEventsFor(userId, eventIds)) {
        const { room_id: _roomId, ...rest } = event;
        out.set(id, rest as unknown as JsonObject);
      }
      return out;
    },
  };
}
