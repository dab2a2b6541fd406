import t from 'tap';
import { startServer } from '../../helpers/start-server.js';
import { builtinModules } from '../../../modules/index.js';
import { echoModule } from '../../helpers/test-modules.js';
import { makeUser, openRegistrationConfig } from '../../helpers/fixtures.js';
import { jsonDepthExceeds, parseClientJson } from '../../../core/http/json-input.js';

const modules = [...builtinModules, echoModule];
const nested = (depth: number, inner = '1'): string => '['.repeat(depth) + inner + ']'.repeat(depth);
const nestedObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

void t.test('the depth scan ignores brackets inside strings', async (t) => {
  t.notOk(jsonDepthExceeds(`{"a":"${'['.repeat(2000)}"}`, 10));
  t.ok(jsonDepthExceeds(nested(11), 10));
  t.notOk(jsonDepthExceeds(nested(10), 10));
  t.notOk(jsonDepthExceeds('{"a":"\\"[[[[[[[[[[[[["}', 3));
  t.same(parseClientJson('{"a":1,"a":2}'), { a: 2 }, 'duplicate keys: the last wins, as in Synapse');
});

void t.test('no 500 for hostile JSON: every place a client sends JSON', async (t) => {
  const server = await startServer(t, { modules, config: openRegistrationConfig });
  const alice = await makeUser(server);
  const json = { 'content-type': 'application/json' };
  const send = (method: string, path: string, rawBody: string | Uint8Array, token = alice.accessToken) =>
    server.request(method, path, { rawBody, token, headers: json });
  const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
    body: {},
    token: alice.accessToken,
  });
  t.equal(room.status, 200);
  const roomId = encodeURIComponent(room.body.room_id as string);
  const places: [string, string, (value: string) => string][] = [
    [
      'PUT',
      `/_matrix/client/v3/rooms/${roomId}/send/m.room.message/t${Date.now()}`,
      (v) => `{"msgtype":"m.text","body":"x","v":${v}}`,
    ],
    ['PUT', `/_matrix/client/v3/rooms/${roomId}/state/m.custom/`, (v) => `{"v":${v}}`],
    [
      'PUT',
      `/_matrix/client/v3/user/${encodeURIComponent(alice.userId)}/account_data/m.custom`,
      (v) => `{"v":${v}}`,
    ],
    [
      'POST',
      `/_matrix/client/v3/user/${encodeURIComponent(alice.userId)}/filter`,
      (v) => `{"room":{"x":${v}}}`,
    ],
    [
      'POST',
      '/_matrix/client/v3/keys/upload',
      (v) => `{"one_time_keys":{"signed_curve25519:A":{"key":"k","signatures":${v}}}}`,
    ],
    ['POST', '/_matrix/client/v3/createRoom', (v) => `{"creation_content":{"v":${v}}}`],
  ];
  let txn = 0;
  const at = (path: string) => path.replace(/\/t\d+$/, `/t${Date.now()}-${++txn}`);

  await t.test('10,000 levels of nesting → 400 M_BAD_JSON', async (t) => {
    for (const [method, path, body] of places) {
      const res = await send(method, at(path), body(nested(10_000)));
      t.same([res.status, res.body?.errcode], [400, 'M_BAD_JSON'], `${method} ${path}`);
    }
  });

  await t.test('50,000 levels inside signatures (UIA auth, device keys) → 400 M_BAD_JSON', async (t) => {
    const register = await send(
      'POST',
      '/_matrix/client/v3/register',
      `{"auth":{"signatures":${nestedObject(50_000)}}}`,
      '',
    );
    t.same([register.status, register.body?.errcode], [400, 'M_BAD_JSON']);
    const keys = await send(
      'POST',
      '/_matrix/client/v3/keys/upload',
      `{"device_keys":{"signatures":${nested(50_000)}}}`,
    );
    t.same([keys.status, keys.body?.errcode], [400, 'M_BAD_JSON']);
  });

  await t.test('a body that is not UTF-8 → 400 M_NOT_JSON', async (t) => {
    const latin1 = Buffer.from('{"name":"caf\xe9"}', 'latin1');
    for (const [method, path] of places) {
      const res = await send(method, at(path), latin1);
      t.same([res.status, res.body?.errcode], [400, 'M_NOT_JSON'], `${method} ${path}`);
    }
  });

  const refused: [string, string][] = [
    ['an integer above 2^53-1', '9007199254740992'],
    ['an integer below -(2^53-1)', '-9007199254740992'],
    ['a number that overflows to Infinity', '1e400'],
    ['a lone surrogate', '"\\ud800"'],
    ['a lone low surrogate', '"a\\udc00b"'],
    ['U+0000 in a key', '{"a\\u0000b":1}'],
  ];
  for (const [what, value] of refused) {
    await t.test(`${what} → 400 M_BAD_JSON wherever it appears`, async (t) => {
      for (const [method, path, body] of places) {
        const res = await send(method, at(path), body(value));
        t.same([res.status, res.body?.errcode], [400, 'M_BAD_JSON'], `${method} ${path}`);
      }
    });
  }

  await t.test(
    'the largest canonical integers, surrogate pairs and duplicate keys are accepted',
    async (t) => {
      const res = await send(
        'POST',
        '/_matrix/client/v3/echo',
        '{"max":9007199254740991,"min":-9007199254740991,"emoji":"\\ud83d\\ude00","d":1,"d":2}',
      );
      t.same(res.body, {
        prefix: 'echo:',
        got: { max: 9007199254740991, min: -9007199254740991, emoji: '😀', d: 2 },
      });
    },
  );

  await t.test('a deeply nested JSON filter in the query string is no 500', async (t) => {
    const filter = encodeURIComponent(`{"room":{"timeline":{"types":${nested(1500)}}}}`);
    const messages = await server.request(
      'GET',
      `/_matrix/client/v3/rooms/${roomId}/messages?filter=${filter}`,
      {
        token: alice.accessToken,
      },
    );
    t.ok(messages.status < 500, `${messages.status}`);
    if (messages.status >= 400) t.ok(messages.body?.errcode);
  });

  await t.test(
    'inline filters in query strings follow the same rules, and a wrong type is a 400',
    async (t) => {
      const filters = [
        '{"limit":1e400}',
        '{"types":[1e400]}',
        '{"types":[1]}',
        '{"not_types":[{}]}',
        '{"types":["\\ud800"]}',
        '{"limit":"x"}',
      ];
      for (const f of filters) {
        const q = encodeURIComponent(f);
        const messages = await server.request(
          'GET',
          `/_matrix/client/v3/rooms/${roomId}/messages?filter=${q}`,
          {
            token: alice.accessToken,
          },
        );
        t.same([messages.status, messages.body?.errcode], [400, 'M_INVALID_PARAM'], `/messages ${f}`);
        const sync = await server.request(
          'GET',
          `/_matrix/client/v3/sync?filter=${encodeURIComponent(`{"room":{"timeline":${f}}}`)}`,
          {
            token: alice.accessToken,
          },
        );
        t.same([sync.status, sync.body?.errcode], [400, 'M_INVALID_PARAM'], `/sync ${f}`);
      }
    },
  );

  await t.test('the server is alive', async (t) => {
    t.equal((await server.request('GET', '/_matrix/client/versions')).status, 200);
  });
});
