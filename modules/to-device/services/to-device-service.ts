/** Send-to-device: expand `*` to the recipient's devices, queue once per transaction id, wake recipients. */
import type { Cradle } from '../../../core/container.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { JsonObject } from '../../../core/protocol/pdu.js';
import { TO_DEVICE_STREAM, type ToDeviceApi, type ToDeviceMessages } from '../api.js';
import type { Delivery, ToDeviceStore } from '../store/to-device-store.js';

/** The slice of the auth module's API this module uses (resolved lazily as `authApi`). */
export interface DeviceDirectory {
  listDevices(userId: string): Promise<readonly { readonly deviceId: string }[]>;
}

export class ToDeviceService implements ToDeviceApi {
  private readonly store: ToDeviceStore;
  private readonly notifier: Cradle['notifier'];
  private readonly serverName: string;
  private readonly devices: () => DeviceDirectory | undefined;

  constructor(deps: {
    toDeviceStore: ToDeviceStore;
    notifier: Cradle['notifier'];
    serverName: string;
    deviceDirectory?: () => DeviceDirectory | undefined;
  }) {
    this.store = deps.toDeviceStore;
    this.notifier = deps.notifier;
    this.serverName = deps.serverName;
    this.devices = deps.deviceDirectory ?? (() => undefined);
  }

  async send(
    sender: { userId: string; deviceId: string | null; txnId: string },
    type: string,
    messages: ToDeviceMessages,
  ): Promise<number | undefined> {
    const deliveries: Delivery[] = [];
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (serverNameOf(userId) !== this.serverName) continue; // remote: the federation sender's job
      const targets = await this.expand(userId, byDevice);
      for (const [deviceId, content] of targets) deliveries.push({ userId, deviceId, content });
    }
    const position = await this.store.enqueue(
      { userId: sender.userId, deviceId: sender.deviceId ?? '', txnId: sender.txnId },
      type,
      deliveries,
    );
    if (position !== undefined && deliveries.length > 0) {
      const userIds = [...new Set(deliveries.map((d) => d.userId))];
      this.notifier.publish({ stream: TO_DEVICE_STREAM, position, userIds });
    }
    return position;
  }

  /**
   * Device id → content for one recipient. `*` means every device the user has; a named device must exist
   * when the device list is known (a message to a device that never existed would wait forever).
   */
  private async expand(
    userId: string,
    byDevice: Readonly<Record<string, JsonObject>>,
  ): Promise<Map<string, JsonObject>> {
    const out = new Map<string, JsonObject>();
    const directory = this.devices();
    const known = directory
      ? new Set((await directory.listDevices(userId)).map((d) => d.deviceId))
      : undefined;
    const star = byDevice['*'];
    if (star !== undefined && known) for (const deviceId of known) out.set(deviceId, star);
    for (const [deviceId, content] of Object.entries(byDevice)) {
      if (deviceId === '*') continue;
      if (known && !known.has(deviceId)) continue;
      out.set(deviceId, content);
    }
    return out;
  }
}
