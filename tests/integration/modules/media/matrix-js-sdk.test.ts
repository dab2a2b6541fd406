import t from 'tap';
import sharp from 'sharp';
import * as sdk from 'matrix-js-sdk';
import { makeImage, makeTestUser, startMediaServer } from './media-helpers.js';

void t.test('a real client (matrix-js-sdk) uploads and downloads with authenticated media', async (t) => {
  const server = await startMediaServer(t);
  const alice = await makeTestUser(server);
  const client = sdk.createClient({
    baseUrl: server.baseUrl,
    accessToken: alice.accessToken,
    userId: alice.userId,
  });

  const config = await client.getMediaConfig(true);
  t.equal(config['m.upload.size'], 50 * 1024 * 1024);

  const png = await makeImage('png', 300, 200);
  const { content_uri } = await client.uploadContent(new Blob([png], { type: 'image/png' }), {
    name: 'photo.png',
    type: 'image/png',
  });
  t.match(content_uri, /^mxc:\/\/test\.local\//);

  const url = client.mxcUrlToHttp(content_uri, undefined, undefined, undefined, false, true, true);
  t.match(url, /\/_matrix\/client\/v1\/media\/download\/test\.local\//);
  const res = await fetch(url!, { headers: { authorization: `Bearer ${alice.accessToken}` } });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'image/png');
  t.equal(res.headers.get('content-disposition'), 'inline; filename="photo.png"');
  t.same(Buffer.from(await res.arrayBuffer()), png);

  const thumbUrl = client.mxcUrlToHttp(content_uri, 96, 96, 'crop', false, true, true);
  t.match(thumbUrl, /\/_matrix\/client\/v1\/media\/thumbnail\/test\.local\/.*width=96/);
  const thumb = await fetch(thumbUrl!, { headers: { authorization: `Bearer ${alice.accessToken}` } });
  t.equal(thumb.status, 200);
  const meta = await sharp(Buffer.from(await thumb.arrayBuffer())).metadata();
  t.same([meta.width, meta.height], [96, 96]);

  const anonymous = await fetch(url!);
  t.equal(anonymous.status, 401, 'authenticated media needs the token');
});
