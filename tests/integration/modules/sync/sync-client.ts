/** Small HTTP client helpers shared by the sync integration tests (users, rooms, sends, syncs). */
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import { login, makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { startServer, type TestResponse, type TestServer } from '../../../helpers/start-server.js';

export interface Client {
  readonly userId: string;
  readonly token: string;
  readonly deviceId: string;
  readonly password: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

let txn = 0;

export class SyncTestServer {
  constructor(readonly server: TestServer) {}

  static async start(t: Test, database: DatabaseConfig): Promise<SyncTestServer> {
    return new SyncTestServer(await startServer(t, { database, config: { ...openRegistrationConfig } }));
  }

  async user(localpart: string): Promise<Client> {
    const u = await makeUser(this.server, { localpart });
    return { userId: u.userId, token: u.accessToken, deviceId: u.deviceId, password: u.password };
  }

  /** A second device of the same user. */
  async device(user: Client): Promise<Client> {
    const s = await login(this.server, user);
    return { ...user, token: s.accessToken, deviceId: s.deviceId };
  }

  async ok(user: Client, method: string, path: string, body?: unknown): Promise<Json> {
    const res = await this.server.request(method, path, { token: user.token, body });
    if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  }

  room(roomId: string, rest: string): string {
    return `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}${rest}`;
  }

  async createRoom(user: Client, body: Record<string, unknown> = {}): Promise<string> {
    return (await this.ok(user, 'POST', '/_matrix/client/v3/createRoom', body)).room_id as string;
  }

  async send(
    user: Client,
    roomId: string,
    body: string,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const res = await this.ok(user, 'PUT', this.room(roomId, `/send/m.room.message/t${++txn}`), {
      msgtype: 'm.text',
      body,
      ...extra,
    });
    return res.event_id as string;
  }

  async state(user: Client, roomId: string, type: string, content: unknown, stateKey = ''): Promise<string> {
    return (await this.ok(user, 'PUT', this.room(roomId, `/state/${type}/${stateKey}`), content))
      .event_id as string;
  }

  invite(user: Client, roomId: string, target: Client): Promise<Json> {
    return this.ok(user, 'POST', this.room(roomId, '/invite'), { user_id: target.userId });
  }

  join(user: Client, roomId: string): Promise<Json> {
    return this.ok(user, 'POST', this.room(roomId, '/join'), {});
  }

  leave(user: Client, roomId: string): Promise<Json> {
    return this.ok(user, 'POST', this.room(roomId, '/leave'), {});
  }

  sync(
    user: Client,
    params: { since?: string; filter?: unknown; timeout?: number; full_state?: boolean } = {},
  ): Promise<TestResponse> {
    const q = new URLSearchParams();
    if (params.since) q.set('since', params.since);
    if (params.filter !== undefined)
      q.set('filter', typeof params.filter === 'string' ? params.filter : JSON.stringify(params.filter));
    if (params.timeout !== undefined) q.set('timeout', String(params.timeout));
    if (params.full_state) q.set('full_state', 'true');
    return this.server.request('GET', `/_matrix/client/v3/sync?${q.toString()}`, { token: user.token });
  }

  async syncOk(user: Client, params: Parameters<SyncTestServer['sync']>[1] = {}): Promise<Json> {
    const res = await this.sync(user, params);
    if (res.status !== 200) throw new Error(`sync: ${res.status} ${res.text}`);
    return res.body;
  }
}

export const bodies = (room: Json): string[] =>
  room.timeline.events.filter((e: Json) => e.type === 'm.room.message').map((e: Json) => e.content.body);

export const stateKeys = (events: Json[]): string[] =>
  events.map((e: Json) => `${e.type}|${e.state_key}`).sort();
