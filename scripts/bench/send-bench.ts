/**
 * Send throughput and latency: starts its own Axon (SQLite on a temp file, and PostgreSQL when reachable),
 * registers users over HTTP, then measures
 *   - sequential: one user sending N messages one after another into one room;
 *   - concurrent: C users sending at once into one room (the per-room write lock's worst case);
 * and reports msgs/s, p50/p95 latency and the process RSS afterwards.
 *
 *   npx tsx scripts/bench/send-bench.ts [--messages 2000] [--concurrency 10] [--engine sqlite|pg|all]
 *                                       [--pg-url postgres://postgres@127.0.0.1:5432/test]
 *                                       [--sqlite-synchronous NORMAL]  (experiment: the kernel uses FULL)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DatabaseConfig } from '../../core/config/schema.js';
import { Kernel } from '../../core/kernel.js';
import { createLogger } from '../../core/logger.js';
import { benchPgDatabase } from './lib.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '10' },
    engine: { type: 'string', default: 'all' },
    /** Experiment: override the kernel's SQLite `synchronous` pragma (FULL) to see what fsync per commit costs. */
    'sqlite-synchronous': { type: 'string' },
    'pg-url': {
      type: 'string',
      default: process.env['AXON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});
const MESSAGES = Number(args.messages);
const CONCURRENCY = Number(args.concurrency);

interface Client {
  userId: string;
  token: string;
}

// node:http with a keep-alive agent: lighter than fetch, so the client's own CPU disturbs the figures less.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function http(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      {
        method,
        agent,
        headers: {
          'content-type': 'application/json',
          ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
          if (res.statusCode !== 200 && !(res.statusCode === 401 && path.endsWith('/register'))) {
            reject(new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`));
          } else resolve(json);
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function register(base: string, localpart: string): Promise<Client> {
  const body = { username: localpart, password: `pw-${randomBytes(8).toString('hex')}` };
  const challenge = await http(base, 'POST', '/_matrix/client/v3/register', undefined, body);
  const done = await http(base, 'POST', '/_matrix/client/v3/register', undefined, {
    ...body,
    auth: { type: 'm.login.dummy', session: challenge['session'] },
  });
  return { userId: String(done['user_id']), token: String(done['access_token']) };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Prints throughput, latency percentiles and the CPU time this process spent per message (server and
 *  client together), which stays meaningful on a busy machine where wall-clock figures do not. */
function report(label: string, latencies: number[], elapsedMs: number, cpu: NodeJS.CpuUsage): void {
  latencies.sort((a, b) => a - b);
  const rate = (latencies.length / elapsedMs) * 1000;
  const cpuPerMsg = (cpu.user + cpu.system) / 1000 / latencies.length;
  console.log(
    `  ${label.padEnd(28)} ${latencies.length} msgs in ${(elapsedMs / 1000).toFixed(2)} s: ` +
      `${rate.toFixed(0)} msgs/s, p50 ${percentile(latencies, 50).toFixed(2)} ms, p95 ${percentile(latencies, 95).toFixed(2)} ms, ` +
      `CPU ${cpuPerMsg.toFixed(2)} ms/msg`,
  );
}

let txn = 0;
async function sendOne(base: string, client: Client, roomId: string, latencies: number[]): Promise<void> {
  const started = performance.now();
  await http(
    base,
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${++txn}`,
    client.token,
    {
      msgtype: 'm.text',
      body: `benchmark message ${txn}`,
    },
  );
  latencies.push(performance.now() - started);
}

async function run(engine: string, database: DatabaseConfig): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-bench-'));
  const kernel = await Kernel.boot({
    config: {
      server_name: 'bench.local',
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] }],
      database,
      signing_key_path: join(dir, 'signing.key'),
      log_level: 'warn',
      enable_registration: true,
      enable_registration_without_verification: true,
      rc_registration: { per_second: 1000, burst_count: 1000 },
      rc_login: {
        address: { per_second: 1000, burst_count: 1000 },
        account: { per_second: 1000, burst_count: 1000 },
        failed_attempts: { per_second: 1000, burst_count: 1000 },
      },
    },
    configDir: dir,
    logger: createLogger('warn'),
  });
  try {
    const base = kernel.baseUrl();
    const synchronous = args['sqlite-synchronous'];
    if (engine === 'sqlite' && synchronous) {
      if (!/^(OFF|NORMAL|FULL|EXTRA)$/i.test(synchronous))
        throw new Error('--sqlite-synchronous: OFF|NORMAL|FULL|EXTRA');
      await kernel.db.raw(`PRAGMA synchronous=${synchronous}`); // one connection: applies to every query
    }
    console.log(
      `${engine}${engine === 'sqlite' ? ` (synchronous=${synchronous ?? 'FULL, the kernel default'})` : ''}:`,
    );
    const clients: Client[] = [];
    for (let i = 0; i < Math.max(1, CONCURRENCY); i++) clients.push(await register(base, `bench${i}`));
    const owner = clients[0]!;
    const created = await http(base, 'POST', '/_matrix/client/v3/createRoom', owner.token, {
      preset: 'public_chat',
    });
    const roomId = String(created['room_id']);
    for (const c of clients.slice(1))
      await http(base, 'POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, c.token, {});

    for (let i = 0; i < 50; i++) await sendOne(base, owner, roomId, []); // warm-up: JIT, caches

    const sequential: number[] = [];
    let cpu = process.cpuUsage();
    let started = performance.now();
    for (let i = 0; i < MESSAGES; i++) await sendOne(base, owner, roomId, sequential);
    report('sequential (1 sender)', sequential, performance.now() - started, process.cpuUsage(cpu));

    const concurrent: number[] = [];
    const perSender = Math.ceil(MESSAGES / clients.length);
    cpu = process.cpuUsage();
    started = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < perSender; i++) await sendOne(base, c, roomId, concurrent);
      }),
    );
    report(
      `concurrent (${clients.length} senders)`,
      concurrent,
      performance.now() - started,
      process.cpuUsage(cpu),
    );
    console.log(`  RSS after run: ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    agent.destroy();
    await kernel.stop(1000);
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(
  `Axon send benchmark: ${MESSAGES} messages, ${CONCURRENCY} concurrent senders (node ${process.version})`,
);
if (args.engine === 'sqlite' || args.engine === 'all') {
  const dir = await mkdtemp(join(tmpdir(), 'axon-bench-db-'));
  try {
    await run('sqlite', { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
if (args.engine === 'pg' || args.engine === 'all') {
  const pg = await benchPgDatabase(args['pg-url']);
  if (pg) {
    try {
      await run('pg', pg.database);
    } finally {
      await pg.drop();
    }
  }
}
