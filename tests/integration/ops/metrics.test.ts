/**
 * The metrics listener as Prometheus scrapes it: `enable_metrics: true` and a `type: metrics` listener
 * serve the text exposition format, parsed here line by line: request counts and latency histograms per
 * route pattern and status, events persisted, /sync long-polls in flight, the database pool, and the
 * process metrics of prom-client's collectDefaultMetrics.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../helpers/fixtures.js';
import { startServer, type TestServer } from '../../helpers/start-server.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text format: `# HELP`/`# TYPE` comments, then `name{label="value",...} number` lines. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] ?? '', type[2] ?? '');
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1] ?? ''] = l[2] ?? '';
    }
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(server: TestServer, path = '/metrics') {
  const port = server.kernel.listeners[1]?.port;
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  if (res.status !== 200) throw new Error(`scrape: ${res.status}`);
  return { contentType: res.headers.get('content-type'), ...parseExposition(await res.text()) };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

void t.test(
  'a metrics listener serves Prometheus metrics of requests, events, syncs and the process',
  async (t) => {
    const server = await startServer(t, {
      config: {
        ...openRegistrationConfig,
        enable_metrics: true,
        listeners: [
          { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
          { port: 0, bind_addresses: ['127.0.0.1'], type: 'metrics' },
        ],
      },
    });
    const alice = await makeUser(server, { localpart: 'alice' });
    const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: {},
    });
    t.equal(room.status, 200);
    const roomId = room.body.room_id as string;
    const first = await server.request('GET', '/_matrix/client/v3/sync', { token: alice.accessToken });

    const sync = server.request(
      'GET',
      `/_matrix/client/v3/sync?timeout=20000&since=${first.body.next_batch}`,
      {
        token: alice.accessToken,
      },
    );
    let inFlight: number | undefined;
    for (let i = 0; i < 100 && inFlight !== 1; i++) {
      inFlight = value((await scrape(server)).samples, 'axon_sync_long_polls_in_flight');
      if (inFlight !== 1) await new Promise((r) => setTimeout(r, 50));
    }
    t.equal(inFlight, 1, 'one /sync long-poll in flight');
    const before = (await scrape(server)).samples;
    const send = await server.request(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`,
      {
        token: alice.accessToken,
        body: { msgtype: 'm.text', body: 'hello' },
      },
    );
    t.equal(send.status, 200);
    t.equal((await sync).status, 200);
    await server.request('GET', '/_matrix/client/v3/no-such-endpoint');

    const { contentType, samples, types } = await scrape(server);
    t.match(contentType, /^text\/plain; version=0\.0\.4/);
    t.equal(
      value(samples, 'axon_events_persisted_total'),
      (value(before, 'axon_events_persisted_total') ?? 0) + 1,
      'the message counts as one persisted event',
    );
    t.ok((value(before, 'axon_events_persisted_total') ?? 0) >= 5, 'createRoom persisted its state events');
    t.equal(value(samples, 'axon_sync_long_polls_in_flight'), 0);
    t.equal(value(samples, 'axon_sync_long_polls_total', { outcome: 'woken' }), 1);
    t.equal(types.get('axon_http_requests_total'), 'counter');
    t.equal(types.get('axon_http_request_duration_seconds'), 'histogram');
    const sendRoute = '/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId';
    t.equal(
      value(samples, 'axon_http_requests_total', { method: 'PUT', route: sendRoute, status: '200' }),
      1,
    );
    t.equal(
      value(samples, 'axon_http_request_duration_seconds_count', {
        method: 'PUT',
        route: sendRoute,
        status: '200',
      }),
      1,
    );
    t.equal(
      value(samples, 'axon_http_request_duration_seconds_bucket', {
        method: 'PUT',
        route: sendRoute,
        status: '200',
        le: '+Inf',
      }),
      1,
    );
    t.equal(
      value(samples, 'axon_http_requests_total', {
        method: 'POST',
        route: '/_matrix/client/v3/register',
        status: '401',
      }),
      1,
      'the UIA challenge, by its status',
    );
    t.equal(value(samples, 'axon_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    t.notOk(
      samples.some((s) => s.labels['route']?.includes('!')),
      'routes are patterns, never raw paths with ids',
    );
    t.ok((value(samples, 'axon_db_pool_connections', { engine: 'sqlite3', state: 'free' }) ?? -1) >= 0);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      t.ok(value(samples, name) !== undefined, `process metric ${name}`);
    }
    t.equal(types.get('nodejs_gc_duration_seconds'), 'histogram', 'GC durations');

    const synapsePath = await scrape(server, '/_synapse/metrics');
    t.ok(value(synapsePath.samples, 'axon_events_persisted_total'), "served at Synapse's path too");
  },
);

void t.test(
  'without enable_metrics, a metrics listener is skipped and requests are not counted',
  async (t) => {
    const server = await startServer(t, {
      config: {
        listeners: [
          { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
          { port: 0, bind_addresses: ['127.0.0.1'], type: 'metrics' },
        ],
      },
    });
    t.equal(server.kernel.listeners.length, 1, 'only the client listener is open');
  },
);
