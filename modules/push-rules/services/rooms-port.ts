/** `PushRooms` over the rooms module's public API. */
import type { JsonObject } from '../../../core/protocol/pdu.js';
import type { RoomsApiForPushRules } from '../../rooms/api.js';
import type { PushRooms } from './notification-service.js';

export function pushRoomsFrom(roomsApi: RoomsApiForPushRules): PushRooms {
  return {
    async eventContent(eventId) {
      return (await roomsApi.getEvent(eventId))?.content;
    },
    async clientEvent(eventId) {
      const event = await roomsApi.getEvent(eventId);
      if (!event) return undefined;
      const { room_id: _roomId, ...rest } = event;
      return rest as unknown as JsonObject;
    },
  };
}
