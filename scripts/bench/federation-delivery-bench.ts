/**
 * Federation delivery benchmark: two Axon servers over TLS on loopback (a test CA made with openssl).
 * A runs in its own process as `npm start` runs it; B runs in this process (a real kernel, its federation
 * listener on TLS) so the moment a transaction reaches B's `/send` handler — after TLS and B's X-Matrix
 * check — can be timed. B's user joins A's room through make_join/send_join (driven from here, signed with
 * B's key). Reports, per engine of A:
 *   - latency: alice on A sends one message at a time; from A's answer to her `PUT /send` until the
 *     transaction holding it reaches B, and from the start of the send (p50/p95);
 *   - burst: `--burst` messages sent 20 at a time; the time until B has them all, and how they were batched.
 * (Once remote joins exist, the end-to-end figure of issue 13 is A's send answer → B's user's /sync.)
 *
 * Run: npx tsx scripts/bench/federation-delivery-bench.ts [--messages 200] [--burst 500] [--engine sqlite|pg|all]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import type { DatabaseConfig } from '../../core/config/schema.js';
import { Kernel } from '../../core/kernel.js';
import { createLogger } from '../../core/logger.js';
import { computeEventId } from '../../core/protocol/event-id.js';
import type { PduJson } from '../../core/protocol/pdu.js';
import { getRoomVersion, ROOM_VERSIONS } from '../../core/protocol/room-versions.js';
import { formatSigningKeyFile, generateSigningKey } from '../../core/protocol/signing-key.js';
import { hashAndSignEvent } from '../../core/protocol/signing.js';
import { builtinModules } from '../../modules/index.js';
import { DEFAULT_PG_URL, forEachEngine, percentile, startBenchServer, type Json } from './lib.js';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '200' },
    burst: { type: 'string', default: '500' },
    engine: { type: 'string', default: 'all' },
    'pg-url': { type: 'string', default: DEFAULT_PG_URL },
  },
});
const MESSAGES = Number(args.messages);
const BURST = Number(args.burst);
const pct = (values: readonly number[], p: number): string => percentile(values, p).toFixed(2);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A CA and a certificate for localhost / 127.0.0.1 signed by it. */
function makeCa(dir: string): { ca: string; cert: string; key: string } {
  const run = (...a: string[]): void => void execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=bench CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  run('req', ...ec, '-subj', '/CN=localhost', '-keyout', 'tls.key', '-out', 'tls.csr');
  execFileSync('sh', ['-c', "echo 'subjectAltName=DNS:localhost,IP:127.0.0.1' > ext.cnf"], { cwd: dir });
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

async function bench(engine: string, database: DatabaseConfig): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-fed-bench-'));
  const tls = makeCa(dir);
  const federation = {
    tls_certificate_path: tls.cert,
    tls_private_key_path: tls.key,
    federation_custom_ca_list: [tls.ca],
    ip_range_whitelist: ['127.0.0.0/8'],
    trusted_key_servers: [],
  };
  const aPort = await freePort();
  const a = await startBenchServer({
    database,
    config: { server_name: `localhost:${aPort}`, ...federation },
    extraListeners: [
      { port: aPort, bind_addresses: ['127.0.0.1'], tls: true, resources: [{ names: ['federation'] }] },
    ],
  });

  const bPort = await freePort();
  const bKey = generateSigningKey();
  await writeFile(join(dir, 'b.key'), formatSigningKeyFile(bKey), { mode: 0o600 });
  const b = await Kernel.boot({
    config: {
      server_name: `localhost:${bPort}`,
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
        { port: bPort, bind_addresses: ['127.0.0.1'], tls: true, resources: [{ names: ['federation'] }] },
      ],
      database: { name: 'sqlite3', args: { database: join(dir, 'b.db') } },
      signing_key_path: join(dir, 'b.key'),
      media_store_path: join(dir, 'media'),
      log_level: 'warn',
      ...federation,
    },
    configDir: dir,
    modules: builtinModules,
    logger: createLogger('warn'),
  });
  try {
    const http = a.client;
    const alice = await http.register('alice');
    const roomId = await http.createRoom(alice);

    // B's user joins A's room: make_join → sign with B's key → send_join.
    const bob = `@bob:localhost:${bPort}`;
    const client = b.container.cradle.federationClient;
    const enc = encodeURIComponent;
    const template = (await client.request({
      method: 'GET',
      destination: `localhost:${aPort}`,
      path: `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(bob)}`,
      query: { ver: [...ROOM_VERSIONS.keys()] },
    })) as Json;
    const version = getRoomVersion(String(template['room_version']))!;
    const join = hashAndSignEvent(
      { ...(template['event'] as PduJson), origin_server_ts: Date.now() },
      version,
      `localhost:${bPort}`,
      bKey,
    );
    await client.request({
      method: 'PUT',
      destination: `localhost:${aPort}`,
      path: `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(computeEventId(join, version))}`,
      body: join,
    });

    // Arrival times at B's /send, by message body.
    const arrived = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    const txnSizes: number[] = [];
    const receiver = b.container.cradle.federationTransactions;
    const original = receiver.receive.bind(receiver);
    receiver.receive = (origin, txnId, body) => {
      const at = performance.now();
      const pdus = (body as { pdus?: PduJson[] }).pdus ?? [];
      txnSizes.push(pdus.length);
      for (const pdu of pdus) {
        const text = pdu.content['body'] as string;
        arrived.set(text, at);
        waiting.get(text)?.();
      }
      return original(origin, txnId, body);
    };
    const arrival = (text: string): Promise<number> =>
      arrived.has(text)
        ? Promise.resolve(arrived.get(text)!)
        : new Promise((resolve) => waiting.set(text, () => resolve(arrived.get(text)!)));

    const fromAnswer: number[] = [];
    const fromStart: number[] = [];
    for (let i = 0; i < MESSAGES + 5; i++) {
      const text = `one ${i}`;
      const t0 = performance.now();
      await http.sendText(alice, roomId, `one-${i}`, text);
      const t1 = performance.now();
      const at = await arrival(text);
      if (i >= 5) {
        fromAnswer.push(at - t1);
        fromStart.push(at - t0);
      }
    }
    console.log(
      `${engine}: A's send answer → transaction at B, ${MESSAGES} messages one at a time: ` +
        `p50 ${pct(fromAnswer, 50)} ms, p95 ${pct(fromAnswer, 95)} ms ` +
        `(from the start of the send: p50 ${pct(fromStart, 50)} ms, p95 ${pct(fromStart, 95)} ms)`,
    );

    txnSizes.length = 0;
    const started = performance.now();
    for (let i = 0; i < BURST; i += 20) {
      await Promise.all(
        Array.from({ length: Math.min(20, BURST - i) }, (_, j) =>
          http.sendText(alice, roomId, `burst-${i + j}`, `burst ${i + j}`),
        ),
      );
    }
    const sentAll = performance.now();
    await Promise.all(Array.from({ length: BURST }, (_, i) => arrival(`burst ${i}`)));
    const done = performance.now();
    console.log(
      `${engine}: burst of ${BURST} (20 concurrent sends): all sent in ${(sentAll - started).toFixed(0)} ms, ` +
        `all at B ${(done - started).toFixed(0)} ms after the first send (${(done - sentAll).toFixed(0)} ms ` +
        `after the last answer), ${txnSizes.length} transactions, largest ${Math.max(...txnSizes)} PDUs`,
    );
  } finally {
    await b.stop(1000);
    await a.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await forEachEngine(args.engine, args['pg-url'], bench);
