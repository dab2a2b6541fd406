/**
 * A server with every module the ephemeral-data modules need (auth, rooms, account data, sync) plus
 * typing, receipts, presence and push rules, and helpers to make users and rooms over HTTP.
 */
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import accountData from '../../../../modules/account-data/index.js';
import auth from '../../../../modules/auth/index.js';
import discovery from '../../../../modules/discovery/index.js';
import presence from '../../../../modules/presence/index.js';
import pushRules from '../../../../modules/push-rules/index.js';
import receipts from '../../../../modules/receipts/index.js';
import rooms from '../../../../modules/rooms/index.js';
import sync from '../../../../modules/sync/index.js';
import typing from '../../../../modules/typing/index.js';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { startServer, type TestResponse, type TestServer } from '../../../helpers/start-server.js';

export const ephemeralModules = [
  discovery,
  auth,
  rooms,
  accountData,
  sync,
  typing,
  receipts,
  presence,
  pushRules,
];

export interface EphemeralServer extends TestServer {
  user(localpart: string): Promise<TestUser>;
  /** Creates a room as `creator` and joins `others` to it; returns the room id. */
  room(creator: TestUser, others?: readonly TestUser[], body?: Record<string, unknown>): Promise<string>;
  send(user: TestUser, roomId: string, content: Record<string, unknown>, type?: string): Promise<string>;
  call(method: string, path: string, user: TestUser, body?: unknown): Promise<TestResponse>;
  /** GET /sync as `user`. */
  sync(user: TestUser, since?: string, timeoutMs?: number): Promise<TestResponse>;
  /**
   * Long-polls from `since` until a response satisfies `found` (returning what it returns) or `deadlineMs`
   * passes (then throws). Other streams may wake a long-poll first, so one response is not enough.
   */
  syncUntil<T>(
    user: TestUser,
    since: string,
    found: (body: SyncBody) => T | undefined,
    deadlineMs?: number,
  ): Promise<{ value: T; nextBatch: string }>;
}

// Sync responses are arbitrary JSON; tests navigate them freely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SyncBody = any;

let txn = 0;

export async function startEphemeralServer(
  t: Test,
  options: { database?: DatabaseConfig; config?: Record<string, unknown> } = {},
): Promise<EphemeralServer> {
  const server = await startServer(t, {
    database: options.database,
    modules: ephemeralModules,
    config: { ...openRegistrationConfig, modules: { presence: true }, ...options.config },
  });
  const call = (method: string, path: string, user: TestUser, body?: unknown) =>
    server.request(method, path, { token: user.accessToken, body });
  const expectOk = (res: TestResponse, what: string): TestResponse => {
    if (res.status !== 200) throw new Error(`${what}: ${res.status} ${res.text}`);
    return res;
  };
  const syncOnce = (user: TestUser, since?: string, timeoutMs = 0) =>
    call(
      'GET',
      `/_matrix/client/v3/sync?timeout=${timeoutMs}${since ? `&since=${encodeURIComponent(since)}` : ''}`,
      user,
    );
  return {
    ...server,
    call,
    sync: syncOnce,
    async syncUntil(user, since, found, deadlineMs = 5000) {
      const deadline = Date.now() + deadlineMs;
      let token = since;
      while (Date.now() < deadline) {
        const res = expectOk(await syncOnce(user, token, Math.max(1, deadline - Date.now())), 'sync');
        token = res.body.next_batch as string;
        const value = found(res.body);
        if (value !== undefined) return { value, nextBatch: token };
      }
      throw new Error('syncUntil: nothing matching arrived in time');
    },
    user: (localpart) => makeUser(server, { localpart }),
    async room(creator, others = [], body = {}) {
      const created = expectOk(
        await call('POST', '/_matrix/client/v3/createRoom', creator, body),
        'createRoom',
      );
      const roomId = created.body.room_id as string;
      for (const other of others) {
        expectOk(
          await call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, creator, {
            user_id: other.userId,
          }),
          'invite',
        );
        expectOk(
          await call('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, other, {}),
          'join',
        );
      }
      return roomId;
    },
    async send(user, roomId, content, type = 'm.room.message') {
      const res = expectOk(
        await call(
          'PUT',
          `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${type}/t${++txn}`,
          user,
          content,
        ),
        'send',
      );
      return res.body.event_id as string;
    },
  };
}

export const enc = encodeURIComponent;
