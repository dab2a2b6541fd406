/**
 * What other modules may use of the presence module. The sync feed is `presenceFeed` (modules/sync/api.ts),
 * whose `setPresenceFromSync` sync calls with `set_presence`.
 *
 * _Added in Axon 0.1._
 */

/** The presence stream on the notifier and in sync tokens. */
export const PRESENCE_STREAM = 'presence';

export interface PresenceApi {
  /** A pro-active action by `userId` (e.g. sending a message): bumps last-active and makes them online. */
  markActive(userId: string): Promise<void>;
}
