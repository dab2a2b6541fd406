/**
 * What every per-room federation endpoint checks first: rooms is enabled, the room's server ACL admits the
 * requesting server, and (for the reads) the server has a joined member in the room now.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { RoomsFederationApi } from '../../rooms/api.js';
import { isServerAllowedByAcl } from '../services/server-acl.js';

export interface RoomAccess {
  /** Rooms' federation API; 404 M_UNRECOGNIZED when the rooms module is disabled. */
  readonly rooms: () => RoomsFederationApi;
  /** 403 when the room's server ACL denies `origin`. */
  readonly checkAcl: (roomId: string, origin: string) => Promise<void>;
  /** The ACL, then 403 unless `origin` has a joined member in the room. */
  readonly checkInRoom: (roomId: string, origin: string) => Promise<void>;
}

export function roomAccess(cradle: Cradle): RoomAccess {
  const rooms = (): RoomsFederationApi => {
    if (!cradle.enabledModules.includes('rooms')) {
      throw new MatrixError(404, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
    return cradle.roomsFederationApi;
  };
  const checkAcl = async (roomId: string, origin: string): Promise<void> => {
    const acl = await cradle.roomsApi.currentStateEvent(roomId, 'm.room.server_acl', '');
    if (acl && !isServerAllowedByAcl(origin, acl.content)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Server is banned from room');
    }
  };
  const checkInRoom = async (roomId: string, origin: string): Promise<void> => {
    await checkAcl(roomId, origin);
    if (!(await rooms().serversInRoom(roomId)).includes(origin)) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Your server is not in the room');
    }
  };
  return { rooms, checkAcl, checkInRoom };
}
