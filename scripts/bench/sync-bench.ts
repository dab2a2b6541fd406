/**
 * Sync benchmark. Starts its own Axon (a child process, log_level warn) on a temporary SQLite database and,
 * when reachable, on a fresh PostgreSQL schema (AXON_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test),
 * then reports:
 *   - delivery latency: user B long-polls /sync, user A sends ≥100 messages one at a time; the time from the
 *     start of A's send until B's /sync returns with it, and from A's send response until then (p50/p95);
 *   - initial sync time for a user in 100 rooms;
 *   - incremental sync cost (nothing new, and one new message among the 100 rooms);
 *   - the server's resident memory (VmRSS of the server process).
 *
 * Run: npx tsx scripts/bench/sync-bench.ts [--messages 200] [--rooms 100] [--engine sqlite|pg|all]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { benchPgDatabase } from './lib.js';

const ROOT = resolve(import.meta.dirname, '../..');
const PG_URL = process.env['AXON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const MESSAGES = Number(arg('messages', '200'));
const ROOMS = Number(arg('rooms', '100'));
const ENGINE = arg('engine', 'all');

interface Json {
  [key: string]: unknown;
}

class Http {
  constructor(readonly base: string) {}

  async call(method: string, path: string, token?: string, body?: unknown): Promise<Json> {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as Json;
    if (res.status !== 200 && !(res.status === 401 && path.endsWith('/register'))) {
      throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    }
    return json;
  }

  async register(localpart: string): Promise<{ userId: string; token: string }> {
    const body = { username: localpart, password: `pw-${randomBytes(8).toString('hex')}` };
    const challenge = await this.call('POST', '/_matrix/client/v3/register', undefined, body);
    const done = await this.call('POST', '/_matrix/client/v3/register', undefined, {
      ...body,
      auth: { type: 'm.login.dummy', session: challenge['session'] },
    });
    return { userId: String(done['user_id']), token: String(done['access_token']) };
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

async function startAxon(
  dir: string,
  database: Record<string, unknown>,
): Promise<{ http: Http; child: ChildProcess }> {
  const port = await freePort();
  const config = {
    server_name: 'bench.local',
    listeners: [{ port, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] }],
    database,
    signing_key_path: join(dir, 'signing.key'),
    media_store_path: join(dir, 'media'),
    log_level: 'warn',
    enable_registration: true,
    enable_registration_without_verification: true,
    rc_registration: { per_second: 100000, burst_count: 100000 },
    rc_message: { per_second: 100000, burst_count: 100000 },
  };
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(configPath, stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', 'core/cli.ts', 'start', '-c', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const http = new Http(`http://127.0.0.1:${port}`);
  for (let i = 0; i < 300; i++) {
    try {
      await http.call('GET', '/_matrix/client/versions');
      return { http, child };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGTERM');
  throw new Error('Axon did not start');
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
}

function pct(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[idx] ?? NaN) * 100) / 100;
}

type Sync = { next_batch: string; rooms?: { join?: Record<string, { timeline: { events: Json[] } }> } };

async function bench(engine: string, database: Record<string, unknown>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-bench-'));
  const { http, child } = await startAxon(dir, database);
  try {
    const a = await http.register('alice');
    const b = await http.register('bob');
    const room = String(
      (await http.call('POST', '/_matrix/client/v3/createRoom', a.token, { preset: 'public_chat' }))[
        'room_id'
      ],
    );
    await http.call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/join`, b.token, {});
    const sync = (token: string, since?: string, timeout = 0) =>
      http.call(
        'GET',
        `/_matrix/client/v3/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ''}`,
        token,
      ) as Promise<Sync>;

    // Delivery latency: B waits in a long-poll; A sends one message; B's poll returns it.
    let since = (await sync(b.token)).next_batch;
    const fromStart: number[] = [];
    const fromResponse: number[] = [];
    for (let i = 0; i < MESSAGES + 5; i++) {
      const poll = sync(b.token, since, 30_000).then((r) => ({ r, at: performance.now() }));
      await new Promise((r) => setTimeout(r, 3)); // let the poll reach its wait
      const t0 = performance.now();
      await http.call(
        'PUT',
        `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/b${i}`,
        a.token,
        {
          msgtype: 'm.text',
          body: `message ${i}`,
        },
      );
      const t1 = performance.now();
      let got = await poll;
      while (!got.r.rooms?.join?.[room]) {
        since = got.r.next_batch;
        got = await sync(b.token, since, 30_000).then((r) => ({ r, at: performance.now() }));
      }
      since = got.r.next_batch;
      if (i >= 5) {
        fromStart.push(got.at - t0);
        fromResponse.push(got.at - t1);
      }
    }

    // A user in many rooms.
    const c = await http.register('carol');
    const rooms: string[] = [];
    for (let i = 0; i < ROOMS; i++) {
      const id = String(
        (await http.call('POST', '/_matrix/client/v3/createRoom', c.token, { name: `room ${i}` }))['room_id'],
      );
      rooms.push(id);
      for (let m = 0; m < 3; m++) {
        await http.call(
          'PUT',
          `/_matrix/client/v3/rooms/${encodeURIComponent(id)}/send/m.room.message/r${i}-${m}`,
          c.token,
          {
            msgtype: 'm.text',
            body: `m${m}`,
          },
        );
      }
    }
    const initial: number[] = [];
    let token = '';
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const res = await sync(c.token);
      initial.push(performance.now() - t0);
      token = res.next_batch;
      if (Object.keys(res.rooms?.join ?? {}).length < ROOMS) throw new Error('initial sync is missing rooms');
    }
    const idle: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await sync(c.token, token);
      idle.push(performance.now() - t0);
    }
    const oneNew: number[] = [];
    for (let i = 0; i < 50; i++) {
      const target = rooms[i % rooms.length] ?? '';
      await http.call(
        'PUT',
        `/_matrix/client/v3/rooms/${encodeURIComponent(target)}/send/m.room.message/n${i}`,
        c.token,
        {
          msgtype: 'm.text',
          body: `new ${i}`,
        },
      );
      const t0 = performance.now();
      const res = await sync(c.token, token);
      oneNew.push(performance.now() - t0);
      token = res.next_batch;
    }

    const rss = child.pid ? await rssMb(child.pid) : NaN;
    console.log(`\n== ${engine} ==`);
    console.log(
      `delivery latency, send start → /sync returns (${fromStart.length} msgs): p50 ${pct(fromStart, 50)} ms, p95 ${pct(fromStart, 95)} ms`,
    );
    console.log(
      `delivery latency, send response → /sync returns:            p50 ${pct(fromResponse, 50)} ms, p95 ${pct(fromResponse, 95)} ms`,
    );
    console.log(
      `initial sync, user in ${ROOMS} rooms (5 runs): p50 ${pct(initial, 50)} ms, max ${pct(initial, 100)} ms`,
    );
    console.log(
      `incremental sync, nothing new (200 runs):      p50 ${pct(idle, 50)} ms, p95 ${pct(idle, 95)} ms`,
    );
    console.log(
      `incremental sync, one new message (50 runs):   p50 ${pct(oneNew, 50)} ms, p95 ${pct(oneNew, 95)} ms`,
    );
    console.log(`server RSS: ${rss} MB`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`sync-bench: ${MESSAGES} messages, ${ROOMS} rooms, node ${process.version}`);
  if (ENGINE === 'all' || ENGINE === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'axon-bench-db-'));
    try {
      await bench('sqlite', { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (ENGINE === 'all' || ENGINE === 'pg') {
    const pg = await benchPgDatabase(PG_URL);
    if (pg) {
      try {
        await bench('postgresql', pg.database);
      } finally {
        await pg.drop();
      }
    }
  }
}

await main();
