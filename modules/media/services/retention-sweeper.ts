/** Runs the media retention sweep periodically between start() and stop() (Synapse checks hourly). */
import type { Cradle } from '../../../core/container.js';

export const RETENTION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;

export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: Pick<Cradle, 'mediaService' | 'logger'>,
    private readonly intervalMs: number = RETENTION_SWEEP_INTERVAL_MS,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One sweep; overlapping calls share the one in progress. Failures are logged, never thrown. */
  runOnce(): Promise<void> {
    this.running ??= (async () => {
      try {
        const removed = await this.deps.mediaService.sweep();
        if (removed > 0) this.deps.logger.info({ removed }, 'media retention removed items');
      } catch (err) {
        this.deps.logger.error({ err }, 'media retention sweep failed');
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
