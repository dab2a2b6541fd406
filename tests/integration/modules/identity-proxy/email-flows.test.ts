/**
 * Every email flow end to end, as a user would do it: the server sends real mail to an SMTP server in the
 * test, the link is read out of the message and followed over HTTP.
 */
import t from 'tap';
import { makeUser, openRegistrationConfig, passwordAuth } from '../../../helpers/fixtures.js';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { emailConfig, linkIn, startSmtp, type TestSmtp } from './mail-helpers.js';

const V3 = '/_matrix/client/v3';

async function requestToken(
  server: TestServer,
  kind: 'register' | 'account/password' | 'account/3pid',
  email: string,
  clientSecret: string,
  sendAttempt = 1,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: Record<string, unknown> & { sid: string; errcode?: string } }> {
  return server.request('POST', `${V3}/${kind}/email/requestToken`, {
    body: { email, client_secret: clientSecret, send_attempt: sendAttempt, ...extra },
  });
}

/** requestToken, wait for the mail, follow its link; returns the sid. */
async function validate(
  server: TestServer,
  smtp: TestSmtp,
  kind: 'register' | 'account/3pid',
  email: string,
  clientSecret: string,
): Promise<string> {
  const before = smtp.mails.length;
  const r = await requestToken(server, kind, email, clientSecret);
  if (r.status !== 200) throw new Error(`requestToken: ${r.status} ${JSON.stringify(r.body)}`);
  const link = linkIn(await smtp.waitFor(before + 1));
  const page = await server.request('GET', link.path);
  if (page.status !== 200) throw new Error(`link: ${page.status} ${page.text}`);
  return r.body.sid;
}

