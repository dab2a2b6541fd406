/**
 * Federation delivery benchmark: two Axon servers over TLS on loopback (a test CA made with openssl).
 * A runs in its own process as `npm start` runs it; B runs in this process (a real kernel, its federation
 * listener on TLS) so the moment a transaction reaches B's `/send` handler — after TLS and B's X-Matrix
 * check — can be timed. B's user joins A's room through B's client API (`POST /join/{roomId}?via=A`: B's
 * make_join / send_join). Reports, per engine of A:
 *   - end to end (issue 13's figure): bob on B waits in a long-poll `/sync` (with `since`); alice on A sends
 *     one message at a time; from A's answer to her `PUT /send` until bob's `/sync` returns the message,
 *     and, from the same runs, until the transaction holding it reaches B's `/send` handler (p50/p95), and
 *     where B's part of it goes (to rooms' receive pipeline, to the notifier's wake-up, to the /sync answer);
 *   - burst: `--burst` messages sent 20 at a time; the time until B has them all, and how they were batched.
 *
 * Run: npx tsx scripts/bench/federation-delivery-bench.ts [--messages 200] [--burst 500] [--engine sqlite|pg|all]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';
import type { DatabaseConfig } from '../../core/config/schema.js';
import { Kernel } from '../../core/kernel.js';
import { createLogger } from '../../core/logger.js';
import type { PduJson } from '../../core/protocol/pdu.js';
import { formatSigningKeyFile, generateSigningKey } from '../../core/protocol/signing-key.js';
import { builtinModules } from '../../modules/index.js';
import { writeTestCa } from '../../tests/helpers/test-ca.js';
import { BenchClient, DEFAULT_PG_URL, forEachEngine, percentile, startBenchServer } from './lib.js';

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
const lifted = { per_second: 1e6, burst_count: 1e6 };
type Sync = {
  next_batch: string;
  rooms?: { join?: Record<string, { timeline: { events: { content?: Record<string, unknown> }[] } }> };
};
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

async function bench(engine: string, database: DatabaseConfig): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-fed-bench-'));
  const files = await writeTestCa(dir, 'bench CA');
  const tls = { ca: files.caPath, cert: files.certPath, key: files.keyPath };
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
      enable_registration: true,
      enable_registration_without_verification: true,
      rc_registration: lifted,
      rc_joins: { local: lifted, remote: lifted },
      rc_joins_per_room: lifted,
      ...federation,
    },
    configDir: dir,
    modules: builtinModules,
    logger: createLogger('warn'),
  });
  const closers: (() => void)[] = [];
  try {
    const http = a.client;
    const alice = await http.register('alice');
    const roomId = await http.createRoom(alice);

    // B's user joins A's room through B's client API (B's make_join / send_join).
    const bHttp = new BenchClient(b.baseUrl());
    closers.push(() => bHttp.close());
    const bob = await bHttp.register('bob');
    const enc = encodeURIComponent;
    await bHttp.call(
      'POST',
      `/_matrix/client/v3/join/${enc(roomId)}?via=${enc(`localhost:${aPort}`)}`,
      bob.token,
      {},
    );
    const sync = (since?: string, timeout = 0): Promise<Sync> =>
      bHttp.call(
        'GET',
        `/_matrix/client/v3/sync?timeout=${timeout}${since ? `&since=${enc(since)}` : ''}`,
        bob.token,
      ) as Promise<Sync>;
    const bodiesIn = (res: Sync): string[] =>
      (res.rooms?.join?.[roomId]?.timeline.events ?? []).map((e) => String(e.content?.['body']));

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
    // Where the time goes at B, for the one-at-a-time runs (one message in flight at a time): when rooms'
    // receive pipeline starts, and when the notifier first wakes the room's waiters after that (the
    // pipeline announces the committed event before it returns).
    const marks: { pipelineStart?: number; published?: number } = {};
    const roomsApi = b.container.cradle.roomsFederationApi;
    const receivePdus = roomsApi.receivePdus.bind(roomsApi);
    roomsApi.receivePdus = async (items) => {
      marks.pipelineStart ??= performance.now();
      return receivePdus(items);
    };
    const notifier = b.container.cradle.notifier;
    const publish = notifier.publish.bind(notifier);
    notifier.publish = (change) => {
      if (marks.pipelineStart !== undefined && change.roomIds?.includes(roomId))
        marks.published ??= performance.now();
      publish(change);
    };
    const arrival = (text: string): Promise<number> =>
      arrived.has(text)
        ? Promise.resolve(arrived.get(text)!)
        : new Promise((resolve) => waiting.set(text, () => resolve(arrived.get(text)!)));

    // bob's long poll waits; alice sends; the poll returns with the message.
    let since = (await sync()).next_batch;
    const toSync: number[] = [];
    const toSend: number[] = [];
    const fromStart: number[] = [];
    const stages = { toPipeline: [] as number[], pipeline: [] as number[], toReturn: [] as number[] };
    for (let i = 0; i < MESSAGES + 5; i++) {
      const text = `one ${i}`;
      delete marks.pipelineStart;
      delete marks.published;
      let poll = sync(since, 30_000).then((res) => ({ res, at: performance.now() }));
      await new Promise((r) => setTimeout(r, 3)); // let the poll reach its wait
      const t0 = performance.now();
      await http.sendText(alice, roomId, `one-${i}`, text);
      const t1 = performance.now();
      let got = await poll;
      while (!bodiesIn(got.res).includes(text)) {
        since = got.res.next_batch;
        poll = sync(since, 30_000).then((res) => ({ res, at: performance.now() }));
        got = await poll;
      }
      since = got.res.next_batch;
      const at = await arrival(text);
      if (i >= 5) {
        toSync.push(got.at - t1);
        toSend.push(at - t1);
        fromStart.push(got.at - t0);
        const { pipelineStart = NaN, published = NaN } = marks;
        stages.toPipeline.push(pipelineStart - at);
        stages.pipeline.push(published - pipelineStart);
        stages.toReturn.push(got.at - published);
      }
    }
    console.log(
      `${engine}: A's send answer → bob's long-poll /sync on B returns it, ${MESSAGES} messages one at a time: ` +
        `p50 ${pct(toSync, 50)} ms, p95 ${pct(toSync, 95)} ms (from the start of the send: ` +
        `p50 ${pct(fromStart, 50)} ms, p95 ${pct(fromStart, 95)} ms; load average ${loadavg()[0]!.toFixed(1)})`,
    );
    console.log(
      `${engine}: A's send answer → transaction at B's /send handler (same runs): ` +
        `p50 ${pct(toSend, 50)} ms, p95 ${pct(toSend, 95)} ms`,
    );
    console.log(
      `${engine}: at B (p50 / p95): /send handler → rooms' receive pipeline ${pct(stages.toPipeline, 50)} / ` +
        `${pct(stages.toPipeline, 95)} ms; the pipeline (checks, commit) → the notifier's wake-up ` +
        `${pct(stages.pipeline, 50)} / ${pct(stages.pipeline, 95)} ms; wake-up → bob's /sync answer received ` +
        `${pct(stages.toReturn, 50)} / ` +
        `${pct(stages.toReturn, 95)} ms`,
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
    for (const close of closers) close();
    await b.stop(1000);
    await a.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await forEachEngine(args.engine, args['pg-url'], bench);
