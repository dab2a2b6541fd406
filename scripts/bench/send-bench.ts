/**
 * Send throughput and latency. Starts Axon in its own process as `npm start` runs it (SQLite on a temporary
 * file, and PostgreSQL when reachable), registers users over HTTP, then measures
 *   - sequential: one user sending N messages one after another into a room of C members;
 *   - concurrent: C users sending at once into that room (the per-room write lock's worst case);
 * and reports msgs/s, p50/p95 latency, the server's CPU time per message and its resident memory.
 *
 *   npx tsx scripts/bench/send-bench.ts [--messages 2000] [--concurrency 10] [--engine sqlite|pg|all]
 *                                       [--pg-url postgres://postgres@127.0.0.1:5432/test]
 *                                       [--profile DIR]  (write the server's V8 CPU profile into DIR)
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
} from './lib.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '10' },
    engine: { type: 'string', default: 'all' },
    'pg-url': { type: 'string', default: DEFAULT_PG_URL },
    profile: { type: 'string' },
  },
});
const MESSAGES = Number(args.messages);
const CONCURRENCY = Math.max(1, Number(args.concurrency));

let txn = 0;
async function sendOne(client: BenchClient, user: BenchUser, roomId: string, latencies: number[]) {
  const started = performance.now();
  await client.sendText(user, roomId, `b${++txn}`, `benchmark message ${txn}`);
  latencies.push(performance.now() - started);
}

/** Throughput, latency percentiles and the server's CPU time per message. */
async function report(label: string, server: BenchServer, phase: () => Promise<number[]>): Promise<void> {
  const cpuBefore = await server.cpuMs();
  const started = performance.now();
  const latencies = await phase();
  const elapsed = performance.now() - started;
  const cpu = ((await server.cpuMs()) - cpuBefore) / latencies.length;
  console.log(
    `  ${label.padEnd(26)} ${latencies.length} msgs in ${(elapsed / 1000).toFixed(2)} s: ` +
      `${((latencies.length / elapsed) * 1000).toFixed(0)} msgs/s, ` +
      `p50 ${percentile(latencies, 50).toFixed(2)} ms, p95 ${percentile(latencies, 95).toFixed(2)} ms, ` +
      `server CPU ${cpu.toFixed(2)} ms/msg`,
  );
}

console.log(
  `Axon send benchmark: ${MESSAGES} messages, ${CONCURRENCY} members/senders (node ${process.version})`,
);
await forEachEngine(args.engine, args['pg-url'], async (engine, database) => {
  const server = await startBenchServer({
    database,
    nodeArgs: args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [],
  });
  try {
    const { client } = server;
    console.log(`${engine}:`);
    const users: BenchUser[] = [];
    for (let i = 0; i < CONCURRENCY; i++) users.push(await client.register(`bench${i}`));
    const owner = users[0]!;
    const roomId = await client.createRoom(owner);
    for (const u of users.slice(1)) await client.join(u, roomId);
    for (let i = 0; i < 100; i++) await sendOne(client, owner, roomId, []); // warm-up: JIT, caches

    await report('sequential (1 sender)', server, async () => {
      const latencies: number[] = [];
      for (let i = 0; i < MESSAGES; i++) await sendOne(client, owner, roomId, latencies);
      return latencies;
    });
    await report(`concurrent (${users.length} senders)`, server, async () => {
      const latencies: number[] = [];
      const perSender = Math.ceil(MESSAGES / users.length);
      await Promise.all(
        users.map(async (u) => {
          for (let i = 0; i < perSender; i++) await sendOne(client, u, roomId, latencies);
        }),
      );
      return latencies;
    });
    console.log(`  server RSS after the run: ${(await server.rssMiB()).toFixed(0)} MiB`);
  } finally {
    await server.stop();
  }
});
