import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface UiaSessionRow {
  readonly sessionId: string;
  readonly creationTs: number;
  readonly uri: string;
  readonly method: string;
  readonly description: string;
  readonly clientDict: Record<string, unknown>;
  readonly completed: Record<string, unknown>;
  readonly serverDict: Record<string, unknown>;
}

interface RawSession {
  session_id: string;
  creation_ts: string | number;
  uri: string;
  method: string;
  description: string;
  clientdict: string;
  completed: string;
  serverdict: string;
}

/** `auth_uia_sessions`: UIA sessions live in the database so any process can continue one. */
export class UiaStore {
  constructor(private readonly db: Knex) {}

  async create(s: Omit<UiaSessionRow, 'completed' | 'serverDict'>, trx: Queryable = this.db): Promise<void> {
    await trx('auth_uia_sessions').insert({
      session_id: s.sessionId,
      creation_ts: s.creationTs,
      uri: s.uri,
      method: s.method,
      description: s.description,
      clientdict: toJsonColumn(s.clientDict),
      completed: '{}',
      serverdict: '{}',
    });
  }

  async get(sessionId: string, trx: Queryable = this.db): Promise<UiaSessionRow | undefined> {
    const r = (await trx('auth_uia_sessions').where({ session_id: sessionId }).first()) as
      RawSession | undefined;
    if (!r) return undefined;
    return {
      sessionId: r.session_id,
      creationTs: toNumber(r.creation_ts),
      uri: r.uri,
      method: r.method,
      description: r.description,
      clientDict: fromJsonColumn(r.clientdict) ?? {},
      completed: fromJsonColumn(r.completed) ?? {},
      serverDict: fromJsonColumn(r.serverdict) ?? {},
    };
  }

  async setClientDict(sessionId: string, clientDict: Record<string, unknown>, trx: Queryable = this.db) {
    await trx('auth_uia_sessions')
      .where({ session_id: sessionId })
      .update({ clientdict: toJsonColumn(clientDict) });
  }

  async setCompleted(sessionId: string, completed: Record<string, unknown>, trx: Queryable = this.db) {
    await trx('auth_uia_sessions')
      .where({ session_id: sessionId })
      .update({ completed: toJsonColumn(completed) });
  }

  async setServerDict(sessionId: string, serverDict: Record<string, unknown>, trx: Queryable = this.db) {
    await trx('auth_uia_sessions')
      .where({ session_id: sessionId })
      .update({ serverdict: toJsonColumn(serverDict) });
  }

  async delete(sessionId: string, trx: Queryable = this.db): Promise<void> {
    await trx('auth_uia_sessions').where({ session_id: sessionId }).delete();
  }

  async deleteOlderThan(ts: number, trx: Queryable = this.db): Promise<void> {
    await trx('auth_uia_sessions').where('creation_ts', '<', ts).delete();
  }
}
