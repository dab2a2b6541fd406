/**
 * A user's `/sync` as a stream, for tests across servers: `next` long-polls from the last `next_batch`
 * until `find` finds something in an answer, or fails after the timeout.
 */
import type { TestUser } from '../../../helpers/fixtures.js';
import type { FederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const enc = encodeURIComponent;

export interface SyncStreamOptions {
  /** How long `next` waits before it fails (default 20 s). */
  readonly timeoutMs?: number;
  /** A room timeline limit for the sync filter (default: the server's). */
  readonly timelineLimit?: number;
}

export class SyncStream {
  private since: string | undefined;
  private readonly filter: string;
  private readonly timeoutMs: number;

  constructor(
    private readonly server: FederatedServer,
    private readonly user: TestUser,
    options: SyncStreamOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 20_000;
    this.filter =
      options.timelineLimit === undefined
        ? ''
        : `&filter=${enc(JSON.stringify({ room: { timeline: { limit: options.timelineLimit } } }))}`;
  }

  async next<T>(find: (body: Json) => T | undefined, what: string, timeoutMs = this.timeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const query = this.since ? `?since=${enc(this.since)}&timeout=2000` : '?timeout=0';
      const res = await this.server.request('GET', `/_matrix/client/v3/sync${query}${this.filter}`, {
        token: this.user.accessToken,
      });
      if (res.status !== 200) throw new Error(`/sync answered ${res.status}: ${JSON.stringify(res.body)}`);
      this.since = res.body.next_batch as string;
      const found = find(res.body);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    }
  }
}
