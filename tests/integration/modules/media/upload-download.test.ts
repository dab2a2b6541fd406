import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { binary, makeTestUser, startMediaServer, upload } from './media-helpers.js';

void t.test('upload, download through both APIs, ranges, async upload', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startMediaServer(t, { database, config: { enable_authenticated_media: false } });
    const alice = await makeTestUser(server);

    await t.test('upload returns an mxc URI and both download APIs serve the bytes', async (t) => {
      const up = await upload(server, alice, 'hello media', {
        contentType: 'text/plain',
        filename: 'hello.txt',
      });
      t.equal(up.status, 200);
      t.match(up.body.content_uri, /^mxc:\/\/test\.local\/[A-Za-z]{24}$/);
      const path = `/_matrix/client/v1/media/download/test.local/${up.mediaId}`;
      const authed = await binary(server, path, alice.accessToken);
      t.equal(authed.status, 200);
      t.equal(authed.bytes.toString(), 'hello media');
      t.equal(authed.headers.get('content-type'), 'text/plain; charset=utf-8');
      t.equal(authed.headers.get('content-length'), '11');
      t.equal(authed.headers.get('content-disposition'), 'inline; filename="hello.txt"');
      t.equal(authed.headers.get('x-content-type-options'), 'nosniff');
      t.equal(authed.headers.get('cross-origin-resource-policy'), 'cross-origin');
      t.equal(
        authed.headers.get('content-security-policy'),
        "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
      );
      const legacy = await binary(server, `/_matrix/media/v3/download/test.local/${up.mediaId}/other.txt`);
      t.equal(legacy.status, 200);
      t.equal(legacy.bytes.toString(), 'hello media');
      t.equal(legacy.headers.get('content-disposition'), 'inline; filename="other.txt"');
      const r0 = await binary(server, `/_matrix/media/r0/download/test.local/${up.mediaId}`);
      t.equal(r0.status, 200, 'r0 alias');
      const params = await binary(server, `${path}?allow_redirect=true&timeout_ms=1000`, alice.accessToken);
      t.equal(params.status, 200, 'allow_redirect and timeout_ms accepted');
    });

    await t.test('unsafe types are attachments; no filename without one', async (t) => {
      const up = await upload(server, alice, '<script>alert(1)</script>', { contentType: 'text/html' });
      const res = await binary(
        server,
        `/_matrix/client/v1/media/download/test.local/${up.mediaId}`,
        alice.accessToken,
      );
      t.equal(res.headers.get('content-disposition'), 'attachment');
      t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      const named = await upload(server, alice, 'x', {
        contentType: 'application/pdf',
        filename: 'résumé.pdf',
      });
      const res2 = await binary(
        server,
        `/_matrix/client/v1/media/download/test.local/${named.mediaId}`,
        alice.accessToken,
      );
      t.equal(res2.headers.get('content-disposition'), "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf");
    });

    await t.test('a missing Content-Type is stored as application/octet-stream', async (t) => {
      const res = await fetch(`${server.baseUrl}/_matrix/media/v3/upload`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.accessToken}` },
        body: new Uint8Array([1, 2, 3]),
      });
      const { content_uri } = (await res.json()) as { content_uri: string };
      const down = await binary(
        server,
        `/_matrix/client/v1/media/download/test.local/${content_uri.split('/').pop()}`,
        alice.accessToken,
      );
      t.equal(down.headers.get('content-type'), 'application/octet-stream');
      t.same([...down.bytes], [1, 2, 3]);
    });

    await t.test('range requests: 206 with Content-Range, 416 when unsatisfiable', async (t) => {
      const up = await upload(server, alice, '0123456789', { contentType: 'text/plain' });
      const path = `/_matrix/client/v1/media/download/test.local/${up.mediaId}`;
      const part = await binary(server, path, alice.accessToken, { range: 'bytes=2-5' });
      t.equal(part.status, 206);
      t.equal(part.bytes.toString(), '2345');
      t.equal(part.headers.get('content-range'), 'bytes 2-5/10');
      t.equal(part.headers.get('content-length'), '4');
      const suffix = await binary(server, path, alice.accessToken, { range: 'bytes=-3' });
      t.equal(suffix.bytes.toString(), '789');
      const bad = await binary(server, path, alice.accessToken, { range: 'bytes=10-' });
      t.equal(bad.status, 416);
      t.equal(bad.headers.get('content-range'), 'bytes */10');
      const full = await binary(server, path, alice.accessToken);
      t.equal(full.headers.get('accept-ranges'), 'bytes');
    });

    await t.test('async upload: create, download waits, PUT fills, second PUT is refused', async (t) => {
      const created = await server.request('POST', '/_matrix/media/v1/create', { token: alice.accessToken });
      t.equal(created.status, 200);
      t.match(created.body.content_uri, /^mxc:\/\/test\.local\//);
      t.type(created.body.unused_expires_at, 'number');
      const mediaId = String(created.body.content_uri).split('/').pop()!;
      const early = await binary(
        server,
        `/_matrix/client/v1/media/download/test.local/${mediaId}?timeout_ms=100`,
        alice.accessToken,
      );
      t.equal(early.status, 504);
      t.equal(early.json?.['errcode'], 'M_NOT_YET_UPLOADED');
      const waiting = binary(
        server,
        `/_matrix/client/v1/media/download/test.local/${mediaId}?timeout_ms=10000`,
        alice.accessToken,
      );
      await new Promise((r) => setTimeout(r, 200));
      const put = await server.request(
        'PUT',
        `/_matrix/media/v3/upload/test.local/${mediaId}?filename=late.txt`,
        {
          rawBody: 'arrived',
          token: alice.accessToken,
          headers: { 'content-type': 'text/plain' },
        },
      );
      t.equal(put.status, 200);
      t.same(put.body, {});
      const waited = await waiting;
      t.equal(waited.status, 200);
      t.equal(waited.bytes.toString(), 'arrived');
      t.equal(waited.headers.get('content-disposition'), 'inline; filename="late.txt"');
      const again = await server.request('PUT', `/_matrix/media/v3/upload/test.local/${mediaId}`, {
        rawBody: 'again',
        token: alice.accessToken,
        headers: { 'content-type': 'text/plain' },
      });
      t.equal(again.status, 409);
      t.equal(again.body.errcode, 'M_CANNOT_OVERWRITE_MEDIA');
    });

    await t.test('config on both paths', async (t) => {
      for (const path of ['/_matrix/client/v1/media/config', '/_matrix/media/v3/config']) {
        const res = await server.request('GET', path, { token: alice.accessToken });
        t.same(res.body, { 'm.upload.size': 50 * 1024 * 1024 }, path);
      }
    });
  });
});
