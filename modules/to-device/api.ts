/**
 * What other modules may call on to-device messaging (registered as `toDeviceApi`): the e2ee module and
 * federation queue messages for local devices through `sendToLocalDevices`. The sync feed is `toDeviceFeed`
 * (modules/sync/api.ts).
 */
import type { JsonObject } from '../../core/protocol/pdu.js';

export const TO_DEVICE_STREAM = 'to_device';

/** user id → device id (or `*` for all the user's devices) → content. */
export type ToDeviceMessages = Readonly<Record<string, Readonly<Record<string, JsonObject>>>>;

export interface ToDeviceApi {
  /**
   * Queues messages for local devices, once per `(sender, senderDevice, txnId)`; a repeated transaction id does
   * nothing. Remote users are skipped (federation delivers those). Returns the stream position, or undefined
   * for a repeat.
   */
  send(
    sender: { userId: string; deviceId: string | null; txnId: string },
    type: string,
    messages: ToDeviceMessages,
  ): Promise<number | undefined>;
}
