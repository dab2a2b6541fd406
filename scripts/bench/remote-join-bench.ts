/**
 * Joining a large remote room: server A (its own process) holds a public room with `--members` joined
 * users; a user of server B (another process) joins it by room id with `via` — make_join, send_join (A
 * answers with the whole state and auth chain), B's validation of every event (format, signatures, hashes,
 * auth) and its one-transaction store. Both servers run as `npm start` runs them (lib.ts), federating
 * over TLS on loopback with a CA made for the run (openssl).
 *
 *   npx tsx scripts/bench/remote-join-bench.ts [--members 5000] [--engine sqlite|pg] [--pg postgres://…]
 *
 * Printed: the end-to-end time of B's `POST /join` (the client's view), B's resident memory before it, and
 * B's peak resident memory (VmHWM) growth during it; then that B's /sync shows the room with every member.
 * The room is filled through A's client API (registration with cheap password hashing, then concurrent
 * joins, which the send path commits in groups): setup takes a while, only the join is measured.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  DEFAULT_PG_URL,
  forEachEngine,
  startBenchServer,
  type BenchServer,
  type BenchUser,
  type Json,
} from './lib.js';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '5000' },
    engine: { type: 'string', default: 'sqlite' },
    pg: { type: 'string', default: DEFAULT_PG_URL },
    concurrency: { type: 'string', default: '32' },
  },
});
const MEMBERS = Number(values.members);
const CONCURRENCY = Number(values.concurrency);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A CA and a certificate for localhost / 127.0.0.1, in `dir`. */
async function makeCa(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=bench CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  run('req', ...ec, '-subj', '/CN=localhost', '-keyout', 'tls.key', '-out', 'tls.csr');
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'tls.crt',
  );
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}

async function startFederated(
  tls: { ca: string; cert: string; key: string },
  database: Parameters<typeof startBenchServer>[0]['database'],
): Promise<{ server: BenchServer; name: string }> {
  const port = await freePort();
  const name = `localhost:${port}`;
  const server = await startBenchServer({
    database,
    extraListeners: [
      { port, bind_addresses: ['127.0.0.1'], tls: true, resources: [{ names: ['federation'] }] },
    ],
    config: {
      server_name: name,
      tls_certificate_path: tls.cert,
      tls_private_key_path: tls.key,
      federation_custom_ca_list: [tls.ca],
      ip_range_whitelist: ['127.0.0.0/8'],
      trusted_key_servers: [],
      password_config: { hashing: { opslimit: 1, memlimit: '8K' } },
    },
  });
  return { server, name };
}

/** Runs `task(i)` for i in [0, n) with at most `limit` at once. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

const dir = await mkdtemp(join(tmpdir(), 'axon-remote-join-bench-'));
try {
  const tls = await makeCa(dir);
  await forEachEngine(values.engine, values.pg, async (engine, database) => {
    // Each server needs its own database: B's is a second SQLite file / schema.
    await forEachEngine(engine, values.pg, async (_e, databaseB) => {
      const a = await startFederated(tls, database);
      const b = await startFederated(tls, databaseB);
      try {
        const owner = await a.server.client.register('owner');
        const roomId = await a.server.client.createRoom(owner, { preset: 'public_chat', name: 'Big room' });
        const t0 = Date.now();
        await pool(MEMBERS - 1, CONCURRENCY, async (i) => {
          const user: BenchUser = await a.server.client.register(`m${i}`);
          await a.server.client.join(user, roomId);
        });
        console.log(
          `${engine}: room on A with ${MEMBERS} members filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );

        const joiner = await b.server.client.register('joiner');
        const rssBefore = await b.server.rssMiB();
        const peakBefore = await b.server.peakRssMiB();
        const start = performance.now();
        await b.server.client.call(
          'POST',
          `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?via=${encodeURIComponent(a.name)}`,
          joiner.token,
          {},
        );
        const elapsed = performance.now() - start;
        const peakAfter = await b.server.peakRssMiB();
        const rssAfter = await b.server.rssMiB();
        const sync = await b.server.client.call('GET', '/_matrix/client/v3/sync', joiner.token);
        const room = ((sync['rooms'] as Json)['join'] as Record<string, Json>)[roomId]!;
        const members = new Set(
          [
            ...((room['state'] as Json)['events'] as Json[]),
            ...((room['timeline'] as Json)['events'] as Json[]),
          ]
            .filter((e) => e['type'] === 'm.room.member')
            .map((e) => e['state_key']),
        );
        console.log(
          `${engine}: B's /join of a ${MEMBERS}-member room: ${(elapsed / 1000).toFixed(2)} s; ` +
            `B's RSS ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after; peak growth ` +
            (peakAfter > peakBefore
              ? `${(peakAfter - rssBefore).toFixed(0)} MiB (VmHWM ${peakAfter.toFixed(0)} MiB)`
              : `≤ ${(peakBefore - rssBefore).toFixed(0)} MiB (VmHWM unchanged at ${peakBefore.toFixed(0)} MiB)`) +
            '; ' +
            `/sync shows ${members.size} members`,
        );
      } finally {
        await b.server.stop();
        await a.server.stop();
      }
    });
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
