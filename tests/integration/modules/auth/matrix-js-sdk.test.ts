import t from 'tap';
import * as sdk from 'matrix-js-sdk';
import { startServer } from '../../../helpers/start-server.js';
import { openRegistrationConfig } from '../../../helpers/fixtures.js';

interface UiaErrorData {
  session?: string;
  flows?: unknown;
}

void t.test(
  'a real client (matrix-js-sdk) registers, logs in, lists devices, changes password, logs out',
  async (t) => {
    const server = await startServer(t, { config: { ...openRegistrationConfig } });
    const anon = sdk.createClient({ baseUrl: server.baseUrl });

    let session: string | undefined;
    try {
      await anon.registerRequest({ username: 'jsclient', password: 'first-pass' });
      t.fail('registration without auth must be challenged');
    } catch (err) {
      const e = err as sdk.MatrixError;
      t.equal(e.httpStatus, 401);
      session = (e.data as UiaErrorData).session;
      t.ok((e.data as UiaErrorData).flows);
    }
    const registered = await anon.registerRequest({
      username: 'jsclient',
      password: 'first-pass',
      auth: { type: 'm.login.dummy', session },
    });
    t.equal(registered.user_id, '@jsclient:test.local');

    const login = await anon.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'jsclient' },
      password: 'first-pass',
      initial_device_display_name: 'js-sdk',
    });
    t.equal(login.user_id, '@jsclient:test.local');
    const client = sdk.createClient({
      baseUrl: server.baseUrl,
      accessToken: login.access_token,
      userId: login.user_id,
      deviceId: login.device_id,
    });

    const { devices } = await client.getDevices();
    t.equal(devices.length, 2, 'the registration device and the login device');
    t.ok(devices.some((d) => d.device_id === login.device_id && d.display_name === 'js-sdk'));

    const whoami = await client.whoami();
    t.equal(whoami.user_id, '@jsclient:test.local');

    let pwSession: string | undefined;
    try {
      await client.setPassword({}, 'second-pass', false);
      t.fail('changing the password needs UIA');
    } catch (err) {
      const e = err as sdk.MatrixError;
      t.equal(e.httpStatus, 401);
      pwSession = (e.data as UiaErrorData).session;
    }
    await client.setPassword(
      {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: '@jsclient:test.local' },
        password: 'first-pass',
        session: pwSession,
      },
      'second-pass',
      false,
    );

    await client.logout();
    const after = await server.request('GET', '/_matrix/client/v3/account/whoami', {
      token: login.access_token,
    });
    t.equal(after.body.errcode, 'M_UNKNOWN_TOKEN');

    const again = sdk.createClient({ baseUrl: server.baseUrl });
    const relog = await again.loginRequest({
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: 'jsclient' },
      password: 'second-pass',
    });
    t.equal(relog.user_id, '@jsclient:test.local', 'the new password works');
    again.stopClient();
    client.stopClient();
    anon.stopClient();
  },
);
