/**
 * Without the federation module (a private island): the federation directory endpoints are 404
 * M_UNRECOGNIZED, another server's directory is 400 and another server's user's profile 404, as before.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/start-server.js';

void t.test('modules.federation: false', async (t) => {
  const server = await startServer(t, {
    config: {
      ...openRegistrationConfig,
      modules: { federation: false },
      allow_public_rooms_over_federation: true,
    },
  });
  const alice = await makeUser(server, { localpart: 'alice' });
  for (const method of ['GET', 'POST'] as const) {
    const res = await server.request(method, '/_matrix/federation/v1/publicRooms', {
      ...(method === 'POST' ? { body: {} } : {}),
    });
    t.equal(res.status, 404, method);
    t.equal(res.body.errcode, 'M_UNRECOGNIZED');
  }
  const remote = await server.request('GET', '/_matrix/client/v3/publicRooms?server=other.example', {
    token: alice.accessToken,
  });
  t.equal(remote.status, 400);
  t.equal(remote.body.errcode, 'M_INVALID_PARAM');
  const profile = await server.request(
    'GET',
    `/_matrix/client/v3/profile/${encodeURIComponent('@bob:other.example')}`,
  );
  t.equal(profile.status, 404);
  t.equal(profile.body.errcode, 'M_NOT_FOUND');
});
