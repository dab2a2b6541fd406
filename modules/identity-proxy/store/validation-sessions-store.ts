/** The only code that touches identity_proxy_validation_sessions. */
import type { Cradle } from '../../../core/container.js';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export type ValidationPurpose = 'registration' | 'password_reset' | 'add_threepid';

export interface ValidationSession {
  readonly sessionId: string;
  readonly purpose: ValidationPurpose;
  readonly medium: string;
  readonly address: string;
  readonly clientSecret: string;
  readonly lastSendAttempt: number;
  readonly tokenHash: string | null;
  readonly tokenExpiresTs: number | null;
  readonly nextLink: string | null;
  readonly validatedAt: number | null;
  readonly createdTs: number;
}

interface Row {
  session_id: string;
  purpose: string;
  medium: string;
  address: string;
  client_secret: string;
  last_send_attempt: number | string;
  token_hash: string | null;
  token_expires_ts: number | string | null;
  next_link: string | null;
  validated_at: number | string | null;
  created_ts: number | string;
}

const TABLE = 'identity_proxy_validation_sessions';

const fromRow = (r: Row): ValidationSession => ({
  sessionId: r.session_id,
  purpose: r.purpose as ValidationPurpose,
  medium: r.medium,
  address: r.address,
  clientSecret: r.client_secret,
  lastSendAttempt: toNumber(r.last_send_attempt),
  tokenHash: r.token_hash,
  tokenExpiresTs: r.token_expires_ts === null ? null : toNumber(r.token_expires_ts),
  nextLink: r.next_link,
  validatedAt: r.validated_at === null ? null : toNumber(r.validated_at),
  createdTs: toNumber(r.created_ts),
});

export class ValidationSessionsStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  async get(sessionId: string, trx: Queryable = this.db): Promise<ValidationSession | undefined> {
    const row: Row | undefined = await trx<Row>(TABLE).where({ session_id: sessionId }).first();
    return row ? fromRow(row) : undefined;
  }

  async find(
    key: { medium: string; address: string; clientSecret: string; purpose: ValidationPurpose },
    trx: Queryable = this.db,
  ): Promise<ValidationSession | undefined> {
    const row: Row | undefined = await trx<Row>(TABLE)
      .where({
        medium: key.medium,
        address: key.address,
        client_secret: key.clientSecret,
        purpose: key.purpose,
      })
      .first();
    return row ? fromRow(row) : undefined;
  }

  async insert(s: ValidationSession, trx: Queryable = this.db): Promise<void> {
    await trx(TABLE).insert({
      session_id: s.sessionId,
      purpose: s.purpose,
      medium: s.medium,
      address: s.address,
      client_secret: s.clientSecret,
      last_send_attempt: s.lastSendAttempt,
      token_hash: s.tokenHash,
      token_expires_ts: s.tokenExpiresTs,
      next_link: s.nextLink,
      validated_at: s.validatedAt,
      created_ts: s.createdTs,
    });
  }

  /** A new send attempt: a fresh token (the old one stops working) and the latest next_link. */
  async renewToken(
    sessionId: string,
    update: { sendAttempt: number; tokenHash: string; tokenExpiresTs: number; nextLink: string | null },
    trx: Queryable = this.db,
  ): Promise<void> {
    await trx(TABLE).where({ session_id: sessionId }).update({
      last_send_attempt: update.sendAttempt,
      token_hash: update.tokenHash,
      token_expires_ts: update.tokenExpiresTs,
      next_link: update.nextLink,
    });
  }

  /**
   * Marks the session validated and burns its token, only if the token is still the one given: of two
   * concurrent submissions of one token, exactly one succeeds. Returns whether it did.
   */
  async markValidated(
    sessionId: string,
    tokenHash: string,
    validatedAt: number,
    trx: Queryable = this.db,
  ): Promise<boolean> {
    const n = await trx<Row>(TABLE)
      .where({ session_id: sessionId, token_hash: tokenHash })
      .update({ validated_at: validatedAt, token_hash: null, token_expires_ts: null });
    return n === 1;
  }

  /** Marks a session validated elsewhere (by the msisdn delegate); no token involved. */
  async setValidated(sessionId: string, validatedAt: number, trx: Queryable = this.db): Promise<void> {
    await trx<Row>(TABLE)
      .where({ session_id: sessionId })
      .whereNull('validated_at')
      .update({ validated_at: validatedAt });
  }

  /** Deletes a session (once an operation consumed its validation); returns whether it existed. */
  async delete(sessionId: string, trx: Queryable = this.db): Promise<boolean> {
    return (await trx(TABLE).where({ session_id: sessionId }).delete()) === 1;
  }

  async deleteCreatedBefore(ts: number, trx: Queryable = this.db): Promise<number> {
    return trx(TABLE).where('created_ts', '<', ts).delete();
  }
}
