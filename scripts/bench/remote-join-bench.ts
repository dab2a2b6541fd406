/**
 * Joining a large remote room: server A (in this process) holds a public room with `--members` joined
 * users; a user of server B (its own process, run as `npm start` runs it: lib.ts) joins it by room id with
 * `via` — make_join, send_join (A answers with the whole state and auth chain), B's validation of every
 * event (format, signatures, hashes, auth) and its one-transaction store. The two federate over TLS on
 * loopback with a CA made for the run (openssl).
 *
 *   npx tsx scripts/bench/remote-join-bench.ts [--members 5000] [--engine sqlite|pg] [--pg postgres://…]
 *
 * Printed: the end-to-end time of B's `POST /join` (the client's view) with the CPU time each side spent in
 * it (on a shared machine the wall time mostly measures the other processes), B's resident memory before
 * it, and B's peak resident memory (VmHWM) growth during it; then that B's /sync shows every member.
 * The room is filled fast: the members' joins are built and signed with A's key here and handed to A's
 * receive pipeline (`roomsFederationApi.receivePdu`, as if they came back over federation), which skips
 * the per-event push-rule evaluation of local sends; only B's join is measured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../core/logger.js';
import { Kernel } from '../../core/kernel.js';
import { authEventsSelection } from '../../core/protocol/auth-events-selection.js';
import { buildEvent } from '../../core/protocol/event-builder.js';
import { builtinModules } from '../../modules/index.js';
import { writeTestCa } from '../../tests/helpers/test-ca.js';
import { DEFAULT_PG_URL, forEachEngine, startBenchServer, type Json } from './lib.js';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '5000' },
    engine: { type: 'string', default: 'sqlite' },
    pg: { type: 'string', default: DEFAULT_PG_URL },
  },
});
const MEMBERS = Number(values.members);

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
  const files = await writeTestCa(dir, 'bench CA');
  return { ca: files.caPath, cert: files.certPath, key: files.keyPath };
}

function federationConfig(tls: { ca: string; cert: string; key: string }, name: string): Json {
  return {
    server_name: name,
    tls_certificate_path: tls.cert,
    tls_private_key_path: tls.key,
    federation_custom_ca_list: [tls.ca],
    ip_range_whitelist: ['127.0.0.0/8'],
    trusted_key_servers: [],
    password_config: { hashing: { opslimit: 1, memlimit: '8K' } },
  };
}

/** A, in this process: a kernel with a client listener and a TLS federation listener. */
async function startA(
  tls: { ca: string; cert: string; key: string },
  database: Json,
  dataDir: string,
): Promise<{ kernel: Kernel; name: string }> {
  const port = await freePort();
  const name = `localhost:${port}`;
  const lifted = { per_second: 1e6, burst_count: 1e6 };
  const kernel = await Kernel.boot({
    modules: builtinModules,
    config: {
      ...federationConfig(tls, name),
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
        { port, bind_addresses: ['127.0.0.1'], tls: true, resources: [{ names: ['federation'] }] },
      ],
      database,
      signing_key_path: join(dataDir, 'signing.key'),
      media_store_path: join(dataDir, 'media'),
      log_level: 'warn',
      enable_registration: true,
      enable_registration_without_verification: true,
      rc_registration: lifted,
      rc_message: lifted,
      rc_joins: { local: lifted, remote: lifted },
      rc_joins_per_room: lifted,
    },
    configDir: dataDir,
    logger: createLogger('warn'),
  });
  return { kernel, name };
}

/**
 * `count` members joining `roomId` at A: each join built on the previous one and signed with A's key, then
 * committed in batches through A's one commit step (`roomsEventPersister.persistEvents`, under the room
 * lock), as a send or the receive pipeline would commit them, without their per-event checks.
 */
