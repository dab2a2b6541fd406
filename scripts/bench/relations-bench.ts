/**
 * What bundled aggregations cost a history page. Starts Axon in its own process as `npm start` runs it
 * (SQLite on a temporary file, and PostgreSQL when reachable), then builds two rooms of 100 messages followed
 * by 100 more events — in one, an `m.replace` edit of each message; in the other, plain messages — and times
 * the same `/messages?dir=f&limit=100` page over each room's 100 originals: plain, and with each original
 * carrying its bundled edit. Twice: repeat views (the bundle cache answers), then first views (a new message
 * in the room before each page makes its cached bundles stale, so the edits are read). Reports p50/p95/mean
 * latency, the server's CPU time per page and the page size.
 *
 *   npx tsx scripts/bench/relations-bench.ts [--pages 300] [--engine sqlite|pg|all]
 *                                            [--pg-url postgres://postgres@127.0.0.1:5432/test]
 *
 * Measured (2-core machine shared with other work, load average 4-10; 300 pages each, interleaved), two runs:
 *   sqlite  repeat views: plain p50 4.91 / 3.46 ms, edits p50 5.65 / 4.10 ms (×1.15 / ×1.19); 30 and 77 KiB
 *           first views:  plain p50 5.20 / 5.37 ms, edits p50 6.79 / 6.76 ms (×1.31 / ×1.26)
 *   pg      repeat views: plain p50 4.74 / 4.33 ms, edits p50 5.41 / 4.99 ms (×1.14 / ×1.15)
 *           first views:  plain p50 6.47 / 5.80 ms, edits p50 8.42 / 8.09 ms (×1.30 / ×1.40)
 * Before the prepared 8-column read and the cache (same machine, same hour, interleaved pairs): ×1.28-1.85
 * SQLite, ×1.52-1.64 PostgreSQL. A repeat view costs the edited page only its size: the spec bundles each edit
 * in full, 2.5 times the bytes to format, serialise and parse. A first view adds reading 100 edit rows, most
 * of it the driver handing over each value (node-sqlite3) and parsing each PDU.
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_PG_URL,
  forEachEngine,
  percentile,
  startBenchServer,
  type BenchClient,
  type BenchServer,
  type BenchUser,
  type Json,
} from './lib.js';

const { values: args } = parseArgs({
  options: {
    pages: { type: 'string', default: '300' },
    engine: { type: 'string', default: 'all' },
    'pg-url': { type: 'string', default: DEFAULT_PG_URL },
  },
});
const PAGES = Math.max(1, Number(args.pages));
const PAGE = 100;

let txn = 0;
const roomPath = (roomId: string, rest: string): string =>
  `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}${rest}`;

/** A room of PAGE messages (each edited once when `edited`); the token just before the first message. */
async function buildRoom(client: BenchClient, user: BenchUser, edited: boolean): Promise<[string, string]> {
  const roomId = await client.createRoom(user);
  const ids: string[] = [];
  for (let i = 0; i < PAGE; i++) ids.push(await client.sendText(user, roomId, `r${++txn}`, `message ${i}`));
  // Both rooms get PAGE more events after the page, so the walk reads the same rows in each.
  if (!edited) for (let i = 0; i < PAGE; i++) await client.sendText(user, roomId, `r${++txn}`, `later ${i}`);
  if (edited) {
    for (const [i, id] of ids.entries()) {
      await client.call('PUT', roomPath(roomId, `/send/m.room.message/r${++txn}`), user.token, {
        msgtype: 'm.text',
        body: `* message ${i}, edited`,
        'm.new_content': { msgtype: 'm.text', body: `message ${i}, edited` },
        'm.relates_to': { rel_type: 'm.replace', event_id: id },
      });
    }
  }
  const ctx = await client.call('GET', roomPath(roomId, `/context/${ids[0]}?limit=0`), user.token);
  return [roomId, String(ctx['start'])];
}

interface Figures {
  latencies: number[];
  cpuMs: number;
  bytes: number;
}

async function page(client: BenchClient, user: BenchUser, roomId: string, from: string): Promise<Json> {
  return client.call(
    'GET',
    roomPath(roomId, `/messages?dir=f&limit=${PAGE}&from=${encodeURIComponent(from)}`),
    user.token,
  );
}

function line(label: string, f: Figures): string {
  const mean = f.latencies.reduce((a, b) => a + b, 0) / f.latencies.length;
  return (
    `  ${label.padEnd(22)} p50 ${percentile(f.latencies, 50).toFixed(2)} ms, ` +
    `p95 ${percentile(f.latencies, 95).toFixed(2)} ms, mean ${mean.toFixed(2)} ms, ` +
    `server CPU ${(f.cpuMs / f.latencies.length).toFixed(2)} ms/page, ${(f.bytes / 1024).toFixed(0)} KiB/page`
  );
}

console.log(
  `Axon relations benchmark: /messages pages of ${PAGE} events, ${PAGES} pages each (node ${process.version})`,
);
await forEachEngine(args.engine, args['pg-url'], async (engine, database) => {
  const server: BenchServer = await startBenchServer({ database });
  try {
    const { client } = server;
    console.log(`${engine}:`);
    const user = await client.register('relbench');
    const [plainRoom, plainFrom] = await buildRoom(client, user, false);
    const [editedRoom, editedFrom] = await buildRoom(client, user, true);

    const check = await page(client, user, editedRoom, editedFrom);
    const chunk = check['chunk'] as { unsigned?: { 'm.relations'?: Json } }[];
    const bundled = chunk.filter((e) => e.unsigned?.['m.relations']?.['m.replace']).length;
    console.log(`  page check: ${chunk.length} events, ${bundled} with a bundled edit`);

    for (let i = 0; i < 30; i++) {
      await page(client, user, plainRoom, plainFrom); // warm-up: JIT, caches
      await page(client, user, editedRoom, editedFrom);
    }
    // Repeat views first (the bundle cache answers), then first views: a new message in each room before
    // each of its pages makes the room's cached bundles stale, as any new event does.
    for (const fresh of [false, true]) {
      const runs: Record<'plain' | 'edited', Figures> = {
        plain: { latencies: [], cpuMs: 0, bytes: 0 },
        edited: { latencies: [], cpuMs: 0, bytes: 0 },
      };
      // Interleaved, so both see the same machine load.
      for (let i = 0; i < PAGES; i++) {
        for (const kind of ['plain', 'edited'] as const) {
          const [roomId, from] = kind === 'plain' ? [plainRoom, plainFrom] : [editedRoom, editedFrom];
          if (fresh) await client.sendText(user, roomId, `r${++txn}`, 'news');
          const cpuBefore = await server.cpuMs();
          const started = performance.now();
          const body = await page(client, user, roomId, from);
          runs[kind].latencies.push(performance.now() - started);
          runs[kind].cpuMs += (await server.cpuMs()) - cpuBefore;
          runs[kind].bytes = JSON.stringify(body).length;
        }
      }
      console.log(fresh ? '  first views (bundles read):' : '  repeat views (bundles cached):');
      console.log(line('100 events, no edits', runs.plain));
      console.log(line('100 events, 100 edits', runs.edited));
      const p50 = (f: Figures): number => percentile(f.latencies, 50);
      console.log(`  p50 ratio edited/plain: ${(p50(runs.edited) / p50(runs.plain)).toFixed(2)}`);
    }
    console.log(`  server RSS after the run: ${(await server.rssMiB()).toFixed(0)} MiB`);
  } finally {
    await server.stop();
  }
});
