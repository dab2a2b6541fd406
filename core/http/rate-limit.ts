/**
 * A generic token-bucket rate limiter in Synapse's `rc_*` shape (`{ per_second, burst_count }`): each key
 * (an IP, a user id) may perform `burst_count` actions at once, and regains `per_second` actions per second.
 * Buckets live in memory per process; a full bucket is indistinguishable from a missing one, so idle keys
 * are dropped and memory stays bounded.
 */
import { Type, type Static } from '@sinclair/typebox';
import { MatrixError } from '../errors.js';

/** The config schema of one `rc_*` setting, with this limiter's defaults. */
export function rateLimitSchema(defaults: { per_second: number; burst_count: number }) {
  return Type.Object(
    {
      per_second: Type.Number({ minimum: 0, default: defaults.per_second }),
      burst_count: Type.Number({ minimum: 0, default: defaults.burst_count }),
    },
    { default: {} },
  );
}

export type RateLimitSettings = Static<ReturnType<typeof rateLimitSchema>>;

export interface RateLimitOutcome {
  readonly allowed: boolean;
  /** When refused: milliseconds until the action would be allowed. */
  readonly retryAfterMs: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(
    readonly settings: RateLimitSettings,
    options: { now?: () => number; maxKeys?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 100_000;
  }

  /**
   * Whether `key` may perform `cost` actions now. With `update` (the default) an allowed action is counted;
   * pass `update: false` to ask without spending (Synapse's `can_do_action(update=False)`).
   */
  check(
    key: string,
    { update = true, cost = 1 }: { update?: boolean; cost?: number } = {},
  ): RateLimitOutcome {
    const { per_second: rate, burst_count: burst } = this.settings;
    const now = this.now();
    const bucket = this.refill(key, now);
    if (bucket.tokens >= cost) {
      if (update) {
        bucket.tokens -= cost;
        this.store(key, bucket);
      }
      return { allowed: true, retryAfterMs: 0 };
    }
    const missing = cost - bucket.tokens;
    const retryAfterMs = rate > 0 && cost <= burst ? Math.ceil((missing / rate) * 1000) : 3_600_000;
    return { allowed: false, retryAfterMs };
  }

  /** Counts `cost` actions whether or not they were allowed (e.g. a failed login). */
  record(key: string, cost = 1): void {
    const bucket = this.refill(key, this.now());
    bucket.tokens = Math.max(bucket.tokens - cost, -this.settings.burst_count);
    this.store(key, bucket);
  }

  /** Like `check`, but throws 429 `M_LIMIT_EXCEEDED` with `retry_after_ms` when refused. */
  assert(key: string, options?: { update?: boolean; cost?: number }): void {
    const outcome = this.check(key, options);
    if (!outcome.allowed) throw rateLimitedError(outcome.retryAfterMs);
  }

  /** Forgets a key (e.g. after a successful login clears failed attempts). */
  reset(key: string): void {
    this.buckets.delete(key);
  }

  private refill(key: string, now: number): Bucket {
    const { per_second: rate, burst_count: burst } = this.settings;
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: burst, updatedMs: now };
    const elapsed = Math.max(0, now - bucket.updatedMs) / 1000;
    return { tokens: Math.min(burst, bucket.tokens + elapsed * rate), updatedMs: now };
  }

  private store(key: string, bucket: Bucket): void {
    this.buckets.delete(key); // re-insert so Map order is least-recently-used first
    if (bucket.tokens >= this.settings.burst_count) return;
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}

export function rateLimitedError(retryAfterMs: number): MatrixError {
  return new MatrixError(429, 'M_LIMIT_EXCEEDED', 'Too Many Requests', { retry_after_ms: retryAfterMs });
}
