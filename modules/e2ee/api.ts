/**
 * What other modules may call on the e2ee module (registered as `e2eeApi`). The sync feeds it provides are
 * `deviceListsFeed` and `keysFeed` (modules/sync/api.ts).
 */
export interface E2eeApi {
  /**
   * Tells everyone sharing a room with `userId` that their device list changed, for a change this module
   * does not hear of. Key uploads, cross-signing changes and the auth module's device creation, renaming and
   * deletion (its onDeviceCreated/onDeviceRenamed/onDeviceDeleted hooks) already do this.
   */
  markDeviceListChanged(userId: string): Promise<void>;
  /**
   * Whether `deviceId` is one of `userId`'s cross-signing public keys: the spec forbids a device with such an
   * id, so device creation (login, registration) should refuse it.
   */
  isCrossSigningKey(userId: string, deviceId: string): Promise<boolean>;
}
