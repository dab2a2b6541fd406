/** The only code that touches server-side key backups: versions and the session keys stored in them. */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface BackupVersion {
  readonly version: number;
  readonly algorithm: string;
  readonly authData: Record<string, unknown>;
  readonly etag: number;
  readonly deleted: boolean;
}

export interface BackupSession {
  readonly first_message_index: number;
  readonly forwarded_count: number;
  readonly is_verified: boolean;
  readonly session_data: Record<string, unknown>;
}

export interface StoredBackupSession extends BackupSession {
  readonly roomId: string;
  readonly sessionId: string;
}

interface VersionRow {
  version: string | number;
  algorithm: string;
  auth_data: string;
  etag: string | number;
  deleted: boolean | number;
}

interface SessionRow {
  room_id: string;
  session_id: string;
  first_message_index: number | string;
  forwarded_count: number | string;
  is_verified: boolean | number;
  session_data: string;
}

export class KeyBackupStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  /** A version (deleted ones too), or the newest live one when `version` is undefined. */
  async getVersion(userId: string, version?: number, trx?: Queryable): Promise<BackupVersion | undefined> {
    const query = (trx ?? this.db)('e2ee_backup_versions').where({ user_id: userId });
    if (version === undefined) query.andWhere({ deleted: false }).orderBy('version', 'desc');
    else query.andWhere({ version });
    const row = (await query.first()) as VersionRow | undefined;
    return row ? toVersion(row) : undefined;
  }

  /** Creates the next version number (never reusing a deleted one). */
  async createVersion(
    userId: string,
    algorithm: string,
    authData: Record<string, unknown>,
    trx: Knex.Transaction,
  ): Promise<number> {
    const row = (await trx('e2ee_backup_versions')
      .where({ user_id: userId })
      .max({ v: 'version' })
      .first()) as { v: string | number | null } | undefined;
    const version = toNumber(row?.v) + 1;
    await trx('e2ee_backup_versions').insert({
      user_id: userId,
      version,
      algorithm,
      auth_data: toJsonColumn(authData),
      etag: 0,
      deleted: false,
    });
    return version;
  }

  async updateAuthData(
    userId: string,
    version: number,
    authData: Record<string, unknown>,
    trx?: Queryable,
  ): Promise<void> {
    await (trx ?? this.db)('e2ee_backup_versions')
      .where({ user_id: userId, version })
      .update({ auth_data: toJsonColumn(authData) });
  }

  async deleteVersion(userId: string, version: number, trx?: Queryable): Promise<void> {
    const db = trx ?? this.db;
    await db('e2ee_backup_keys').where({ user_id: userId, version }).delete();
    await db('e2ee_backup_versions').where({ user_id: userId, version }).update({ deleted: true });
  }

  async bumpEtag(userId: string, version: number, trx?: Queryable): Promise<void> {
    await (trx ?? this.db)('e2ee_backup_versions').where({ user_id: userId, version }).increment('etag', 1);
  }

  async countKeys(userId: string, version: number, trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('e2ee_backup_keys')
      .where({ user_id: userId, version })
      .count({ n: '*' })
      .first()) as { n: string | number } | undefined;
    return toNumber(row?.n);
  }

  /** Sessions of a version, optionally of one room or one session. */
  async sessions(
    userId: string,
    version: number,
    roomId?: string,
    sessionId?: string,
    trx?: Queryable,
  ): Promise<StoredBackupSession[]> {
    const query = (trx ?? this.db)('e2ee_backup_keys').where({ user_id: userId, version });
    if (roomId !== undefined) query.andWhere({ room_id: roomId });
    if (sessionId !== undefined) query.andWhere({ session_id: sessionId });
    return ((await query) as SessionRow[]).map((r) => ({
      roomId: r.room_id,
      sessionId: r.session_id,
      first_message_index: toNumber(r.first_message_index),
      forwarded_count: toNumber(r.forwarded_count),
      is_verified: Boolean(r.is_verified),
      session_data: fromJsonColumn<Record<string, unknown>>(r.session_data) ?? {},
    }));
  }

  async putSession(
    userId: string,
    version: number,
    roomId: string,
    sessionId: string,
    session: BackupSession,
    trx?: Queryable,
  ): Promise<void> {
    await (trx ?? this.db)('e2ee_backup_keys')
      .insert({
        user_id: userId,
        version,
        room_id: roomId,
        session_id: sessionId,
        first_message_index: session.first_message_index,
        forwarded_count: session.forwarded_count,
        is_verified: session.is_verified,
        session_data: toJsonColumn(session.session_data),
      })
      .onConflict(['user_id', 'version', 'room_id', 'session_id'])
      .merge(['first_message_index', 'forwarded_count', 'is_verified', 'session_data']);
  }

  /** Deletes sessions (all, a room's, or one); returns how many went. */
  async deleteSessions(
    userId: string,
    version: number,
    roomId?: string,
    sessionId?: string,
    trx?: Queryable,
  ): Promise<number> {
    const query = (trx ?? this.db)('e2ee_backup_keys').where({ user_id: userId, version });
    if (roomId !== undefined) query.andWhere({ room_id: roomId });
    if (sessionId !== undefined) query.andWhere({ session_id: sessionId });
    return query.delete();
  }
}

function toVersion(r: VersionRow): BackupVersion {
  return {
    version: toNumber(r.version),
    algorithm: r.algorithm,
    authData: fromJsonColumn<Record<string, unknown>>(r.auth_data) ?? {},
    etag: toNumber(r.etag),
    deleted: Boolean(r.deleted),
  };
}
