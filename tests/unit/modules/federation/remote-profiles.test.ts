import t from 'tap';
import { MatrixError } from '../../../../core/errors.js';
import {
  FederationRequestError,
  type FederationClient,
  type FederationRequest,
} from '../../../../modules/federation/api.js';
import { RemoteProfiles } from '../../../../modules/federation/services/remote-profiles.js';

/** A client answering from a function, recording the requests. */
function fakeClient(
  answer: (r: FederationRequest) => unknown,
): FederationClient & { seen: FederationRequest[] } {
  const seen: FederationRequest[] = [];
  return {
    seen,
    request: (r) => {
      seen.push(r);
      // A throwing answer rejects, as the client's failures do.
      return new Promise((resolve) => resolve(answer(r)));
    },
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

void t.test('asks /query/profile, drops null fields, caches a minute', async (t) => {
  let now = 1_000;
  const client = fakeClient(() => ({ displayname: 'Bob', avatar_url: null, 'm.tz': 'Europe/Paris' }));
  const profiles = new RemoteProfiles(client, () => now);
  t.same(await profiles.fetch('@bob:b.example'), { displayname: 'Bob', 'm.tz': 'Europe/Paris' });
  t.match(client.seen[0], {
    method: 'GET',
    destination: 'b.example',
    path: '/_matrix/federation/v1/query/profile',
    query: { user_id: '@bob:b.example' },
  });
  await profiles.fetch('@bob:b.example');
  t.equal(client.seen.length, 1, 'cached');
  now += 61_000;
  await profiles.fetch('@bob:b.example');
  t.equal(client.seen.length, 2, 'asked again after a minute');

  t.same(await profiles.fetch('@bob:b.example', 'displayname'), { displayname: 'Bob' });
  t.same(client.seen[2]?.query, { user_id: '@bob:b.example', field: 'displayname' });
  t.same(await profiles.fetch('@bob:b.example', 'm.tz'), { 'm.tz': 'Europe/Paris' }, 'picked from the whole');
  t.same(await profiles.fetch('@bob:b.example', 'org.example.x'), {}, 'absent');
});

void t.test('errors: 404 relayed, 403 relayed, whitelist 403, the rest 502', async (t) => {
  const cases: [unknown, number, string][] = [
    [new FederationRequestError('b.example', 'http', '404', 404, 'M_NOT_FOUND'), 404, 'M_NOT_FOUND'],
    [new FederationRequestError('b.example', 'http', '403', 403, 'M_FORBIDDEN'), 403, 'M_FORBIDDEN'],
    [new FederationRequestError('b.example', 'not_allowed', 'no'), 403, 'M_FORBIDDEN'],
    [new FederationRequestError('b.example', 'http', '400', 400, 'M_INVALID_PARAM'), 502, 'M_UNKNOWN'],
    [new FederationRequestError('b.example', 'http', '500', 500), 502, 'M_UNKNOWN'],
    [new FederationRequestError('b.example', 'network', 'refused'), 502, 'M_UNKNOWN'],
    [new FederationRequestError('b.example', 'timeout', 'slow'), 502, 'M_UNKNOWN'],
  ];
  for (const [thrown, status, errcode] of cases) {
    const profiles = new RemoteProfiles(
      fakeClient(() => {
        throw thrown;
      }),
    );
    const err = await errorOf(profiles.fetch('@bob:b.example'));
    t.equal(err.status, status, (thrown as Error).message);
    t.equal(err.errcode, errcode);
  }
  for (const body of [[], 'text', null]) {
    const err = await errorOf(new RemoteProfiles(fakeClient(() => body)).fetch('@bob:b.example'));
    t.equal(err.status, 502, `answer ${JSON.stringify(body)}`);
  }
});
