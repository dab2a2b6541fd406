/**
 * A seeded property-based fuzz of the whole HTTP surface: a few hundred requests built by fast-check from
 * every route the modules register (recorded as they register them), with mutated path parameters, query
 * strings, methods, headers and bodies. Every answer must be below 500, every 4xx a Matrix error body, and
 * the server must still answer afterwards. FUZZ_SEED / FUZZ_RUNS override the seed and the count;
 * FUZZ_ENGINE=pg runs it against PostgreSQL.
 */
import { request as httpRequest, Agent } from 'node:http';
import t from 'tap';
import fc from 'fast-check';
import { startServer } from '../../helpers/start-server.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { makeUser, openRegistrationConfig } from '../../helpers/fixtures.js';
import { builtinModules } from '../../../modules/index.js';
import type { AnyModuleDefinition } from '../../../core/define-module.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261207);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 300);
const ENGINE = process.env['FUZZ_ENGINE'] === 'pg' ? 'pg' : 'sqlite';

interface RecordedRoute {
  readonly method: string;
  readonly path: string;
}

/** The built-in modules, each wrapped so that the routes it registers are recorded. */
function recordingModules(routes: RecordedRoute[]): AnyModuleDefinition[] {
  return builtinModules.map((m) => ({
    ...m,
    routes: m.routes
      ? (router: ModuleRouter, ctx: Parameters<NonNullable<AnyModuleDefinition['routes']>>[1]) => {
          const record =
            (method: string, register: (...args: never[]) => void) =>
            (path: string, ...rest: unknown[]) => {
              routes.push({ method, path });
              (register as (...a: unknown[]) => void)(path, ...rest);
            };
          const recording: ModuleRouter = {
            get: record('GET', router.get.bind(router)),
            post: record('POST', router.post.bind(router)),
            put: record('PUT', router.put.bind(router)),
            delete: record('DELETE', router.delete.bind(router)),
          };
          m.routes?.(recording, ctx);
        }
      : undefined,
  }));
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

type FuzzCase<A> = A extends fc.Arbitrary<infer T> ? T : never;

interface FuzzAnswer {
  status: number;
  text: string;
  contentType: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(baseUrl: string, req: FuzzRequest): Promise<FuzzAnswer> {
  const url = new URL(baseUrl);
  // Node's client frames no body on OPTIONS/DELETE unless told its length: the bytes would be read as the
  // next request on the connection.
  const headers = req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers;
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent,
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8'),
            contentType: String(res.headers['content-type'] ?? ''),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(req.body);
  });
}

