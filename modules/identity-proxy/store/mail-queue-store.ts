/** The only code that touches identity_proxy_mail_queue. */
import type { Cradle } from '../../../core/container.js';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface OutgoingMail {
  readonly recipient: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

export interface QueuedMail extends OutgoingMail {
  readonly id: number;
  readonly attempts: number;
  readonly nextAttemptTs: number;
  readonly createdTs: number;
}

interface Row {
  id: number;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number | string;
  next_attempt_ts: number | string;
  created_ts: number | string;
  last_error?: string | null;
}

const TABLE = 'identity_proxy_mail_queue';

const fromRow = (r: Row): QueuedMail => ({
  id: toNumber(r.id),
  recipient: r.recipient,
  subject: r.subject,
  text: r.text_body,
  html: r.html_body,
  attempts: toNumber(r.attempts),
  nextAttemptTs: toNumber(r.next_attempt_ts),
  createdTs: toNumber(r.created_ts),
});

export class MailQueueStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  async enqueue(mail: OutgoingMail, now: number, trx: Queryable = this.db): Promise<void> {
    await trx(TABLE).insert({
      recipient: mail.recipient,
      subject: mail.subject,
      text_body: mail.text,
      html_body: mail.html,
      attempts: 0,
      next_attempt_ts: now,
      created_ts: now,
    });
  }

  /** Mail due at `now`, oldest first. */
  async due(now: number, limit: number, trx: Queryable = this.db): Promise<QueuedMail[]> {
    const rows: Row[] = await trx<Row>(TABLE)
      .where('next_attempt_ts', '<=', now)
      .orderBy(['next_attempt_ts', 'id'])
      .limit(limit);
    return rows.map(fromRow);
  }

  /**
   * Takes a due mail for this process by pushing its next attempt to `leaseUntil`, only if nobody else
   * took it since it was read (several Axon processes may share the queue). Returns whether it did.
   */
  async claim(mail: QueuedMail, leaseUntil: number, trx: Queryable = this.db): Promise<boolean> {
    const n = await trx<Row>(TABLE)
      .where({ id: mail.id, next_attempt_ts: mail.nextAttemptTs })
      .update({ next_attempt_ts: leaseUntil, attempts: mail.attempts + 1 });
    return n === 1;
  }

  async delete(id: number, trx: Queryable = this.db): Promise<void> {
    await trx(TABLE).where({ id }).delete();
  }

  async retryAt(id: number, nextAttemptTs: number, error: string, trx: Queryable = this.db): Promise<void> {
    await trx<Row>(TABLE)
      .where({ id })
      .update({ next_attempt_ts: nextAttemptTs, last_error: error.slice(0, 1000) });
  }

  async count(trx: Queryable = this.db): Promise<number> {
    const row = (await trx(TABLE).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return toNumber(row?.n);
  }
}
