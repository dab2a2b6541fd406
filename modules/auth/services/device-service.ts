/** Device management (spec module "Device Management"): list, get, rename, delete (UIA). */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import type { AuthDevice } from '../api.js';
import type { DeviceRow } from '../store/devices-store.js';

/** Synapse's limit on device display names. */
export const MAX_DEVICE_DISPLAY_NAME_LENGTH = 100;

export class DeviceService {
  private readonly store: Cradle['authStore'];
  private readonly sessions: Cradle['authSessions'];
  private readonly uia: Cradle['authUia'];
  private readonly events: Cradle['authEvents'];

  constructor(c: Pick<Cradle, 'authStore' | 'authSessions' | 'authUia' | 'authEvents'>) {
    this.store = c.authStore;
    this.sessions = c.authSessions;
    this.uia = c.authUia;
    this.events = c.authEvents;
  }

  async list(userId: string): Promise<AuthDevice[]> {
    return (await this.store.devices.list(userId)).map((d) => this.withPendingLastSeen(d));
  }

  async get(userId: string, deviceId: string): Promise<AuthDevice | undefined> {
    const row = await this.store.devices.get(userId, deviceId);
    return row ? this.withPendingLastSeen(row) : undefined;
  }

  /** PUT /devices/{id}: a changed name is announced to the deviceRenamed listeners (device lists). */
  async rename(userId: string, deviceId: string, displayName: string | undefined): Promise<void> {
    if (displayName !== undefined && displayName.length > MAX_DEVICE_DISPLAY_NAME_LENGTH) {
      throw new MatrixError(
        400,
        'M_INVALID_PARAM',
        `Device display name is too long (max ${MAX_DEVICE_DISPLAY_NAME_LENGTH})`,
      );
    }
    const exists = await this.store.devices.get(userId, deviceId);
    if (!exists) throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown device');
    if (displayName === undefined || displayName === exists.displayName) return;
    if (!(await this.store.devices.setDisplayName(userId, deviceId, displayName))) return; // deleted meanwhile
    await this.events.emit('deviceRenamed', this.events.deviceRenamed, { userId, deviceId, displayName });
  }

  /** DELETE /devices/{id} and POST /delete_devices: UIA, then the devices and their tokens go. */
  async delete(
    requester: Requester,
    deviceIds: readonly string[],
    body: Readonly<Record<string, unknown>>,
    request: { method: string; path: string; accessToken: string },
  ): Promise<void> {
    await this.uia.require({
      requester,
      body,
      flows: this.uia.reauthFlows(),
      description:
        deviceIds.length === 1 ? 'remove a device from your account' : 'remove devices from your account',
      method: request.method,
      path: request.path,
    });
    await this.sessions.deleteDevices(requester.userId, deviceIds, { accessToken: request.accessToken });
  }

  private withPendingLastSeen(d: DeviceRow): AuthDevice {
    const pending = this.sessions.pendingLastSeen(d.userId, d.deviceId);
    return {
      userId: d.userId,
      deviceId: d.deviceId,
      displayName: d.displayName,
      lastSeenIp: pending?.ip ?? d.lastSeenIp,
      lastSeenTs: pending?.ts ?? d.lastSeenTs,
    };
  }
}
