import t from 'tap';
import { binary, makeTestUser, startMediaServer, upload } from './media-helpers.js';

void t.test('upload then download through both APIs', async (t) => {
  const server = await startMediaServer(t, { config: { enable_authenticated_media: false } });
  const alice = await makeTestUser(server);
  const up = await upload(server, alice, 'hello media', { contentType: 'text/plain', filename: 'hello.txt' });
  t.equal(up.status, 200);
  t.match(up.body.content_uri, /^mxc:\/\/test\.local\/[A-Za-z]{24}$/);

  const authed = await binary(
    server,
    `/_matrix/client/v1/media/download/test.local/${up.mediaId}`,
    alice.accessToken,
  );
  t.equal(authed.status, 200);
  t.equal(authed.bytes.toString(), 'hello media');
  t.equal(authed.headers.get('content-type'), 'text/plain; charset=utf-8');
  t.equal(authed.headers.get('content-disposition'), 'inline; filename="hello.txt"');
  t.equal(authed.headers.get('x-content-type-options'), 'nosniff');
  t.equal(authed.headers.get('cross-origin-resource-policy'), 'cross-origin');
  t.match(authed.headers.get('content-security-policy'), /^sandbox; default-src 'none'; script-src 'none'/);

  const legacy = await binary(server, `/_matrix/media/v3/download/test.local/${up.mediaId}/other.txt`);
  t.equal(legacy.status, 200);
  t.equal(legacy.bytes.toString(), 'hello media');
  t.equal(legacy.headers.get('content-disposition'), 'inline; filename="other.txt"');
});
