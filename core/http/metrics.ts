/**
 * Prometheus metrics (prom-client), on when `enable_metrics: true`, served by a `type: metrics` listener as
 * in Synapse (`listeners: [{type: metrics, port: 9000}]`) at /metrics and /_synapse/metrics. One registry
 * per kernel (tests boot several in one process). The names are documented in README.md, "Metrics".
 */
import Koa, { type Next } from 'koa';
import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Notifier, StreamChange, WakeInterest, ChangeListener } from '../notifier/notifier.js';
import type { AxonContext } from './context.js';

/** Seconds: from a cached GET (~1 ms) to a /sync long-poll's 30 s timeout. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class AxonMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  readonly eventsPersisted: Counter;
  readonly notifierChanges: Counter<'stream'>;
  readonly longPollsInFlight: Gauge;
  readonly longPollEnds: Counter<'outcome'>;

  constructor(db?: Knex) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'axon_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'axon_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.eventsPersisted = new Counter({
      name: 'axon_events_persisted_total',
      help: 'Room events persisted (and announced to waiting syncs)',
      registers,
    });
    this.notifierChanges = new Counter({
      name: 'axon_notifier_changes_total',
      help: 'Stream changes published to the notifier, by stream (events, typing, receipts, ...)',
      labelNames: ['stream'],
      registers,
    });
    this.longPollsInFlight = new Gauge({
      name: 'axon_sync_long_polls_in_flight',
      help: 'Long-polls (/sync) waiting for a change right now',
      registers,
    });
    this.longPollEnds = new Counter({
      name: 'axon_sync_long_polls_total',
      help: 'Long-polls (/sync) that ended, by outcome: woken (a change came), timeout, or aborted',
      labelNames: ['outcome'],
      registers,
    });
    if (db) this.instrumentPool(db);
  }

  /** Pool use of the database, read at scrape time from knex's pool (tarn). */
  private instrumentPool(db: Knex): void {
    const engine =
      (db.client as { config?: { client?: unknown } }).config?.client === 'pg' ? 'pg' : 'sqlite3';
    const pool = (): Partial<Record<'numUsed' | 'numFree' | 'numPendingAcquires', () => number>> =>
      (db.client as { pool?: Record<string, () => number> }).pool ?? {};
    new Gauge({
      name: 'axon_db_pool_connections',
      help: 'Database pool connections by state (used, free, pending acquires) and engine',
      labelNames: ['engine', 'state'],
      registers: [this.registry],
      collect() {
        const p = pool();
        this.set({ engine, state: 'used' }, p.numUsed?.() ?? 0);
        this.set({ engine, state: 'free' }, p.numFree?.() ?? 0);
        this.set({ engine, state: 'pending' }, p.numPendingAcquires?.() ?? 0);
      },
    });
  }

  /**
   * Koa middleware counting and timing every request on an HTTP listener. The route is the matched pattern
   * (`/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId`), never the raw path, so labels stay few;
   * requests no route matched are `unmatched`.
   */
  middleware(): (ctx: AxonContext, next: Next) => Promise<void> {
    return async (ctx, next) => {
      const started = process.hrtime.bigint();
      try {
        await next();
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
        const labels = {
          method: ctx.method,
          route: typeof matched === 'string' ? matched : 'unmatched',
          status: String(ctx.status),
        };
        this.requests.inc(labels);
        this.duration.observe(labels, seconds);
      }
    };
  }

  /** The metrics listener's application: GET /metrics and /_synapse/metrics, and /health. */
  app(): Koa {
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx) => {
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.status = 405;
        return;
      }
      if (ctx.path === '/metrics' || ctx.path === '/_synapse/metrics') {
        ctx.type = this.registry.contentType;
        ctx.body = await this.registry.metrics();
      } else if (ctx.path === '/health') {
        ctx.type = 'text/plain';
        ctx.body = 'OK';
      } else {
        ctx.status = 404;
      }
    });
    return app;
  }
}

/** The notifier, counting what it publishes and the long-polls waiting on it. */
export class MeteredNotifier implements Notifier {
  constructor(
    private readonly inner: Notifier,
    private readonly metrics: AxonMetrics,
  ) {}

  publish(change: StreamChange): void {
    this.metrics.notifierChanges.inc({ stream: change.stream });
    if (change.stream === 'events') this.metrics.eventsPersisted.inc();
    this.inner.publish(change);
  }

  subscribe(interest: WakeInterest, listener: ChangeListener): () => void {
    return this.inner.subscribe(interest, listener);
  }

  latestPosition(stream: string): number | undefined {
    return this.inner.latestPosition(stream);
  }

  async waitFor(
    interest: WakeInterest,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<StreamChange | undefined> {
    this.metrics.longPollsInFlight.inc();
    try {
      const change = await this.inner.waitFor(interest, timeoutMs, signal);
      this.metrics.longPollEnds.inc({
        outcome: change ? 'woken' : signal?.aborted ? 'aborted' : 'timeout',
      });
      return change;
    } finally {
      this.metrics.longPollsInFlight.dec();
    }
  }
}