void t.test('identity-proxy email flows', async (t) => {
  await withAllDatabasesConcurrently(t, async (t, database) => {
    const smtp = await startSmtp(t);
    const server = await startServer(t, {
      database,
      config: { ...openRegistrationConfig, ...emailConfig(smtp) },
    });

    await t.test('registration with m.login.email.identity binds the address', async (t) => {
      const first = await server.request('POST', `${V3}/register`, {
        body: { username: 'erin', password: 'pw-erin' },
      });
      t.equal(first.status, 401);
      t.same(first.body.flows, [{ stages: ['m.login.dummy'] }, { stages: ['m.login.email.identity'] }]);

      const r = await requestToken(server, 'register', ' Erin@Example.ORG ', 'secret-erin');
      t.equal(r.status, 200);
      t.type(r.body.sid, 'string');
      t.equal(
        r.body['submit_url'],
        'https://hs.test/_matrix/client/unstable/registration/email/submit_token',
      );
      const mail = await smtp.waitFor(1);
      t.same(mail.to, ['erin@example.org'], 'sent to the canonical (lower-cased) address');
      t.match(mail.text, /From: Axon AxonTest <noreply@test\.local>/);
      t.match(mail.text, /Subject: \[test\.local\] Validate your email/);
      const link = linkIn(mail);
      t.equal(link.sid, r.body.sid);
      t.match(link.path, /^\/_matrix\/client\/unstable\/registration\/email\/submit_token\?/);

      const creds = { sid: r.body.sid, client_secret: 'secret-erin' };
      const early = await server.request('POST', `${V3}/register`, {
        body: {
          auth: { type: 'm.login.email.identity', threepid_creds: creds, session: first.body.session },
        },
      });
      t.equal(early.status, 401, 'not validated yet: the stage fails and may be retried');
      t.equal(early.body.errcode, 'M_THREEPID_AUTH_FAILED');
      t.equal(early.body.session, first.body.session);

      const page = await server.request('GET', link.path);
      t.equal(page.status, 200);
      t.match(page.headers.get('content-type'), /text\/html/);
      t.match(page.text, /verified/);

      const done = await server.request('POST', `${V3}/register`, {
        body: {
          auth: { type: 'm.login.email.identity', threepid_creds: creds, session: first.body.session },
        },
      });
      t.equal(done.status, 200, done.text);
      t.equal(done.body.user_id, '@erin:test.local');
      const list = await server.request('GET', `${V3}/account/3pid`, { token: done.body.access_token });
      t.equal(list.status, 200);
      t.equal(list.body.threepids.length, 1);
      t.match(list.body.threepids[0], { medium: 'email', address: 'erin@example.org' });
      t.type(list.body.threepids[0].validated_at, 'number');
      t.type(list.body.threepids[0].added_at, 'number');

      await t.test('login with identifier m.id.thirdparty', async (t) => {
        const login = await server.request('POST', `${V3}/login`, {
          body: {
            type: 'm.login.password',
            identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'ERIN@example.org' },
            password: 'pw-erin',
          },
        });
        t.equal(login.status, 200, login.text);
        t.equal(login.body.user_id, '@erin:test.local');
        const wrong = await server.request('POST', `${V3}/login`, {
          body: {
            type: 'm.login.password',
            identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'erin@example.org' },
            password: 'nope',
          },
        });
        t.equal(wrong.status, 403);
        t.equal(wrong.body.errcode, 'M_FORBIDDEN');
        const unknown = await server.request('POST', `${V3}/login`, {
          body: {
            type: 'm.login.password',
            identifier: { type: 'm.id.thirdparty', medium: 'email', address: 'nobody@example.org' },
            password: 'pw-erin',
          },
        });
        t.equal(unknown.status, 403);
      });

      await t.test('the address cannot be registered or added again', async (t) => {
        const again = await requestToken(server, 'register', 'erin@example.org', 'other-secret');
        t.equal(again.status, 400);
        t.equal(again.body.errcode, 'M_THREEPID_IN_USE');
        const add = await requestToken(server, 'account/3pid', 'erin@EXAMPLE.org', 'other-secret');
        t.equal(add.body.errcode, 'M_THREEPID_IN_USE');
      });
    });

    await t.test('send_attempt idempotency: the same attempt sends nothing more', async (t) => {
      const before = smtp.mails.length;
      const a = await requestToken(server, 'register', 'frank@example.org', 'secret-frank', 1);
      await smtp.waitFor(before + 1);
      const b = await requestToken(server, 'register', 'frank@example.org', 'secret-frank', 1);
      t.equal(b.body.sid, a.body.sid, 'same session');
      const c = await requestToken(server, 'register', 'frank@example.org', 'secret-frank', 2);
      t.equal(c.body.sid, a.body.sid, 'a new attempt keeps the session');
      await smtp.waitFor(before + 2);
      await new Promise((r) => setTimeout(r, 200));
      t.equal(smtp.mails.length, before + 2, 'one mail per attempt');
      const oldLink = linkIn(smtp.mails[before]!);
      const stale = await server.request('GET', oldLink.path);
      t.equal(stale.status, 400, 'the first token was replaced by the second attempt');
      const fresh = await server.request('GET', linkIn(smtp.mails[before + 1]!).path);
      t.equal(fresh.status, 200);
    });

    await t.test('next_link: the link redirects there once validated', async (t) => {
      const before = smtp.mails.length;
      const r = await requestToken(server, 'register', 'gina@example.org', 'secret-gina', 1, {
        next_link: 'https://client.example/after?x=1',
      });
      t.equal(r.status, 200);
      const link = linkIn(await smtp.waitFor(before + 1));
      const res = await fetch(server.baseUrl + link.path, { redirect: 'manual' });
      t.equal(res.status, 302);
      t.equal(res.headers.get('location'), 'https://client.example/after?x=1');
      const bad = await requestToken(server, 'register', 'gina2@example.org', 'secret-gina', 1, {
        next_link: 'javascript:alert(1)',
      });
      t.equal(bad.status, 400);
      t.equal(bad.body.errcode, 'M_INVALID_PARAM');
    });

    await t.test('adding an email to an account: validation, UIA, list, delete', async (t) => {
      const henry = await makeUser(server, { localpart: 'henry', password: 'pw-henry' });
      const sid = await validate(server, smtp, 'account/3pid', 'henry@example.org', 'secret-henry');
      const add = `${V3}/account/3pid/add`;
      const challenge = await server.request('POST', add, {
        token: henry.accessToken,
        body: { sid, client_secret: 'secret-henry' },
      });
      t.equal(challenge.status, 401);
      t.same(challenge.body.flows, [{ stages: ['m.login.password'] }]);
      const done = await server.request('POST', add, {
        token: henry.accessToken,
        body: { sid, client_secret: 'secret-henry', auth: passwordAuth(henry, challenge.body.session) },
      });
      t.equal(done.status, 200, done.text);
      const list = await server.request('GET', `${V3}/account/3pid`, { token: henry.accessToken });
      t.same(
        list.body.threepids.map((x: { address: string }) => x.address),
        ['henry@example.org'],
      );

      const replayed = await server.request('POST', add, {
        token: henry.accessToken,
        body: { sid, client_secret: 'secret-henry', auth: passwordAuth(henry) },
      });
      t.equal(replayed.status, 400, 'a validated session serves one operation');
      t.equal(replayed.body.errcode, 'M_THREEPID_AUTH_FAILED');

      const caps = await server.request('GET', `${V3}/capabilities`, { token: henry.accessToken });
      t.same(caps.body.capabilities['m.3pid_changes'], { enabled: true });

      const del = await server.request('POST', `${V3}/account/3pid/delete`, {
        token: henry.accessToken,
        body: { medium: 'email', address: 'Henry@Example.org' },
      });
      t.equal(del.status, 200);
      t.same(del.body, { id_server_unbind_result: 'no-support' });
      const after = await server.request('GET', `${V3}/account/3pid`, { token: henry.accessToken });
      t.same(after.body.threepids, []);
    });

    await t.test('an address is never bound to two accounts', async (t) => {
      const ivy = await makeUser(server, { localpart: 'ivy', password: 'pw-ivy' });
      const jack = await makeUser(server, { localpart: 'jack', password: 'pw-jack' });
      // Both validate the same address before either adds it.
      const sidIvy = await validate(server, smtp, 'account/3pid', 'shared@example.org', 'secret-ivy');
      const sidJack = await validate(server, smtp, 'account/3pid', 'shared@example.org', 'secret-jack');
      const add = async (
        user: typeof ivy,
        sid: string,
        secret: string,
      ): Promise<{ status: number; errcode?: string }> => {
        const c = await server.request('POST', `${V3}/account/3pid/add`, {
          token: user.accessToken,
          body: { sid, client_secret: secret },
        });
        const r = await server.request('POST', `${V3}/account/3pid/add`, {
          token: user.accessToken,
          body: { sid, client_secret: secret, auth: passwordAuth(user, c.body.session) },
        });
        return { status: r.status, errcode: r.body?.errcode };
      };
      const results = await Promise.all([add(ivy, sidIvy, 'secret-ivy'), add(jack, sidJack, 'secret-jack')]);
      t.same(results.map((r) => r.status).sort(), [200, 400]);
      t.ok(results.some((r) => r.errcode === 'M_THREEPID_IN_USE'));
      const owners = await Promise.all(
        [ivy, jack].map(
          async (u) =>
            (await server.request('GET', `${V3}/account/3pid`, { token: u.accessToken })).body.threepids
              .length,
        ),
      );
      t.same(owners.sort(), [0, 1]);
    });

    await t.test('password reset by email logs out every device', async (t) => {
      const kate = await makeUser(server, { localpart: 'kate', password: 'pw-kate-old' });
      const sidAdd = await validate(server, smtp, 'account/3pid', 'kate@example.org', 'secret-kate');
      const c = await server.request('POST', `${V3}/account/3pid/add`, {
        token: kate.accessToken,
        body: { sid: sidAdd, client_secret: 'secret-kate' },
      });
      await server.request('POST', `${V3}/account/3pid/add`, {
        token: kate.accessToken,
        body: { sid: sidAdd, client_secret: 'secret-kate', auth: passwordAuth(kate, c.body.session) },
      });

      const before = smtp.mails.length;
      const r = await requestToken(server, 'account/password', 'kate@example.org', 'reset-kate');
      t.equal(r.status, 200);
      const mail = await smtp.waitFor(before + 1);
      t.match(mail.text, /Subject: \[test\.local\] Password reset/);
      const link = linkIn(mail);
      t.match(link.path, /^\/_synapse\/client\/password_reset\/email\/submit_token\?/);
      const confirm = await server.request('GET', link.path);
      t.equal(confirm.status, 200);
      t.match(confirm.text, /<form method="post"/, 'a confirmation form, so link scanners cannot validate');

      const creds = { sid: r.body.sid, client_secret: 'reset-kate' };
      const first = await server.request('POST', `${V3}/account/password`, {
        body: { new_password: 'pw-kate-new' },
      });
      t.equal(first.status, 401);
      t.same(first.body.flows, [{ stages: ['m.login.email.identity'] }]);
      const tooEarly = await server.request('POST', `${V3}/account/password`, {
        body: {
          new_password: 'pw-kate-new',
          auth: { type: 'm.login.email.identity', threepid_creds: creds, session: first.body.session },
        },
      });
      t.equal(tooEarly.status, 401);

      const form = new URLSearchParams({
        sid: link.sid,
        client_secret: link.clientSecret,
        token: link.token,
      });
      const submitted = await server.request('POST', '/_synapse/client/password_reset/email/submit_token', {
        rawBody: form.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      t.equal(submitted.status, 200, submitted.text);

      const done = await server.request('POST', `${V3}/account/password`, {
        body: {
          new_password: 'pw-kate-new',
          auth: { type: 'm.login.email.identity', threepid_creds: creds, session: first.body.session },
        },
      });
      t.equal(done.status, 200, done.text);
      const whoami = await server.request('GET', `${V3}/account/whoami`, { token: kate.accessToken });
      t.equal(whoami.status, 401, 'the old session was logged out');
      const login = await server.request('POST', `${V3}/login`, {
        body: { type: 'm.login.password', user: 'kate', password: 'pw-kate-new' },
      });
      t.equal(login.status, 200);

      await t.test('logout_devices: false keeps the sessions', async (t) => {
        const before = smtp.mails.length;
        const r2 = await requestToken(server, 'account/password', 'kate@example.org', 'reset-kate-2');
        const link2 = linkIn(await smtp.waitFor(before + 1));
        const json = await server.request(
          'POST',
          '/_matrix/client/unstable/password_reset/email/submit_token',
          {
            body: { sid: link2.sid, client_secret: link2.clientSecret, token: link2.token },
          },
        );
        t.same(json.body, { success: true });
        const again = await server.request(
          'POST',
          '/_matrix/client/unstable/password_reset/email/submit_token',
          {
            body: { sid: link2.sid, client_secret: link2.clientSecret, token: link2.token },
          },
        );
        t.equal(again.status, 400, 'a token works once');
        t.equal(again.body.errcode, 'M_THREEPID_AUTH_FAILED');
        const c2 = await server.request('POST', `${V3}/account/password`, {
          body: { new_password: 'pw-kate-3', logout_devices: false },
        });
        const d2 = await server.request('POST', `${V3}/account/password`, {
          body: {
            new_password: 'pw-kate-3',
            auth: {
              type: 'm.login.email.identity',
              threepid_creds: { sid: r2.body.sid, client_secret: 'reset-kate-2' },
              session: c2.body.session,
            },
          },
        });
        t.equal(d2.status, 200, d2.text);
        const still = await server.request('GET', `${V3}/account/whoami`, { token: login.body.access_token });
        t.equal(still.status, 200);
      });
    });

    await t.test('password reset for an unknown address: M_THREEPID_NOT_FOUND', async (t) => {
      const r = await requestToken(server, 'account/password', 'ghost@example.org', 'secret-ghost');
      t.equal(r.status, 400);
      t.equal(r.body.errcode, 'M_THREEPID_NOT_FOUND');
    });
  });
});