async function fillRoom(kernel: Kernel, name: string, roomId: string, count: number): Promise<void> {
  const cradle = kernel.container.cradle;
  const BATCH = 250;
  for (let done = 0; done < count; done += BATCH) {
    await cradle.roomsHeads.withRoomLock(roomId, async () => {
      const head = (await cradle.roomsHeads.get(roomId))!;
      const state = new Map([...head.state].map(([k, e]) => [k, e.eventId]));
      let prev = [...head.extremities];
      let depth = head.maxDepth + 1;
      const events = [];
      for (let i = done; i < Math.min(count, done + BATCH); i++) {
        const userId = `@member${i}:${name}`;
        const draft = {
          type: 'm.room.member',
          state_key: userId,
          sender: userId,
          content: { membership: 'join', displayname: `Member ${i}` },
        };
        const built = buildEvent({
          roomVersion: head.version,
          serverName: name,
          key: cradle.signingKey,
          partial: {
            room_id: roomId,
            ...draft,
            prev_events: prev,
            auth_events: authEventsSelection(draft, head.version)
              .map((k) => state.get(k))
              .filter((id): id is string => id !== undefined),
            depth: depth++,
            origin_server_ts: Date.now(),
          },
        });
        events.push({ eventId: built.eventId, pdu: built.pdu });
        prev = [built.eventId];
      }
      await cradle.roomsEventPersister.persistEvents(head, events);
    });
  }
}

const dir = await mkdtemp(join(tmpdir(), 'axon-remote-join-bench-'));
try {
  const tls = await makeCa(dir);
  await forEachEngine(values.engine, values.pg, async (engine, database) => {
    // Each server needs its own database: B's is a second SQLite file / schema.
    await forEachEngine(engine, values.pg, async (_e, databaseB) => {
      const aDir = await mkdtemp(join(dir, 'a-'));
      const a = await startA(tls, database, aDir);
      const bPort = await freePort();
      const b = await startBenchServer({
        database: databaseB,
        extraListeners: [
          { port: bPort, bind_addresses: ['127.0.0.1'], tls: true, resources: [{ names: ['federation'] }] },
        ],
        config: federationConfig(tls, `localhost:${bPort}`),
      });
      try {
        const base = a.kernel.baseUrl();
        const register = (await (
          await fetch(`${base}/_matrix/client/v3/register`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              username: 'owner',
              password: 'owner-pw',
              auth: { type: 'm.login.dummy' },
            }),
          })
        ).json()) as Json;
        const created = (await (
          await fetch(`${base}/_matrix/client/v3/createRoom`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${String(register['access_token'])}`,
            },
            body: JSON.stringify({ preset: 'public_chat', name: 'Big room' }),
          })
        ).json()) as Json;
        const roomId = String(created['room_id']);
        const t0 = Date.now();
        await fillRoom(a.kernel, a.name, roomId, MEMBERS - 1);
        console.log(
          `${engine}: room on A with ${MEMBERS} members filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
        );

        const joiner = await b.client.register('joiner');
        const rssBefore = await b.rssMiB();
        const peakBefore = await b.peakRssMiB();
        const bCpuBefore = await b.cpuMs();
        const aCpuBefore = process.cpuUsage();
        const start = performance.now();
        await b.client.call(
          'POST',
          `/_matrix/client/v3/join/${encodeURIComponent(roomId)}?via=${encodeURIComponent(a.name)}`,
          joiner.token,
          {},
        );
        const elapsed = performance.now() - start;
        const aCpu = process.cpuUsage(aCpuBefore);
        const aCpuMs = (aCpu.user + aCpu.system) / 1000;
        const bCpuMs = (await b.cpuMs()) - bCpuBefore;
        const peakAfter = await b.peakRssMiB();
        const rssAfter = await b.rssMiB();
        const syncStart = performance.now();
        const sync = await b.client.call('GET', '/_matrix/client/v3/sync', joiner.token);
        const syncMs = performance.now() - syncStart;
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
          `${engine}: B's /join of a ${MEMBERS}-member room: ${(elapsed / 1000).toFixed(2)} s ` +
            `(CPU: B ${(bCpuMs / 1000).toFixed(2)} s, A and this client ${(aCpuMs / 1000).toFixed(2)} s; ` +
            `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores); ` +
            `B's RSS ${rssBefore.toFixed(0)} MiB before, ${rssAfter.toFixed(0)} MiB after; peak growth ` +
            (peakAfter > peakBefore
              ? `${(peakAfter - rssBefore).toFixed(0)} MiB (VmHWM ${peakAfter.toFixed(0)} MiB)`
              : `≤ ${(peakBefore - rssBefore).toFixed(0)} MiB (VmHWM unchanged at ${peakBefore.toFixed(0)} MiB)`) +
            `; B's first /sync ${syncMs.toFixed(0)} ms shows ${members.size} members`,
        );
      } finally {
        await b.stop();
        await a.kernel.stop();
      }
    });
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
