/**
 * Outgoing mail: a request only writes the mail into identity_proxy_mail_queue (one insert, no network), and
 * a worker sends it through SMTP (nodemailer) in the background. A failed send is retried with exponential
 * backoff (10 s doubling to 1 h) and given up after MAX_ATTEMPTS, logged each time. Rows are claimed with a
 * lease, so several Axon processes may share one queue without sending a mail twice, and a process that
 * dies mid-send leaves the mail to be retried when its lease runs out.
 */
import type { Logger } from 'pino';
import type { MailQueueStore, OutgoingMail, QueuedMail } from '../store/mail-queue-store.js';

/** Sends one mail; rejects on failure. nodemailer's transporter.sendMail in production. */
export type SendMail = (mail: OutgoingMail) => Promise<void>;

export interface MailQueueTiming {
  /** First retry delay; doubles per attempt up to maxDelayMs. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxAttempts: number;
  /** How long a claimed mail is reserved for the sending process. */
  readonly leaseMs: number;
  /** How often the queue is looked at without a wake-up (mail from other processes, retries). */
  readonly pollMs: number;
}

export const DEFAULT_MAIL_TIMING: MailQueueTiming = {
  baseDelayMs: 10_000,
  maxDelayMs: 3_600_000,
  maxAttempts: 12,
  leaseMs: 5 * 60_000,
  pollMs: 30_000,
};

const BATCH = 20;

export class MailQueue {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly store: MailQueueStore,
    private readonly send: SendMail,
    private readonly logger: Logger,
    private readonly timing: MailQueueTiming = DEFAULT_MAIL_TIMING,
    private readonly now: () => number = Date.now,
  ) {}

  /** Queues a mail and wakes the worker; resolves once the mail is stored, never waits for SMTP. */
  async enqueue(mail: OutgoingMail): Promise<void> {
    await this.store.enqueue(mail, this.now());
    this.wake();
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Stops the worker and waits for a send in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs the worker now (or once more after the current pass). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.drain()
      .catch((err: unknown) => this.logger.error({ err }, 'mail queue pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          void this.schedule();
        }
      });
  }

  /** Sleeps until the next mail is due (or the poll interval, whichever is sooner). */
  private async schedule(): Promise<void> {
    let delay = this.timing.pollMs;
    try {
      const [next] = await this.store.due(Number.MAX_SAFE_INTEGER, 1);
      if (next) delay = Math.min(delay, Math.max(0, next.nextAttemptTs - this.now()));
    } catch (err) {
      this.logger.warn({ err }, 'mail queue: could not read the next due time');
    }
    if (this.stopped || this.running || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, delay);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const due = await this.store.due(this.now(), BATCH);
      if (due.length === 0) return;
      for (const mail of due) {
        if (this.stopped) return;
        if (await this.store.claim(mail, this.now() + this.timing.leaseMs)) await this.deliver(mail);
      }
    }
  }

  private async deliver(mail: QueuedMail): Promise<void> {
    const attempt = mail.attempts + 1;
    try {
      await this.send(mail);
      await this.store.delete(mail.id);
      this.logger.info({ mailId: mail.id, attempt }, 'mail sent');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (attempt >= this.timing.maxAttempts) {
        await this.store.delete(mail.id);
        this.logger.error({ mailId: mail.id, attempt, err: message }, 'mail could not be sent: giving up');
        return;
      }
      const delay = Math.min(this.timing.baseDelayMs * 2 ** (attempt - 1), this.timing.maxDelayMs);
      await this.store.retryAt(mail.id, this.now() + delay, message);
      this.logger.warn(
        { mailId: mail.id, attempt, retryInMs: delay, err: message },
        'mail not sent: will retry',
      );
    }
  }
}
