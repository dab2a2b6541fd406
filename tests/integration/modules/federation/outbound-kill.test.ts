/**
 * Nothing is lost after a `kill -9` of the sender, on both engines: A is the compiled server in a child
 * process (as an operator runs it), B a real Axon in this process whose `/send` records what arrives. A is
 * killed with SIGKILL twice — once right after answering sends to a B that is down (PDUs queued, maybe not
 * even fanned out), once in the middle of delivering a run of messages to a B that is up — and restarted
 * on the same database each time; B ends up with every message, first arrivals in order.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import t from 'tap';
import { stringify } from 'yaml';
import { formatSigningKeyFile, generateSigningKey } from '../../../../core/protocol/signing-key.js';
import { spawnCli } from '../../../helpers/cli.js';
import { openRegistrationConfig } from '../../../helpers/fixtures.js';
import { request, TEST_PASSWORD_HASHING, TEST_RATE_LIMITS } from '../../../helpers/start-server.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { joinFrom, recordTransactions, type TxnRecorder } from './outbound-helpers.js';
import { freePort, makeTestCa, startFederatedServer, type FederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);

void withAllDatabasesConcurrently(t, async (t, database) => {
  const dir = await mkdtemp(join(tmpdir(), 'axon-kill-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const aPort = await freePort();
  const clientPort = await freePort();
  const aName = `localhost:${aPort}`;
  await writeFile(join(dir, 'signing.key'), formatSigningKeyFile(generateSigningKey()), { mode: 0o600 });
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(
    configPath,
    stringify({
      server_name: aName,
      listeners: [
        { port: clientPort, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
        { port: aPort, bind_addresses: ['127.0.0.1'], tls: true, resources: [{ names: ['federation'] }] },
      ],
      database,
      signing_key_path: join(dir, 'signing.key'),
      media_store_path: join(dir, 'media'),
      tls_certificate_path: ca.certPath,
      tls_private_key_path: ca.keyPath,
      federation_custom_ca_list: [ca.caPath],
      ip_range_whitelist: ['127.0.0.0/8'],
      trusted_key_servers: [],
      log_level: 'warn',
      password_config: { hashing: TEST_PASSWORD_HASHING },
      federation: {
        destination_min_retry_interval: 200,
        destination_retry_multiplier: 2,
        destination_max_retry_interval: 1000,
      },
      ...openRegistrationConfig,
      ...TEST_RATE_LIMITS,
    }),
  );
  const base = `http://127.0.0.1:${clientPort}`;
  let child: ChildProcess | undefined;
  t.teardown(() => void child?.kill('SIGKILL'));
  async function startA(): Promise<void> {
    child = await spawnCli(['start', '-c', configPath], { cwd: dir });
    child.stdout?.resume();
    child.stderr?.resume();
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/_matrix/client/versions`)).ok) return;
      } catch {
        // not listening yet
      }
      if (i > 600) throw new Error('A did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  async function killA(): Promise<void> {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGKILL');
    await exited;
  }

  await startA();
  const username = 'alice';
  const challenge = await request(base, 'POST', '/_matrix/client/v3/register', {
    body: { username, password: 'pw-alice-123' },
  });
  const registered = await request(base, 'POST', '/_matrix/client/v3/register', {
    body: {
      username,
      password: 'pw-alice-123',
      auth: { type: 'm.login.dummy', session: challenge.body.session },
    },
  });
  const token = registered.body.access_token as string;
  const roomId = (
    await request(base, 'POST', '/_matrix/client/v3/createRoom', { token, body: { preset: 'public_chat' } })
  ).body.room_id as string;
  const engineT = t;
  let b: FederatedServer = await startFederatedServer(t, ca);
  const bPort = b.federationPort;
  const bKey = b.signingKey;
  await joinFrom(b, { serverName: aName }, roomId, `@bob:${b.serverName}`);
  let atB: TxnRecorder = recordTransactions(b);

  const sent: string[] = [];
  async function send(body: string): Promise<void> {
    const res = await request(
      base,
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${body}`,
      { token, body: { msgtype: 'm.text', body } },
    );
    if (res.status !== 200) throw new Error(`send ${body}: ${res.status} ${res.text}`);
    sent.push(body);
  }
  /** The bodies B received, first arrivals only (a transaction A could not record as sent is sent again). */
  const firstArrivals = (recorders: TxnRecorder[]): string[] => [
    ...new Set(recorders.flatMap((r) => r.bodies())),
  ];
  const recorders: TxnRecorder[] = [atB];

  await t.test('killed right after answering sends to a B that is down', async (t) => {
    await b.stop();
    for (let i = 0; i < 10; i++) await send(`down${i}`);
    await killA();
    // Owned by the engine's test, not this one: B must outlive it.
    b = await startFederatedServer(engineT, ca, {}, 'localhost', { federationPort: bPort, signingKey: bKey });
    atB = recordTransactions(b);
    recorders.push(atB);
    await startA();
    await atB.waitFor(() => atB.bodies().includes('down9'), 60_000);
    t.same(firstArrivals(recorders), sent, 'every message, in order');
  });

  await t.test('killed in the middle of delivering to a B that is up', async (t) => {
    for (let i = 0; i < 40; i++) await send(`up${i}`);
    await killA();
    await startA();
    await atB.waitFor(() => atB.bodies().includes('up39'), 60_000);
    t.same(firstArrivals(recorders), sent, 'every message, in order');
    const all = recorders.flatMap((r) => r.bodies());
    t.comment(`${all.length - sent.length} sent twice (accepted by B but not yet recorded by A when killed)`);
  });

  await killA();
});
