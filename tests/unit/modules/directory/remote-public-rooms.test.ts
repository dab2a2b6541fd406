import t from 'tap';
import type { Cradle } from '../../../../core/container.js';
import { MatrixError } from '../../../../core/errors.js';
import { FederationRequestError, type FederationRequest } from '../../../../modules/federation/api.js';
import { DirectoryRules } from '../../../../modules/directory/services/directory-rules.js';
import { RemotePublicRoomsService } from '../../../../modules/directory/services/remote-public-rooms.js';

const rooms = [
  { room_id: '!a:b.example', name: 'Garden', num_joined_members: 2 },
  { room_id: '!b:b.example', name: 'Lounge', topic: 'the garden view', num_joined_members: 1 },
  { room_id: '!c:b.example', name: 'Space', room_type: 'm.space', num_joined_members: 1 },
];

function service(
  answer: (r: FederationRequest) => unknown,
  config: { enable_room_list_search?: boolean } = {},
) {
  const seen: FederationRequest[] = [];
  const federationApi = {
    client: {
      request: (r: FederationRequest) => {
        seen.push(r);
        // A throwing answer rejects, as the client's failures do.
        return new Promise((resolve) => resolve(answer(r)));
      },
    },
  } as unknown as Cradle['federationApi'];
  return {
    seen,
    remote: new RemotePublicRoomsService({ federationApi, directoryRules: new DirectoryRules(config) }),
  };
}

async function errorOf(p: Promise<unknown>): Promise<MatrixError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MatrixError) return err;
    throw err;
  }
  throw new Error('expected a MatrixError');
}

void t.test('unfiltered: GET with the paging arguments', async (t) => {
  const { seen, remote } = service(() => ({ chunk: rooms, total_room_count_estimate: 3, next_batch: 'n' }));
  const page = await remote.list('b.example', { limit: 2, since: 's' });
  t.equal(page.chunk.length, 3);
  t.equal(page['next_batch'], 'n', 'the remote page as sent');
  t.match(seen[0], {
    method: 'GET',
    path: '/_matrix/federation/v1/publicRooms',
    query: { limit: 2, since: 's', include_all_networks: 'false' },
  });
  await remote.list('b.example', { limit: 2, since: 's' });
  t.equal(seen.length, 1, 'cached');
});

void t.test('filtered: the POST, or everything filtered here when the remote does not know it', async (t) => {
  const post = service(() => ({ chunk: [rooms[0]] }));
  t.same((await post.remote.list('b.example', { searchTerm: 'gard' })).chunk, [rooms[0]]);
  t.match(post.seen[0], { method: 'POST', body: { filter: { generic_search_term: 'gard' } } });

  for (const refusal of [
    new FederationRequestError('b.example', 'http', '404', 404, 'M_UNRECOGNIZED'),
    new FederationRequestError('b.example', 'http', '405', 405),
    new FederationRequestError('b.example', 'http', '400', 400, 'M_UNRECOGNIZED'),
  ]) {
    const old = service((r) => {
      if (r.method === 'POST') throw refusal;
      return { chunk: rooms };
    });
    const page = await old.remote.list('b.example', { searchTerm: 'GARDEN', limit: 1, since: 'x' });
    t.same(
      page.chunk.map((r) => r['room_id']),
      ['!a:b.example', '!b:b.example'],
      'name or topic',
    );
    t.same(old.seen[1]?.query, { include_all_networks: 'false' }, 'no paging on the fallback');
    const spaces = await old.remote.list('b.example', { roomTypes: ['m.space'] });
    t.same(
      spaces.chunk.map((r) => r['room_id']),
      ['!c:b.example'],
    );
  }
});

void t.test('errors: 403 relayed, the rest 502; bad names 400; list search off: empty', async (t) => {
  const cases: [unknown, number][] = [
    [new FederationRequestError('b.example', 'http', '403', 403, 'M_FORBIDDEN'), 403],
    [new FederationRequestError('b.example', 'not_allowed', 'no'), 403],
    [new FederationRequestError('b.example', 'http', '404', 404, 'M_UNRECOGNIZED'), 502],
    [new FederationRequestError('b.example', 'http', '500', 500), 502],
    [new FederationRequestError('b.example', 'network', 'refused'), 502],
  ];
  for (const [thrown, status] of cases) {
    const { remote } = service(() => {
      throw thrown;
    });
    const err = await errorOf(remote.list('b.example', {}));
    t.equal(err.status, status, (thrown as Error).message);
    t.equal(err.errcode, status === 403 ? 'M_FORBIDDEN' : 'M_UNKNOWN');
  }
  const filteredError = await errorOf(
    service(() => {
      throw new FederationRequestError('b.example', 'http', '500', 500);
    }).remote.list('b.example', { searchTerm: 'x' }),
  );
  t.equal(filteredError.status, 502, 'a 500 to the POST does not fall back');
  for (const body of [{}, { chunk: 'x' }, [], null]) {
    const err = await errorOf(service(() => body).remote.list('b.example', {}));
    t.equal(err.status, 502, `answer ${JSON.stringify(body)}`);
  }
  t.equal((await errorOf(service(() => ({ chunk: [] })).remote.list('bad name', {}))).status, 400);
  const off = service(() => ({ chunk: rooms }), { enable_room_list_search: false });
  t.same(await off.remote.list('b.example', {}), { chunk: [], total_room_count_estimate: 0 });
  t.equal(off.seen.length, 0);
});
