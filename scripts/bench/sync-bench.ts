/**
 * Sync benchmark. Starts its own Axon (a child process run as `npm start` runs it, log_level warn) on a
 * temporary SQLite database and,
 * when reachable, on a fresh PostgreSQL schema (AXON_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/test),
 * then reports:
 *   - delivery latency: user B long-polls /sync, user A sends ≥100 messages one at a time; the time from the
 *     start of A's send until B's /sync returns with it, and from A's send response until then (p50/p95);
 *   - initial sync time for a user in 100 rooms;
 *   - incremental sync cost (nothing new, and one new message among the 100 rooms);
 *   - the server's resident memory (VmRSS of the server process).
 *
 * Run: npx tsx scripts/bench/sync-bench.ts [--messages 200] [--rooms 100] [--engine sqlite|pg|all] [--profile DIR]
 */
import { parseArgs } from 'node:util';
import type { DatabaseConfig } from '../../core/config/schema.js';
import { DEFAULT_PG_URL, forEachEngine, percentile, startBenchServer, type Json } from './lib.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '200' },
    rooms: { type: 'string', default: '100' },
    engine: { type: 'string', default: 'all' },
    'pg-url': { type: 'string', default: DEFAULT_PG_URL },
    profile: { type: 'string' },
  },
});
const MESSAGES = Number(args.messages);
const ROOMS = Number(args.rooms);

const pct = (values: readonly number[], p: number): number => Math.round(percentile(values, p) * 100) / 100;

type Sync = { next_batch: string; rooms?: { join?: Record<string, { timeline: { events: Json[] } }> } };

async function bench(engine: string, database: DatabaseConfig): Promise<void> {
  const server = await startBenchServer({
    database,
    nodeArgs: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [],
  });
  const http = server.client;
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

    const rss = Math.round(await server.rssMiB());
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
    console.log(`server RSS: ${rss} MiB`);
  } finally {
    await server.stop();
  }
}

console.log(`sync-bench: ${MESSAGES} messages, ${ROOMS} rooms, node ${process.version}`);
await forEachEngine(args.engine, args['pg-url'], (engine, database) =>
  bench(engine === 'pg' ? 'postgresql' : 'sqlite', database),
);
