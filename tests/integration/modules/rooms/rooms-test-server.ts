/**
 * A full test server (auth + rooms) with open registration, and small client helpers the rooms tests
 * share: register users, create rooms, send, read.
 */
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { startServer, type TestResponse, type TestServer } from '../../../helpers/start-server.js';
import type { EngineName } from '../../../helpers/with-all-databases.js';

export interface TestUser {
  readonly userId: string;
  readonly token: string;
  readonly deviceId: string;
}

export interface RoomsTestServer extends TestServer {
  /** Registers `@localpart:test.local` over HTTP. */
  user(localpart: string): Promise<TestUser>;
  /** POST /createRoom; fails the test on a non-200. */
  createRoom(user: TestUser, body?: Record<string, unknown>): Promise<string>;
  /** PUT send/m.room.message with a fresh txn id; returns the event id. */
  send(user: TestUser, roomId: string, body: string, type?: string): Promise<string>;
  /** `request` on a room path: `room(roomId, '/messages')` → `/_matrix/client/v3/rooms/<id>/messages`. */
  room(roomId: string, rest: string): string;
  call(user: TestUser | undefined, method: string, path: string, body?: unknown): Promise<TestResponse>;
}

let txnCounter = 0;

export async function startRoomsServer(
  t: Test,
  options: { engine?: EngineName; database?: DatabaseConfig; config?: Record<string, unknown> } = {},
): Promise<RoomsTestServer> {
  const server = await startServer(t, {
    ...options,
    config: { ...openRegistrationConfig, ...options.config },
  });
  const call = (user: TestUser | undefined, method: string, path: string, body?: unknown) =>
    server.request(method, path, { token: user?.token, body });
  const room = (roomId: string, rest: string) =>
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}${rest}`;
  return {
    ...server,
    call,
    room,
    async user(localpart) {
      const u = await makeUser(server, { localpart });
      return { userId: u.userId, token: u.accessToken, deviceId: u.deviceId };
    },
    async createRoom(user, body = {}) {
      const res = await call(user, 'POST', '/_matrix/client/v3/createRoom', body);
      if (res.status !== 200) throw new Error(`createRoom failed: ${res.status} ${res.text}`);
      return res.body.room_id as string;
    },
    async send(user, roomId, body, type = 'm.room.message') {
      const res = await call(user, 'PUT', room(roomId, `/send/${type}/txn${++txnCounter}`), {
        msgtype: 'm.text',
        body,
      });
      if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
      return res.body.event_id as string;
    },
  };
}
