/** Shared set-up for tests that drive Axon with matrix-js-sdk as a real client. */
import { ClientEvent, createClient, SyncState, type MatrixClient } from 'matrix-js-sdk';

/**
 * matrix-js-sdk's per-request watchdog timers (http-api/utils.ts timeoutSignal, up to 110 s for a sync) are
 * never cleared, which would hold the test process open after the clients stop. Timers of at least
 * `thresholdMs` are unref'd so they cannot keep the process alive; no test relies on them.
 */
export function unrefLongTimers(thresholdMs: number): void {
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = realSetTimeout(fn, ms, ...args);
    if ((ms ?? 0) >= thresholdMs) handle.unref();
    return handle;
  }) as unknown as typeof setTimeout;
}

/** Resolves with what `register`'s callback is given, or rejects after `ms`. */
export function waitFor<T>(
  what: string,
  register: (done: (value: T) => void) => void,
  ms = 8000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** A client with its sync loop started and its first sync done. */
export async function startSyncingClient(
  baseUrl: string,
  user: { accessToken: string; userId: string; deviceId: string },
): Promise<MatrixClient> {
  const client = createClient({
    baseUrl,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
  });
  const prepared = waitFor<void>('the first sync', (done) =>
    client.on(ClientEvent.Sync, (state) => {
      if (state === SyncState.Prepared) done();
    }),
  );
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}