void t.test('registrations_require_3pid: email counts as verification for open registration', async (t) => {
  const smtp = await startSmtp(t);
  const server = await startServer(t, {
    config: {
      enable_registration: true,
      rc_registration: { per_second: 1000, burst_count: 1000 },
      registrations_require_3pid: ['email'],
      ...emailConfig(smtp),
    },
  });
  const first = await server.request('POST', `${V3}/register`, {
    body: { username: 'lena', password: 'pw-lena' },
  });
  t.same(first.body.flows, [{ stages: ['m.login.email.identity'] }]);
  const sid = await validate(server, smtp, 'register', 'lena@example.org', 'secret-lena');
  const done = await server.request('POST', `${V3}/register`, {
    body: {
      auth: {
        type: 'm.login.email.identity',
        threepid_creds: { sid, client_secret: 'secret-lena' },
        session: first.body.session,
      },
    },
  });
  t.equal(done.status, 200, done.text);
  t.equal(done.body.user_id, '@lena:test.local');

  await t.test('deactivation frees the address', async (t) => {
    const deactivate = async (session?: string): ReturnType<typeof server.request> =>
      server.request('POST', `${V3}/account/deactivate`, {
        token: done.body.access_token,
        body: { auth: passwordAuth({ userId: '@lena:test.local', password: 'pw-lena' }, session) },
      });
    const c = await deactivate();
    t.equal(c.status, 200, c.text);
    const again = await requestToken(server, 'register', 'lena@example.org', 'secret-lena-2');
    t.equal(again.status, 200, 'the address may be registered again');
  });
});

void t.test('open registration without any verification still refuses to boot', async (t) => {
  await t.rejects(startServer(t, { config: { enable_registration: true } }), /verification/);
  await t.rejects(
    startServer(t, {
      config: {
        enable_registration: true,
        registrations_require_3pid: ['email'],
        modules: { 'identity-proxy': false },
      },
    }),
    /verification/,
    'registrations_require_3pid counts only when identity-proxy runs',
  );
});
