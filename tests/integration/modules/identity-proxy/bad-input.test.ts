/** Bad input and configuration switches: every refusal is a Matrix error with the right status and errcode. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { makeUser, openRegistrationConfig, passwordAuth } from '../../../helpers/fixtures.js';
import { startServer } from '../../../helpers/start-server.js';
import { emailConfig, linkIn, startSmtp } from './mail-helpers.js';

const V3 = '/_matrix/client/v3';
const REGISTER_TOKEN = `${V3}/register/email/requestToken`;

void t.test('malformed requests', async (t) => {
  const smtp = await startSmtp(t);
  const server = await startServer(t, { config: { ...openRegistrationConfig, ...emailConfig(smtp) } });
  const post = (path: string, body: unknown): ReturnType<typeof server.request> =>
    server.request('POST', path, { body });

  await t.test('malformed email addresses', async (t) => {
    for (const email of [
      '',
      'no-at-sign',
      '@example.org',
      'a@',
      'a b@example.org',
      'a@exa mple.org',
      'a@-x.org',
      'a..b@x.org',
      'Name <a@x.org>',
      `${'x'.repeat(65)}@x.org`,
    ]) {
      const r = await post(REGISTER_TOKEN, { email, client_secret: 'abc', send_attempt: 1 });
      t.equal(r.status, 400, email);
      t.equal(r.body.errcode, 'M_INVALID_PARAM', email);
    }
    const missing = await post(REGISTER_TOKEN, { client_secret: 'abc', send_attempt: 1 });
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
    const notString = await post(REGISTER_TOKEN, { email: 5, client_secret: 'abc', send_attempt: 1 });
    t.equal(notString.status, 400);
  });

  await t.test('client_secret of the wrong charset or length', async (t) => {
    for (const secret of ['', 'has space', 'émoji', 'a/b', 'x'.repeat(256)]) {
      const r = await post(REGISTER_TOKEN, {
        email: 'a@example.org',
        client_secret: secret,
        send_attempt: 1,
      });
      t.equal(r.status, 400, JSON.stringify(secret));
      t.equal(r.body.errcode, 'M_INVALID_PARAM');
    }
    const missing = await post(REGISTER_TOKEN, { email: 'a@example.org', send_attempt: 1 });
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
  });

  await t.test('send_attempt must be a non-negative integer', async (t) => {
    for (const attempt of [-1, 1.5, '1', null]) {
      const r = await post(REGISTER_TOKEN, {
        email: 'a@example.org',
        client_secret: 'abc',
        send_attempt: attempt,
      });
      t.equal(r.status, 400);
      t.equal(r.body.errcode, 'M_INVALID_PARAM', JSON.stringify(attempt));
    }
    const missing = await post(REGISTER_TOKEN, { email: 'a@example.org', client_secret: 'abc' });
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
  });

  await t.test('not JSON, not an object', async (t) => {
    const r = await server.request('POST', REGISTER_TOKEN, {
      rawBody: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    t.equal(r.body.errcode, 'M_NOT_JSON');
    const arr = await post(REGISTER_TOKEN, [1]);
    t.equal(arr.body.errcode, 'M_BAD_JSON');
  });

  await t.test('unknown media', async (t) => {
    const user = await makeUser(server);
    const del = await server.request('POST', `${V3}/account/3pid/delete`, {
      token: user.accessToken,
      body: { medium: 'fax', address: '12345' },
    });
    t.equal(del.status, 400);
    t.equal(del.body.errcode, 'M_THREEPID_MEDIUM_NOT_SUPPORTED');
    const path = await post(`${V3}/register/fax/requestToken`, {});
    t.equal(path.status, 404);
    t.equal(path.body.errcode, 'M_UNRECOGNIZED');
    const msisdn = await post(`${V3}/register/msisdn/requestToken`, {
      country: 'GB',
      phone_number: '07700900001',
      client_secret: 'abc',
      send_attempt: 1,
    });
    t.equal(msisdn.status, 400);
    t.equal(msisdn.body.errcode, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', 'no msisdn delegate configured');
    const login = await post(`${V3}/login`, {
      type: 'm.login.password',
      identifier: { type: 'm.id.thirdparty', medium: 'fax', address: '1' },
      password: 'x',
    });
    t.equal(login.status, 403);
  });

  await t.test('tokens: wrong, replayed, wrong client_secret, wrong sid, wrong link kind', async (t) => {
    const before = smtp.mails.length;
    const r = await post(REGISTER_TOKEN, {
      email: 'tok@example.org',
      client_secret: 'sec-tok',
      send_attempt: 1,
    });
    const link = linkIn(await smtp.waitFor(before + 1));
    const submit = '/_matrix/client/unstable/registration/email/submit_token';
    const wrong = await post(submit, { sid: r.body.sid, client_secret: 'sec-tok', token: 'AAAA' });
    t.equal(wrong.status, 400);
    t.equal(wrong.body.errcode, 'M_THREEPID_AUTH_FAILED');
    const badSecret = await post(submit, { sid: r.body.sid, client_secret: 'other', token: link.token });
    t.equal(badSecret.body.errcode, 'M_THREEPID_AUTH_FAILED');
    t.match(badSecret.body.error, /client_secret/);
    const charset = await post(submit, { sid: r.body.sid, client_secret: 'bad secret', token: link.token });
    t.equal(charset.body.errcode, 'M_INVALID_PARAM');
    const badSid = await post(submit, { sid: 'nope', client_secret: 'sec-tok', token: link.token });
    t.equal(badSid.body.errcode, 'M_THREEPID_AUTH_FAILED');
    const otherKind = await post('/_matrix/client/unstable/add_threepid/email/submit_token', {
      sid: r.body.sid,
      client_secret: 'sec-tok',
      token: link.token,
    });
    t.equal(
      otherKind.body.errcode,
      'M_THREEPID_AUTH_FAILED',
      'a registration token does not validate elsewhere',
    );
    const missing = await post(submit, { sid: r.body.sid, client_secret: 'sec-tok' });
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');

    const ok = await server.request('GET', link.path);
    t.equal(ok.status, 200);
    const replay = await server.request('GET', link.path);
    t.equal(replay.status, 400, 'a link works once');
    t.match(replay.text, /already been used/);
    t.match(replay.headers.get('content-type'), /text\/html/);

    // A validated registration session cannot reset a password.
    const first = await post(`${V3}/account/password`, { new_password: 'x-pass-1' });
    const reset = await post(`${V3}/account/password`, {
      new_password: 'x-pass-1',
      auth: {
        type: 'm.login.email.identity',
        threepid_creds: { sid: r.body.sid, client_secret: 'sec-tok' },
        session: first.body.session,
      },
    });
    t.equal(reset.status, 401);
    t.equal(reset.body.errcode, 'M_THREEPID_AUTH_FAILED');
  });

  await t.test('add with an unvalidated or unknown session', async (t) => {
    const user = await makeUser(server, { password: 'pw-add' });
    const r = await post(`${V3}/account/3pid/email/requestToken`, {
      email: 'unvalidated@example.org',
      client_secret: 'sec-add',
      send_attempt: 1,
    });
    t.equal(r.status, 200);
    const add = async (
      body: Record<string, unknown>,
    ): Promise<{ status: number; body: { errcode?: string } }> => {
      const c = await server.request('POST', `${V3}/account/3pid/add`, { token: user.accessToken, body });
      return server.request('POST', `${V3}/account/3pid/add`, {
        token: user.accessToken,
        body: { ...body, auth: passwordAuth(user, c.body.session) },
      });
    };
    const unvalidated = await add({ sid: r.body.sid, client_secret: 'sec-add' });
    t.equal(unvalidated.status, 400);
    t.equal(unvalidated.body.errcode, 'M_THREEPID_AUTH_FAILED');
    const unknown = await add({ sid: 'nope', client_secret: 'sec-add' });
    t.equal(unknown.body.errcode, 'M_THREEPID_AUTH_FAILED');
    const noSid = await add({ client_secret: 'sec-add' });
    t.equal(noSid.body.errcode, 'M_MISSING_PARAM');
    const unauth = await post(`${V3}/account/3pid/add`, { sid: r.body.sid, client_secret: 'sec-add' });
    t.equal(unauth.status, 401);
    t.equal(unauth.body.errcode, 'M_MISSING_TOKEN');
  });
});

void t.test('an expired token', async (t) => {
  const smtp = await startSmtp(t);
  const server = await startServer(t, {
    config: { ...openRegistrationConfig, ...emailConfig(smtp, { validation_token_lifetime: '1ms' }) },
  });
  await server.request('POST', REGISTER_TOKEN, {
    body: { email: 'late@example.org', client_secret: 's', send_attempt: 1 },
  });
  const link = linkIn(await smtp.waitFor(1));
  await new Promise((r) => setTimeout(r, 20));
  const page = await server.request('GET', link.path);
  t.equal(page.status, 400);
  t.match(page.text, /expired/);
});

void t.test('switches and policies', async (t) => {
  await t.test('module off: every 3PID endpoint answers 404 M_UNRECOGNIZED', async (t) => {
    const server = await startServer(t, {
      config: { ...openRegistrationConfig, modules: { 'identity-proxy': false } },
    });
    const user = await makeUser(server);
    const paths: [string, string][] = [
      ['GET', `${V3}/account/3pid`],
      ['POST', `${V3}/account/3pid`],
      ['POST', `${V3}/account/3pid/add`],
      ['POST', `${V3}/account/3pid/delete`],
      ['POST', `${V3}/register/email/requestToken`],
      ['POST', `${V3}/account/password/email/requestToken`],
      ['POST', `${V3}/account/3pid/email/requestToken`],
      ['POST', `${V3}/register/msisdn/requestToken`],
      ['GET', '/_synapse/client/password_reset/email/submit_token'],
      ['GET', '/_matrix/client/unstable/registration/email/submit_token'],
    ];
    for (const [method, path] of paths) {
      const r = await server.request(method, path, {
        token: user.accessToken,
        body: method === 'POST' ? {} : undefined,
      });
      t.equal(r.status, 404, path);
      t.equal(r.body.errcode, 'M_UNRECOGNIZED', path);
    }
    const reg = await server.request('POST', `${V3}/register`, { body: {} });
    t.same(reg.body.flows, [{ stages: ['m.login.dummy'] }], 'no email stage');
    const reset = await server.request('POST', `${V3}/account/password`, { body: { new_password: 'x' } });
    t.equal(reset.status, 401);
    t.equal(reset.body.errcode, 'M_MISSING_TOKEN', 'no password reset without a token');
    const caps = await server.request('GET', `${V3}/capabilities`, { token: user.accessToken });
    t.same(caps.body.capabilities['m.3pid_changes'], { enabled: false });
  });

  await t.test(
    'email not configured: M_THREEPID_MEDIUM_NOT_SUPPORTED, or M_SERVER_NOT_TRUSTED with id_server',
    async (t) => {
      const server = await startServer(t, { config: { ...openRegistrationConfig } });
      const body = { email: 'a@example.org', client_secret: 'abc', send_attempt: 1 };
      const r = await server.request('POST', REGISTER_TOKEN, { body });
      t.equal(r.status, 400);
      t.equal(r.body.errcode, 'M_THREEPID_MEDIUM_NOT_SUPPORTED');
      const idServer = await server.request('POST', REGISTER_TOKEN, {
        body: { ...body, id_server: 'id.example.org' },
      });
      t.equal(idServer.body.errcode, 'M_SERVER_NOT_TRUSTED');
      const user = await makeUser(server);
      const list = await server.request('GET', `${V3}/account/3pid`, { token: user.accessToken });
      t.same(list.body, { threepids: [] });
      const reg = await server.request('POST', `${V3}/register`, { body: {} });
      t.same(reg.body.flows, [{ stages: ['m.login.dummy'] }]);
    },
  );

  await t.test('allowed_local_3pids, registrations_require_3pid, enable_3pid_changes: false', async (t) => {
    const smtp = await startSmtp(t);
    const server = await startServer(t, {
      config: {
        ...openRegistrationConfig,
        ...emailConfig(smtp),
        registrations_require_3pid: ['email'],
        allowed_local_3pids: [{ medium: 'email', pattern: '@allowed\\.org$' }],
        enable_3pid_changes: false,
      },
    });
    const denied = await server.request('POST', REGISTER_TOKEN, {
      body: { email: 'a@elsewhere.org', client_secret: 'abc', send_attempt: 1 },
    });
    t.equal(denied.status, 403);
    t.equal(denied.body.errcode, 'M_THREEPID_DENIED');
    const allowed = await server.request('POST', REGISTER_TOKEN, {
      body: { email: 'a@allowed.org', client_secret: 'abc', send_attempt: 1 },
    });
    t.equal(allowed.status, 200);
    const reg = await server.request('POST', `${V3}/register`, { body: {} });
    t.same(reg.body.flows, [{ stages: ['m.login.email.identity'] }], 'email required: no dummy flow');
    const dummy = await server.request('POST', `${V3}/register`, {
      body: { auth: { type: 'm.login.dummy', session: reg.body.session } },
    });
    t.equal(dummy.status, 400);
    t.equal(dummy.body.errcode, 'M_UNRECOGNIZED');
    const add = await server.request('POST', `${V3}/account/3pid/email/requestToken`, {
      body: { email: 'b@allowed.org', client_secret: 'abc', send_attempt: 1 },
    });
    t.equal(add.status, 400);
    t.equal(add.body.errcode, 'M_FORBIDDEN');
  });

  await t.test('request_token_inhibit_3pid_errors: no hint which addresses exist', async (t) => {
    const smtp = await startSmtp(t);
    const server = await startServer(t, {
      config: { ...openRegistrationConfig, ...emailConfig(smtp), request_token_inhibit_3pid_errors: true },
    });
    const r = await server.request('POST', `${V3}/account/password/email/requestToken`, {
      body: { email: 'ghost@example.org', client_secret: 'abc', send_attempt: 1 },
    });
    t.equal(r.status, 200);
    t.type(r.body.sid, 'string');
    await new Promise((res) => setTimeout(res, 200));
    t.equal(smtp.mails.length, 0, 'no mail to an unknown address');
  });

  await t.test('templates from template_dir replace the built-in ones', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'axon-templates-'));
    await writeFile(join(dir, 'registration.txt'), 'Custom {{ app_name }} mail: {{ link }}\n');
    await writeFile(join(dir, 'registration_success.html'), '<p>Custom success on {{ server_name }}</p>');
    const smtp = await startSmtp(t);
    const server = await startServer(t, {
      config: { ...openRegistrationConfig, ...emailConfig(smtp, { template_dir: dir }) },
    });
    await server.request('POST', REGISTER_TOKEN, {
      body: { email: 'tpl@example.org', client_secret: 'abc', send_attempt: 1 },
    });
    const mail = await smtp.waitFor(1);
    t.match(mail.text, /Custom AxonTest mail: https:\/\/hs\.test\//);
    const page = await server.request('GET', linkIn(mail).path);
    t.match(page.text, /Custom success on test\.local/);
  });

  await t.test('a dead SMTP server never blocks a request; the mail waits in the queue', async (t) => {
    const server = await startServer(t, {
      config: {
        ...openRegistrationConfig,
        public_baseurl: 'https://hs.test/',
        email: { smtp_host: '127.0.0.1', smtp_port: 9, enable_tls: false, notif_from: 'a@test.local' },
        rc_3pid_validation: { per_second: 1000, burst_count: 1000 },
      },
    });
    const started = Date.now();
    const r = await server.request('POST', REGISTER_TOKEN, {
      body: { email: 'queued@example.org', client_secret: 'abc', send_attempt: 1 },
    });
    t.equal(r.status, 200);
    t.ok(Date.now() - started < 2000, 'answered without waiting for SMTP');
    const store = server.kernel.container.cradle.identityProxyMailQueueStore;
    const deadline = Date.now() + 5000;
    let due = await store.due(Number.MAX_SAFE_INTEGER, 10);
    while ((due[0]?.attempts ?? 0) < 1 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      due = await store.due(Number.MAX_SAFE_INTEGER, 10);
    }
    t.equal(due.length, 1, 'still queued');
    t.equal(due[0]?.attempts, 1, 'one failed attempt');
    t.ok((due[0]?.nextAttemptTs ?? 0) > Date.now(), 'retry scheduled later');
  });
});
