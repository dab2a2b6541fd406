import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';

void t.test('GET /capabilities merges what the enabled modules offer', async (t) => {
  const server = await startServer(t, { config: { ...openRegistrationConfig } });
  const anonymous = await server.request('GET', '/_matrix/client/v3/capabilities');
  t.equal(anonymous.status, 401);
  const alice = await makeUser(server);
  const res = await server.request('GET', '/_matrix/client/v3/capabilities', { token: alice.accessToken });
  t.equal(res.status, 200);
  t.same(res.body.capabilities['m.change_password'], { enabled: true });
  t.type(res.body.capabilities['m.set_displayname'], 'object');
});
