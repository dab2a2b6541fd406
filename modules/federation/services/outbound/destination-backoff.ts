/**
 * The persistent backoff registry (Synapse's `destinations` table and RetryLimiter): after a failed
 * attempt a destination is left alone for `retry_interval` — no request at all — and each further failure
 * multiplies the interval (×`destination_retry_multiplier`, jittered 0.8–1.4 as Synapse, capped at
 * `destination_max_retry_interval`). A success, or any request from that server, resets it. Destinations
 * that are up have no row worth reading, so the check before a send is a lookup in memory.
 */
import type { OutboundStore, RetryTimings } from '../../store/outbound-store.js';

export interface BackoffPolicy {
  readonly minRetryIntervalMs: number;
  readonly retryMultiplier: number;
  readonly maxRetryIntervalMs: number;
}

export class DestinationBackoff {
  private down = new Map<string, RetryTimings>();

  constructor(
    private readonly store: OutboundStore,
    private readonly policy: BackoffPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    this.down = await this.store.destinationsBackingOff();
  }

  /** When the next attempt may be made (ms timestamp), or undefined when the destination is up. */
  retryAt(destination: string): number | undefined {
    const t = this.down.get(destination);
    return t && t.retryLastTs + t.retryInterval;
  }

  /** How long until the next attempt may be made (0 when it may be made now). */
  msUntilRetry(destination: string): number {
    const at = this.retryAt(destination);
    return at === undefined ? 0 : Math.max(0, at - this.now());
  }

  /** True while a destination must not be sent anything. */
  isBackingOff(destination: string): boolean {
    const at = this.retryAt(destination);
    return at !== undefined && this.now() < at;
  }

  /** Whether the destination is marked down at all (backing off or due for a retry). */
  isMarkedDown(destination: string): boolean {
    return this.down.has(destination);
  }

  /** The current interval (0 when up). */
  interval(destination: string): number {
    return this.down.get(destination)?.retryInterval ?? 0;
  }

  /** A failed attempt: start or lengthen the backoff. */
  async failure(destination: string): Promise<RetryTimings> {
    const previous = this.down.get(destination);
    const { minRetryIntervalMs, retryMultiplier, maxRetryIntervalMs } = this.policy;
    const interval = previous
      ? Math.min(
          maxRetryIntervalMs,
          Math.round(previous.retryInterval * retryMultiplier * (0.8 + Math.random() * 0.6)),
        )
      : minRetryIntervalMs;
    const now = this.now();
    const timings = {
      retryLastTs: now,
      retryInterval: Math.max(1, interval),
      failureTs: previous?.failureTs ?? now,
    };
    this.down.set(destination, timings);
    await this.store.setRetryTimings(destination, timings);
    return timings;
  }

  /** The destination answered (or spoke to us): it is up. Returns whether it was marked down. */
  async success(destination: string): Promise<boolean> {
    if (!this.down.delete(destination)) return false;
    await this.store.setRetryTimings(destination, { retryLastTs: 0, retryInterval: 0, failureTs: null });
    return true;
  }
}
