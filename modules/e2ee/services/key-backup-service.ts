/** Server-side key backups: versions, and session keys kept by the spec's replacement rules. */
import type { Knex } from 'knex';
import { MatrixError } from '../../../core/errors.js';
import { withTransaction } from '../../../core/storage/transaction.js';
import type { BackupSession, BackupVersion, KeyBackupStore } from '../store/key-backup-store.js';
import type { JsonRecord } from './signed-json.js';

export const BACKUP_ALGORITHM = 'm.megolm_backup.v1.curve25519-aes-sha2';

export interface VersionInfo {
  algorithm: string;
  auth_data: JsonRecord;
  version: string;
  count: number;
  etag: string;
}

/** room id → session id → key data. */
export type SessionsByRoom = Readonly<Record<string, Readonly<Record<string, BackupSession>>>>;

const unknownVersion = (version: string) =>
  new MatrixError(404, 'M_NOT_FOUND', `Unknown backup version ${version}`);

/** A version path or query parameter: a positive integer, else no such version. */
function parseVersion(version: string): number | undefined {
  return /^[1-9][0-9]{0,15}$/.test(version) ? Number(version) : undefined;
}

/**
 * Whether `incoming` should replace `current` (spec: prefer verified, then the lower first message index,
 * then the lower forwarded count).
 */
export function shouldReplace(current: BackupSession, incoming: BackupSession): boolean {
  if (current.is_verified !== incoming.is_verified) return incoming.is_verified;
  if (current.first_message_index !== incoming.first_message_index)
    return incoming.first_message_index < current.first_message_index;
  return incoming.forwarded_count < current.forwarded_count;
}

export class KeyBackupService {
  private readonly store: KeyBackupStore;
  private readonly db: Knex;

  constructor(deps: { e2eeKeyBackupStore: KeyBackupStore; db: Knex }) {
    this.store = deps.e2eeKeyBackupStore;
    this.db = deps.db;
  }

  async createVersion(userId: string, algorithm: string, authData: JsonRecord): Promise<string> {
    checkAlgorithm(algorithm);
    const version = await withTransaction(this.db, (trx) =>
      this.store.createVersion(userId, algorithm, authData, trx),
    );
    return String(version);
  }

  /** The current version, or the named one; 404 when there is none (or it was deleted). */
  async getVersion(userId: string, version?: string): Promise<VersionInfo> {
    const info = await this.live(userId, version);
    return {
      algorithm: info.algorithm,
      auth_data: info.authData,
      version: String(info.version),
      count: await this.store.countKeys(userId, info.version),
      etag: String(info.etag),
    };
  }

  async updateVersion(
    userId: string,
    version: string,
    body: { algorithm: string; auth_data: JsonRecord; version?: string },
  ): Promise<void> {
    if (body.version !== undefined && body.version !== version)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'The version in the body does not match the path');
    const info = await this.live(userId, version);
    if (body.algorithm !== info.algorithm)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Algorithm does not match');
    await this.store.updateAuthData(userId, info.version, body.auth_data);
  }

  /** Deletes a version and its keys; deleting it again succeeds, an unknown version is 404. */
  async deleteVersion(userId: string, version: string): Promise<void> {
    const n = parseVersion(version);
    const info = n === undefined ? undefined : await this.store.getVersion(userId, n);
    if (!info) throw unknownVersion(version);
    if (!info.deleted)
      await withTransaction(this.db, (trx) => this.store.deleteVersion(userId, info.version, trx));
  }

  /** Stores sessions in the current version (403 M_WRONG_ROOM_KEYS_VERSION for an older one). */
  async putKeys(
    userId: string,
    version: string,
    rooms: SessionsByRoom,
  ): Promise<{ etag: string; count: number }> {
    return withTransaction(this.db, async (trx) => {
      const current = await this.store.getVersion(userId, undefined, trx);
      const n = parseVersion(version);
      const named = n === undefined ? undefined : await this.store.getVersion(userId, n, trx);
      if (!named || named.deleted) throw unknownVersion(version);
      if (!current || current.version !== named.version)
        throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version.', {
          current_version: current ? String(current.version) : null,
        });
      let changed = false;
      for (const [roomId, sessions] of Object.entries(rooms)) {
        const stored = new Map(
          (await this.store.sessions(userId, named.version, roomId, undefined, trx)).map((s) => [
            s.sessionId,
            s,
          ]),
        );
        for (const [sessionId, session] of Object.entries(sessions)) {
          const existing = stored.get(sessionId);
          if (existing && !shouldReplace(existing, session)) continue;
          await this.store.putSession(userId, named.version, roomId, sessionId, session, trx);
          changed = true;
        }
      }
      if (changed) await this.store.bumpEtag(userId, named.version, trx);
      return this.counters(userId, named.version, trx);
    });
  }

  async getKeys(
    userId: string,
    version: string,
    roomId?: string,
    sessionId?: string,
  ): Promise<SessionsByRoom> {
    const info = await this.live(userId, version);
    const out: Record<string, Record<string, BackupSession>> = {};
    for (const s of await this.store.sessions(userId, info.version, roomId, sessionId)) {
      (out[s.roomId] ??= {})[s.sessionId] = {
        first_message_index: s.first_message_index,
        forwarded_count: s.forwarded_count,
        is_verified: s.is_verified,
        session_data: s.session_data,
      };
    }
    return out;
  }

  async deleteKeys(
    userId: string,
    version: string,
    roomId?: string,
    sessionId?: string,
  ): Promise<{ etag: string; count: number }> {
    const info = await this.live(userId, version);
    return withTransaction(this.db, async (trx) => {
      const deleted = await this.store.deleteSessions(userId, info.version, roomId, sessionId, trx);
      if (deleted > 0) await this.store.bumpEtag(userId, info.version, trx);
      return this.counters(userId, info.version, trx);
    });
  }

  private async counters(
    userId: string,
    version: number,
    trx: Knex.Transaction,
  ): Promise<{ etag: string; count: number }> {
    const info = await this.store.getVersion(userId, version, trx);
    return { etag: String(info?.etag ?? 0), count: await this.store.countKeys(userId, version, trx) };
  }

  private async live(userId: string, version?: string): Promise<BackupVersion> {
    if (version === undefined) {
      const current = await this.store.getVersion(userId);
      if (!current) throw new MatrixError(404, 'M_NOT_FOUND', 'No current backup version');
      return current;
    }
    const n = parseVersion(version);
    const info = n === undefined ? undefined : await this.store.getVersion(userId, n);
    if (!info || info.deleted) throw unknownVersion(version);
    return info;
  }
}

function checkAlgorithm(algorithm: string): void {
  if (algorithm !== BACKUP_ALGORITHM)
    throw new MatrixError(400, 'M_INVALID_PARAM', `Unsupported backup algorithm ${algorithm}`);
}