void t.test('fuzzing every route gives no 5xx, only Matrix errors, and a live server', async (t) => {
  const routes: RecordedRoute[] = [];
  const server = await startServer(t, {
    engine: ENGINE,
    modules: recordingModules(routes),
    config: openRegistrationConfig,
  });
  const alice = await makeUser(server);
  const bob = await makeUser(server);
  const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
    body: {},
    token: alice.accessToken,
  });
  const roomId = room.body.room_id as string;
  const sent = await server.request(
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/f1`,
    {
      body: { msgtype: 'm.text', body: 'hi' },
      token: alice.accessToken,
    },
  );
  const eventId = sent.body.event_id as string;
  t.ok(routes.length > 50, `${routes.length} routes recorded`);

  const paramValue = fc.oneof(
    fc.constantFrom(
      alice.userId,
      bob.userId,
      '@nobody:test.local',
      roomId,
      '!nope:test.local',
      eventId,
      '$nope',
      '#alias:test.local',
      'm.room.message',
      'm.room.member',
      '',
      'test.local',
      'localhost:1',
      'DEVICEID',
      alice.deviceId,
      'm.push_rules',
      'global',
      'override',
      '.m.rule.master',
      'enabled',
      'actions',
      '0',
      '-1',
      '99999999999999999999',
      '..',
      '%00',
      '%ZZ',
      '%2F',
      '%F0%9F%98%80',
      '%ED%A0%80',
      'a'.repeat(300),
      'null',
      '{}',
    ),
    fc.string({ maxLength: 12 }).map((s) => encodeURIComponent(s)),
  );
  const queryPair = fc.tuple(
    fc.constantFrom(
      'limit',
      'from',
      'to',
      'dir',
      'filter',
      'since',
      'timeout',
      'access_token',
      'server_name',
      'via',
      'user_id',
      'kind',
      'ts',
      'allow_remote',
      'set_presence',
      'full_state',
      'term',
    ),
    fc.constantFrom(
      '',
      '1',
      '-1',
      'abc',
      '1e999',
      '{"types":[1]}',
      '{"room":{"timeline":{"limit":1e400}}}',
      '{"room":{"state":{"lazy_load_members":"x"}},"event_fields":[1]}',
      '{',
      '{"limit":-5}',
      '[]',
      'true',
      'f',
      'b',
      '%00',
      'x'.repeat(200),
      '0',
      'online',
      'localhost:1',
    ),
  );
  const body = fc.oneof(
    fc.constant(undefined),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
    fc
      .dictionary(
        fc.constantFrom(
          'type',
          'body',
          'msgtype',
          'auth',
          'user_id',
          'room_id',
          'membership',
          'reason',
          'device_keys',
          'one_time_keys',
          'filter',
          'timeout',
          'displayname',
          'avatar_url',
          'visibility',
          'preset',
          'invite',
          'initial_state',
          'content',
          'session',
          'identifier',
          'password',
          'messages',
          'presence',
          'ts',
          'score',
        ),
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          fc.constantFrom(alice.userId, roomId, eventId, -1, 1e300, '\u0000', [], {}),
        ),
        { maxKeys: 5 },
      )
      .map((v) => Buffer.from(JSON.stringify(v))),
    fc
      .constantFrom(
        '{',
        '[',
        '"x"',
        'null',
        '1',
        '{"a":1e400}',
        '{"a":"\\ud800"}',
        '[[[[[[[[[[[[[[[[[[[[[[',
        '\u00ff',
      )
      .map((s) => Buffer.from(s, 'latin1')),
    fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  );
  const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
  const fuzzRequest = fc.record({
    route: fc.constantFrom(...routes),
    params: fc.array(paramValue, { minLength: 8, maxLength: 8 }),
    methodMutation: fc.option(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'), {
      freq: 4,
    }),
    pathMutation: fc.constantFrom('', '', '', '/', '/extra', '//'),
    query: fc.array(queryPair, { maxLength: 3 }),
    auth: fc.constantFrom('alice', 'alice', 'bob', 'none', 'garbage', 'empty-bearer', 'basic'),
    contentType: fc.constantFrom(
      undefined,
      'application/json',
      'text/plain',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
    ),
    extraHeader: fc.option(
      fc.tuple(
        fc.constantFrom('x-forwarded-for', 'origin', 'range', 'if-none-match', 'accept', 'x-custom'),
        headerValue,
      ),
    ),
    body,
  });

  const build = (c: FuzzCase<typeof fuzzRequest>): FuzzRequest => {
    let i = 0;
    let path = c.route.path.replace(/:[A-Za-z_]+(\([^)]*\))?/g, () => c.params[i++ % c.params.length] ?? 'x');
    path += c.pathMutation;
    if (c.query.length > 0) path += '?' + c.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const method = c.methodMutation ?? c.route.method;
    const headers: Record<string, string> = {};
    if (c.auth === 'alice') headers['authorization'] = `Bearer ${alice.accessToken}`;
    if (c.auth === 'bob') headers['authorization'] = `Bearer ${bob.accessToken}`;
    if (c.auth === 'garbage') headers['authorization'] = 'Bearer syt_garbage';
    if (c.auth === 'empty-bearer') headers['authorization'] = 'Bearer ';
    if (c.auth === 'basic') headers['authorization'] = 'Basic Zm9vOmJhcg==';
    if (c.contentType) headers['content-type'] = c.contentType;
    if (c.extraHeader) headers[c.extraHeader[0]] = c.extraHeader[1];
    const withBody = c.body !== undefined && method !== 'GET' && method !== 'HEAD';
    return { method, path, headers, body: withBody ? c.body : undefined };
  };

  // Valid requests, mutated one field at a time, reach the services behind the schema checks.
  const r = encodeURIComponent(roomId);
  const me = encodeURIComponent(alice.userId);
  const corpus: [string, string, Record<string, unknown>][] = [
    [
      'POST',
      '/_matrix/client/v3/createRoom',
      {
        preset: 'public_chat',
        name: 'n',
        topic: 't',
        invite: [bob.userId],
        room_version: '10',
        is_direct: false,
        initial_state: [
          { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'can_join' } },
        ],
        power_level_content_override: { users: { [alice.userId]: 100 } },
        creation_content: { 'm.federate': true },
      },
    ],
    [
      'PUT',
      `/_matrix/client/v3/rooms/${r}/send/m.room.message/TXN`,
      {
        msgtype: 'm.text',
        body: 'x',
        'm.relates_to': { rel_type: 'm.annotation', event_id: eventId, key: 'k' },
      },
    ],
    [
      'PUT',
      `/_matrix/client/v3/rooms/${r}/state/m.room.power_levels`,
      {
        users: { [alice.userId]: 100 },
        users_default: 0,
        events: { 'm.room.name': 50 },
        events_default: 0,
        state_default: 50,
        ban: 50,
        kick: 50,
        redact: 50,
        invite: 0,
        notifications: { room: 50 },
      },
    ],
    [
      'PUT',
      `/_matrix/client/v3/rooms/${r}/state/m.room.member/${encodeURIComponent(bob.userId)}`,
      { membership: 'invite' },
    ],
    [
      'PUT',
      `/_matrix/client/v3/rooms/${r}/state/m.room.join_rules`,
      { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: roomId }] },
    ],
    [
      'PUT',
      `/_matrix/client/v3/rooms/${r}/state/m.room.canonical_alias`,
      { alias: '#a:test.local', alt_aliases: [] },
    ],
    [
      'PUT',
      `/_matrix/client/v3/rooms/${r}/state/m.room.server_acl`,
      { allow: ['*'], deny: ['evil.test'], allow_ip_literals: false },
    ],
    ['PUT', `/_matrix/client/v3/rooms/${r}/state/m.room.create`, { creator: alice.userId }],
    ['PUT', `/_matrix/client/v3/rooms/${r}/redact/${encodeURIComponent(eventId)}/TXN`, { reason: 'r' }],
    ['POST', `/_matrix/client/v3/rooms/${r}/invite`, { user_id: bob.userId, reason: 'r' }],
    ['POST', `/_matrix/client/v3/rooms/${r}/kick`, { user_id: bob.userId, reason: 'r' }],
    ['POST', `/_matrix/client/v3/rooms/${r}/ban`, { user_id: '@x:test.local', reason: 'r' }],
    ['POST', `/_matrix/client/v3/join/${r}`, { reason: 'r' }],
    ['POST', `/_matrix/client/v3/rooms/${r}/upgrade`, { new_version: '10' }],
    [
      'POST',
      `/_matrix/client/v3/rooms/${r}/receipt/m.read/${encodeURIComponent(eventId)}`,
      { thread_id: 'main' },
    ],
    ['POST', `/_matrix/client/v3/rooms/${r}/read_markers`, { 'm.fully_read': eventId, 'm.read': eventId }],
    ['PUT', `/_matrix/client/v3/rooms/${r}/typing/${me}`, { typing: true, timeout: 1000 }],
    [
      'POST',
      `/_matrix/client/v3/user/${me}/filter`,
      {
        room: { timeline: { limit: 10, types: ['m.room.message'] }, rooms: [roomId] },
        event_fields: ['content.body'],
        presence: { not_types: ['*'] },
        event_format: 'client',
      },
    ],
    ['PUT', `/_matrix/client/v3/user/${me}/account_data/m.direct`, { [bob.userId]: [roomId] }],
    ['PUT', `/_matrix/client/v3/user/${me}/rooms/${r}/tags/u.work`, { order: 0.5 }],
    [
      'PUT',
      `/_matrix/client/v3/user/${me}/account_data/m.ignored_user_list`,
      { ignored_users: { [bob.userId]: {} } },
    ],
    [
      'POST',
      '/_matrix/client/v3/keys/upload',
      {
        device_keys: {
          user_id: alice.userId,
          device_id: alice.deviceId,
          algorithms: ['m.olm.v1.curve25519-aes-sha2'],
          keys: { [`curve25519:${alice.deviceId}`]: 'k', [`ed25519:${alice.deviceId}`]: 'k' },
          signatures: { [alice.userId]: { [`ed25519:${alice.deviceId}`]: 's' } },
        },
        one_time_keys: {
          'signed_curve25519:AAA': { key: 'k', signatures: { [alice.userId]: { 'ed25519:X': 's' } } },
        },
        fallback_keys: { 'signed_curve25519:BBB': { key: 'k', fallback: true } },
      },
    ],
    [
      'POST',
      '/_matrix/client/v3/keys/query',
      { device_keys: { [alice.userId]: [], [bob.userId]: [] }, timeout: 1000 },
    ],
    [
      'POST',
      '/_matrix/client/v3/keys/claim',
      { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed_curve25519' } } },
    ],
    [
      'POST',
      '/_matrix/client/v3/keys/device_signing/upload',
      {
        master_key: { user_id: alice.userId, usage: ['master'], keys: { 'ed25519:m': 'm' } },
        self_signing_key: { user_id: alice.userId, usage: ['self_signing'], keys: { 'ed25519:s': 's' } },
      },
    ],
    [
      'POST',
      '/_matrix/client/v3/keys/signatures/upload',
      {
        [alice.userId]: {
          [alice.deviceId]: { user_id: alice.userId, device_id: alice.deviceId, keys: {}, signatures: {} },
        },
      },
    ],
    [
      'POST',
      '/_matrix/client/v3/room_keys/version',
      { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'k', signatures: {} } },
    ],
    ['PUT', `/_matrix/client/v3/devices/${alice.deviceId}`, { display_name: 'd' }],
    [
      'POST',
      '/_matrix/client/v3/login',
      {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: alice.localpart },
        password: 'wrong',
      },
    ],
    [
      'POST',
      '/_matrix/client/v3/register',
      { username: 'fuzzed', password: 'p', auth: { type: 'm.login.dummy', session: 's' } },
    ],
    ['PUT', '/_matrix/client/v3/directory/room/%23fuzz%3Atest.local', { room_id: roomId }],
    ['PUT', `/_matrix/client/v3/directory/list/room/${r}`, { visibility: 'public' }],
    [
      'POST',
      '/_matrix/client/v3/publicRooms',
      { limit: 5, filter: { generic_search_term: 'x', room_types: [null] }, since: 'x' },
    ],
    [
      'PUT',
      '/_matrix/client/v3/pushrules/global/override/fuzz',
      {
        actions: ['notify', { set_tweak: 'sound', value: 'default' }],
        conditions: [{ kind: 'event_match', key: 'type', pattern: 'x' }],
      },
    ],
    [
      'PUT',
      '/_matrix/client/v3/sendToDevice/m.custom/TXN',
      { messages: { [bob.userId]: { '*': { a: 1 } } } },
    ],
    ['PUT', `/_matrix/client/v3/profile/${me}/displayname`, { displayname: 'x' }],
    ['PUT', `/_matrix/client/v3/presence/${me}/status`, { presence: 'online', status_msg: 's' }],
    [
      'POST',
      '/_matrix/client/v3/search',
      { search_categories: { room_events: { search_term: 'x', keys: ['content.body'] } } },
    ],
    [
      'POST',
      '/_matrix/key/v2/query',
      { server_keys: { 'test.local': { 'ed25519:a': { minimum_valid_until_ts: 1 } } } },
    ],
  ];
  const nasty = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      -1,
      0,
      1.5,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      '',
      'x'.repeat(70_000),
      null,
      [],
      {},
      true,
      '@bad',
      '!bad',
      '$bad',
      '#bad',
      alice.userId,
      roomId,
      eventId,
      '🙂',
      'a\u0000b',
      '\u0000',
      'm.room.message',
      [null],
      [1, 'a'],
      { '': 1 },
    ),
  );
  /** Every key path of a value, up to three levels down. */
  const keyPaths = (v: unknown, prefix: string[] = []): string[][] =>
    v && typeof v === 'object' && prefix.length < 3
      ? Object.entries(v).flatMap(([k, child]) => [[...prefix, k], ...keyPaths(child, [...prefix, k])])
      : [];
  const mutate = (
    value: Record<string, unknown>,
    pick: number,
    kind: 'set' | 'delete' | 'add' | 'none',
    to: unknown,
  ) => {
    const copy = structuredClone(value);
    const paths = keyPaths(copy);
    const path = paths[pick % Math.max(1, paths.length)];
    if (kind === 'add') copy[`extra${pick}`] = to;
    if (kind === 'none' || kind === 'add' || !path) return copy;
    let parent = copy;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string, unknown>;
    const last = path[path.length - 1] as string;
    if (kind === 'delete') delete parent[last];
    else parent[last] = to;
    return copy;
  };
  const corpusRequest = fc
    .record({
      entry: fc.constantFrom(...corpus),
      pick: fc.nat(),
      kind: fc.constantFrom('set', 'set', 'set', 'delete', 'add', 'none'),
      to: nasty,
      as: fc.constantFrom('alice', 'alice', 'bob'),
    })
    .map(({ entry: [method, path, body], pick, kind, to, as }): FuzzRequest => ({
      method,
      path: path.replace('TXN', `t${pick}`),
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${as === 'bob' ? bob.accessToken : alice.accessToken}`,
      },
      body: Buffer.from(JSON.stringify(mutate(body, pick, kind as 'set', to))),
    }));

  const cases = [
    ...fc.sample(fuzzRequest, { seed: SEED, numRuns: Math.ceil(RUNS / 2) }).map(build),
    ...fc.sample(corpusRequest, { seed: SEED + 1, numRuns: Math.floor(RUNS / 2) }),
  ];
  const failures: string[] = [];
  const byStatus = new Map<number, number>();
  const started = Date.now();
  let previous = '';
  for (const req of cases) {
    // Logging out or deactivating the fuzzer's own users would only make the rest of the run unauthenticated.
    if (/\/(logout|deactivate)/.test(req.path) && req.headers['authorization']) continue;
    let answer: FuzzAnswer;
    try {
      answer = await send(server.baseUrl, req);
    } catch (err) {
      failures.push(
        `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.length ?? 0}: ${(err as Error).message} (after ${previous})`,
      );
      continue;
    }
    byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    previous = `${req.method} ${req.path} ${JSON.stringify(req.headers)} ${req.body?.toString('latin1').slice(0, 80)} → ${answer.status} ${answer.text.slice(0, 80)}`;
    const what = `${req.method} ${req.path} → ${answer.status} ${answer.text.slice(0, 160)}`;
    if (answer.status >= 500) failures.push(what);
    else if (answer.status >= 400 && req.method !== 'HEAD') {
      let parsed: { errcode?: unknown; flows?: unknown } = {};
      try {
        parsed = JSON.parse(answer.text) as typeof parsed;
      } catch {
        // not JSON: reported below
      }
      // A user-interactive auth challenge (401 with flows) is the spec's answer too.
      const errcode = answer.status === 401 && Array.isArray(parsed.flows) ? 'UIA' : parsed.errcode;
      // The links mailed for email validation open in a browser: they answer with an HTML page, as Synapse's do.
      const browserPage = /\/submit_token(\?|$)/.test(req.path) && answer.contentType.startsWith('text/html');
      if (browserPage) continue;
      if (typeof errcode !== 'string' || !answer.contentType.startsWith('application/json'))
        failures.push(what);
    }
  }
  // Malformed HTTP itself (mutated bytes of a valid request), over a raw socket.
  const valid = `POST /_matrix/client/v3/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
  const rawCases = fc.sample(
    fc.array(
      fc.tuple(
        fc.nat({ max: valid.length - 1 }),
        fc.constantFrom('', '\u0000', '\r', '\n', ' ', ':', '\u00ff', 'x'.repeat(9000)),
        fc.nat({ max: 3 }),
      ),
      { minLength: 1, maxLength: 3 },
    ),
    { seed: SEED + 2, numRuns: Math.max(10, Math.floor(RUNS / 10)) },
  );
  for (const edits of rawCases) {
    let data = valid;
    for (const [at, insert, remove] of edits) data = data.slice(0, at) + insert + data.slice(at + remove);
    const res = await rawRequest(server.baseUrl, Buffer.from(data, 'latin1'), 30);
    byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
    const ok =
      res.status === 0 ||
      res.status < 400 ||
      typeof res.body?.errcode === 'string' ||
      Array.isArray(res.body?.flows);
    if (res.status >= 500 || !ok)
      failures.push(`raw ${JSON.stringify(data.slice(0, 120))} → ${res.status} ${res.text.slice(0, 120)}`);
  }
  t.comment(
    `statuses: ${[...byStatus]
      .sort(([a], [b]) => a - b)
      .map(([k, n]) => `${k}×${n}`)
      .join(' ')}`,
  );
  t.same(
    failures,
    [],
    `${cases.length + rawCases.length} requests in ${Date.now() - started} ms (seed ${SEED})`,
  );
  const alive = await server.request('GET', '/_matrix/client/versions');
  t.equal(alive.status, 200, 'the server is alive');
  agent.destroy();
});

void t.test('what the fuzz found stays fixed', async (t) => {
  const server = await startServer(t, { config: openRegistrationConfig });
  const alice = await makeUser(server);
  await t.test('an empty password at login → 403 M_FORBIDDEN, not 500 (sodium asserts on it)', async (t) => {
    const res = await server.request('POST', '/_matrix/client/v3/login', {
      body: {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: alice.localpart },
        password: '',
      },
    });
    t.same([res.status, res.body?.errcode], [403, 'M_FORBIDDEN']);
  });
  await t.test('an empty password at registration → 400, not 500', async (t) => {
    const res = await server.request('POST', '/_matrix/client/v3/register', {
      body: { username: 'emptypw', password: '', auth: { type: 'm.login.dummy' } },
    });
    t.ok(res.status >= 400 && res.status < 500, `${res.status} ${res.text}`);
    t.type(res.body?.errcode, 'string');
  });
});

void t.test('U+0000 that reaches a PostgreSQL text column → 400 M_INVALID_PARAM, not 500', async (t) => {
  const server = await startServer(t, { engine: 'pg', config: openRegistrationConfig });
  const alice = await makeUser(server);
  const alias = await server.request('PUT', '/_matrix/client/v3/directory/room/%23nul%3Atest.local', {
    body: { room_id: '!a\u0000b:test.local' },
    token: alice.accessToken,
  });
  t.same([alias.status, alias.body?.errcode], [400, 'M_INVALID_PARAM']);
  const claim = await server.request('POST', '/_matrix/client/v3/keys/claim', {
    body: { one_time_keys: { [alice.userId]: { [alice.deviceId]: 'signed\u0000curve25519' } } },
    token: alice.accessToken,
  });
  t.ok(claim.status < 500, `keys/claim: ${claim.status}`);
});
