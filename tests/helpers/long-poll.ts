/** Waiting for a long-poll to be in place, instead of sleeping and hoping it is. */
import type { TestServer } from './start-server.js';

/**
 * Resolves once a sync long-poll of `userId` waits on the notifier: the moment to make the change that must
 * wake it. Call it before sending the request.
 */
export function longPollWaiting(server: TestServer, userId: string): Promise<void> {
  const notifier = server.kernel.container.cradle.notifier;
  const subscribe = notifier.subscribe.bind(notifier);
  return new Promise((resolve) => {
    notifier.subscribe = (interest, listener) => {
      if (interest.userIds?.includes(userId)) {
        notifier.subscribe = subscribe;
        resolve();
      }
      return subscribe(interest, listener);
    };
  });
}
