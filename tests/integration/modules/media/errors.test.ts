import { request as httpRequest } from 'node:http';
import t from 'tap';
import { NOT_SPAM } from '../../../../core/plugins/api.js';
import { binary, makeImage, makeTestUser, startMediaServer, upload } from './media-helpers.js';

void t.test('media error paths', async (t) => {
  const server = await startMediaServer(t, {
    config: { max_upload_size: '1K', max_image_pixels: 100, max_pending_media_uploads: 1 },
  });
  const alice = await makeTestUser(server);
  const bob = await makeTestUser(server);
  const admin = await makeTestUser(server, true);
  const dl = (id: string, server_ = 'test.local') => `/_matrix/client/v1/media/download/${server_}/${id}`;

  await t.test('unknown media is 404 M_NOT_FOUND on every endpoint', async (t) => {
    for (const path of [
      dl('unknownMediaId'),
      '/_matrix/client/v1/media/thumbnail/test.local/unknownMediaId?width=32&height=32',
      '/_matrix/media/v3/download/test.local/unknownMediaId',
    ]) {
      const res = await binary(server, path, alice.accessToken);
      t.equal(res.status, 404, path);
      t.equal(res.json?.['errcode'], 'M_NOT_FOUND');
    }
  });

  await t.test('remote media is not found until federation exists', async (t) => {
    const res = await binary(server, dl('abc', 'other.example'), alice.accessToken);
    t.equal(res.status, 404);
    t.equal(res.json?.['errcode'], 'M_NOT_FOUND');
  });

  await t.test('malformed server names and media ids are 400, never a file', async (t) => {
    for (const path of [
      dl('..%2F..%2Fetc%2Fpasswd'),
      dl('abc.def'),
      dl('abc', 'a..b'),
      dl('abc', 'exa%20mple.com'),
      dl('abc', 'evil.com%2F..'),
      dl('a%00b'),
      '/_matrix/media/v3/download/127.0.0.1/..%2F..%2F..%2Fsome_service%2Fetc%2Fpasswd',
    ]) {
      const res = await binary(server, path, alice.accessToken);
      t.equal(res.status, 400, path);
    }
  });

  await t.test('the authenticated endpoints need a token', async (t) => {
    const res = await binary(server, dl('abc'));
    t.equal(res.status, 401);
    t.equal(res.json?.['errcode'], 'M_MISSING_TOKEN');
    const up = await server.request('POST', '/_matrix/media/v3/upload', { rawBody: 'x' });
    t.equal(up.status, 401);
  });

  await t.test(
    'media uploaded while authenticated media is on is frozen for the legacy endpoints',
    async (t) => {
      const up = await upload(server, alice, 'frozen', { contentType: 'text/plain' });
      const legacy = await binary(server, `/_matrix/media/v3/download/test.local/${up.mediaId}`);
      t.equal(legacy.status, 404);
      t.equal(legacy.json?.['errcode'], 'M_NOT_FOUND');
      const authed = await binary(server, dl(up.mediaId), alice.accessToken);
      t.equal(authed.status, 200);
    },
  );

  await t.test('too large with Content-Length: 413 before reading', async (t) => {
    const res = await upload(server, alice, Buffer.alloc(2000), {});
    t.equal(res.status, 413);
    t.equal(res.body.errcode, 'M_TOO_LARGE');
  });

  await t.test('too large while streaming (chunked, no Content-Length): 413', async (t) => {
    const url = new URL(`${server.baseUrl}/_matrix/media/v3/upload`);
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.accessToken}`, 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write(Buffer.alloc(500));
      req.end();
    });
    t.equal(status.status, 413);
    t.match(JSON.parse(status.body), { errcode: 'M_TOO_LARGE' });
  });

  await t.test('async upload errors', async (t) => {
    const created = await server.request('POST', '/_matrix/media/v1/create', { token: alice.accessToken });
    const mediaId = String(created.body.content_uri).split('/').pop()!;
    const limited = await server.request('POST', '/_matrix/media/v1/create', { token: alice.accessToken });
    t.equal(limited.status, 429, 'max_pending_media_uploads');
    t.equal(limited.body.errcode, 'M_LIMIT_EXCEEDED');
    const put = (id: string, token: string, serverName = 'test.local') =>
      server.request('PUT', `/_matrix/media/v3/upload/${serverName}/${id}`, {
        rawBody: 'x',
        token,
        headers: { 'content-type': 'text/plain' },
      });
    const wrongUser = await put(mediaId, bob.accessToken);
    t.equal(wrongUser.status, 403);
    t.equal(wrongUser.body.errcode, 'M_FORBIDDEN');
    const unknown = await put('neverCreated', alice.accessToken);
    t.equal(unknown.status, 404);
    t.equal(unknown.body.errcode, 'M_NOT_FOUND');
    const otherServer = await put(mediaId, alice.accessToken, 'other.example');
    t.equal(otherServer.status, 404);
    t.equal((await put(mediaId, alice.accessToken)).status, 200);
    const twice = await put(mediaId, alice.accessToken);
    t.equal(twice.status, 409);
    t.equal(twice.body.errcode, 'M_CANNOT_OVERWRITE_MEDIA');
  });

  await t.test('the spam checker refusal is the client error', async (t) => {
    server.kernel.container.cradle.spamCheckers.add('test', {
      async checkMediaFileForSpam(file) {
        return file.uploadName === 'spam.txt'
          ? { errcode: 'M_FORBIDDEN', error: 'Spam is not welcome' }
          : NOT_SPAM;
      },
    });
    const res = await upload(server, alice, 'buy now', { contentType: 'text/plain', filename: 'spam.txt' });
    t.equal(res.status, 403);
    t.same(res.body, { errcode: 'M_FORBIDDEN', error: 'Spam is not welcome' });
  });

  await t.test('thumbnail errors', async (t) => {
    const text = await upload(server, alice, 'not an image', { contentType: 'text/plain' });
    const base = `/_matrix/client/v1/media/thumbnail/test.local/${text.mediaId}`;
    const notImage = await binary(server, `${base}?width=32&height=32`, alice.accessToken);
    t.equal(notImage.status, 400);
    t.equal(notImage.json?.['errcode'], 'M_UNKNOWN');
    const missing = await binary(server, `${base}?width=32`, alice.accessToken);
    t.equal(missing.status, 400);
    t.equal(missing.json?.['errcode'], 'M_MISSING_PARAM');
    for (const query of [
      'width=-1&height=32',
      'width=abc&height=32',
      'width=32&height=32&method=stretch',
      'width=32&height=32&animated=maybe',
    ]) {
      const res = await binary(server, `${base}?${query}`, alice.accessToken);
      t.equal(res.status, 400, query);
    }
    const big = await upload(server, alice, await makeImage('png', 20, 20), { contentType: 'image/png' });
    const tooMany = await binary(
      server,
      `/_matrix/client/v1/media/thumbnail/test.local/${big.mediaId}?width=8&height=8`,
      alice.accessToken,
    );
    t.equal(tooMany.status, 413, 'over max_image_pixels');
    t.equal(tooMany.json?.['errcode'], 'M_TOO_LARGE');
    const broken = await upload(server, alice, 'garbage', { contentType: 'image/png' });
    const res = await binary(
      server,
      `/_matrix/client/v1/media/thumbnail/test.local/${broken.mediaId}?width=8&height=8`,
      alice.accessToken,
    );
    t.equal(res.status, 400, 'undecodable image');
  });

  await t.test('admin: quarantine hides media, unquarantine restores it, delete removes it', async (t) => {
    const up = await upload(server, alice, 'sensitive', { contentType: 'text/plain' });
    const q = `/_synapse/admin/v1/media/quarantine/test.local/${up.mediaId}`;
    const notAdmin = await server.request('POST', q, { token: alice.accessToken });
    t.equal(notAdmin.status, 403);
    t.equal(notAdmin.body.errcode, 'M_FORBIDDEN');
    t.equal((await server.request('POST', q, { token: admin.accessToken })).status, 200);
    const hidden = await binary(server, dl(up.mediaId), alice.accessToken);
    t.equal(hidden.status, 404);
    const unq = `/_synapse/admin/v1/media/unquarantine/test.local/${up.mediaId}`;
    t.equal((await server.request('POST', unq, { token: admin.accessToken })).status, 200);
    t.equal((await binary(server, dl(up.mediaId), alice.accessToken)).status, 200);
    const del = `/_synapse/admin/v1/media/test.local/${up.mediaId}`;
    t.equal((await server.request('DELETE', del, { token: alice.accessToken })).status, 403);
    const deleted = await server.request('DELETE', del, { token: admin.accessToken });
    t.equal(deleted.status, 200);
    t.same(deleted.body, { deleted_media: [up.mediaId], total: 1 });
    t.equal((await binary(server, dl(up.mediaId), alice.accessToken)).status, 404);
    t.equal((await server.request('DELETE', del, { token: admin.accessToken })).status, 404);
    t.equal(
      (
        await server.request('POST', `/_synapse/admin/v1/media/quarantine/test.local/nothing`, {
          token: admin.accessToken,
        })
      ).status,
      404,
    );
  });
});
