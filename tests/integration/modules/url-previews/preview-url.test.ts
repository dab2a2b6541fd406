import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import sharp from 'sharp';
import { RECOMMENDED_IP_RANGE_BLACKLIST } from '../../../../modules/url-previews/config.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { binary, makeImage, makeTestUser, startMediaServer } from '../media/media-helpers.js';

/** A small website on 127.0.0.1: an OpenGraph page, its image, a redirect out, and request counting. */
async function website(t: Test): Promise<{ base: string; port: number; hits: string[] }> {
  const image = await makeImage('png', 48, 32);
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/page') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head>
        <meta property="og:title" content="Axon test page">
        <meta property="og:description" content="Served by the test itself">
        <meta property="og:image" content="/cover.png">
        <title>fallback</title></head><body>hello</body></html>`);
    } else if (req.url === '/cover.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(image);
    } else if (req.url === '/plain') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<title>Just a title</title><meta name="description" content="meta description">');
    } else if (req.url === '/to-private') {
      res.writeHead(302, { location: 'http://10.0.0.1/internal' });
      res.end();
    } else if (req.url === '/to-loopback') {
      res.writeHead(302, { location: `http://127.0.0.2:${(server.address() as AddressInfo).port}/page` });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return { base: `http://127.0.0.1:${port}`, port, hits };
}

const previewConfig = (whitelist: string[]) => ({
  url_preview_enabled: true,
  url_preview_ip_range_blacklist: [...RECOMMENDED_IP_RANGE_BLACKLIST],
  url_preview_ip_range_whitelist: whitelist,
  url_preview_url_blacklist: [{ netloc: '*.blocked.example' }],
});

const preview = (url: string) => `/_matrix/client/v1/media/preview_url?url=${encodeURIComponent(url)}`;

void t.test('a whitelisted local page is previewed with its OpenGraph title and image', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const site = await website(t);
    const server = await startMediaServer(t, { database, config: previewConfig(['127.0.0.1/32']) });
    const alice = await makeTestUser(server);
    const res = await server.request('GET', preview(`${site.base}/page`), { token: alice.accessToken });
    t.equal(res.status, 200, res.text);
    t.equal(res.body['og:title'], 'Axon test page');
    t.equal(res.body['og:description'], 'Served by the test itself');
    t.match(res.body['og:image'], /^mxc:\/\/test\.local\/[A-Za-z]{24}$/);
    t.equal(res.body['og:image:type'], 'image/png');
    t.equal(res.body['og:image:width'], 48);
    t.equal(res.body['og:image:height'], 32);
    t.type(res.body['matrix:image:size'], 'number');

    const mediaId = String(res.body['og:image']).split('/').pop();
    const image = await binary(
      server,
      `/_matrix/client/v1/media/download/test.local/${mediaId}`,
      alice.accessToken,
    );
    t.equal(image.status, 200);
    t.equal(image.bytes.length, res.body['matrix:image:size']);
    t.same([(await sharp(image.bytes).metadata()).width], [48]);

    const again = await server.request(
      'GET',
      `/_matrix/media/v3/preview_url?url=${encodeURIComponent(`${site.base}/page`)}`,
      {
        token: alice.accessToken,
      },
    );
    t.same(again.body, res.body, 'legacy path, answered from the cache');
    t.same(site.hits, ['/page', '/cover.png'], 'fetched once');
  });
});

void t.test('preview error paths and safety', async (t) => {
  const site = await website(t);
  const server = await startMediaServer(t, { config: previewConfig(['127.0.0.1/32']) });
  const alice = await makeTestUser(server);
  const get = (url: string) => server.request('GET', preview(url), { token: alice.accessToken });

  await t.test('fallbacks when a page has no OpenGraph', async (t) => {
    const res = await get(`${site.base}/plain`);
    t.same(res.body, { 'og:title': 'Just a title', 'og:description': 'meta description' });
  });

  await t.test('a redirect from an allowed page to a blacklisted address is refused', async (t) => {
    for (const path of ['/to-private', '/to-loopback']) {
      const res = await get(`${site.base}${path}`);
      t.equal(res.status, 403, path);
      t.same(res.body, { errcode: 'M_UNKNOWN', error: 'IP address blocked' });
    }
  });

  await t.test('URL blacklist, bad schemes, missing url, no token', async (t) => {
    const blocked = await get('https://www.blocked.example/');
    t.equal(blocked.status, 403);
    t.equal(blocked.body.errcode, 'M_UNKNOWN');
    t.equal((await get('ftp://example.com/')).status, 400);
    t.equal((await get('not a url')).status, 400);
    const missing = await server.request('GET', '/_matrix/client/v1/media/preview_url', {
      token: alice.accessToken,
    });
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
    const anonymous = await server.request('GET', preview(`${site.base}/page`));
    t.equal(anonymous.status, 401);
  });

  await t.test('an upstream error is a 502', async (t) => {
    const res = await get(`${site.base}/missing`);
    t.equal(res.status, 502);
  });
});

void t.test('with the recommended blacklist and no whitelist, local addresses are refused', async (t) => {
  const site = await website(t);
  const server = await startMediaServer(t, { config: previewConfig([]) });
  const alice = await makeTestUser(server);
  for (const url of [
    `${site.base}/page`,
    `http://localhost:${site.port}/page`,
    `http://[::1]:${site.port}/page`,
  ]) {
    const res = await server.request('GET', preview(url), { token: alice.accessToken });
    t.equal(res.status, 403, url);
    t.same(res.body, { errcode: 'M_UNKNOWN', error: 'IP address blocked' });
  }
  t.same(site.hits, [], 'the site was never contacted');
});

void t.test('previews are off by default', async (t) => {
  const server = await startMediaServer(t);
  const alice = await makeTestUser(server);
  const res = await server.request('GET', preview('https://example.com/'), { token: alice.accessToken });
  t.equal(res.status, 404);
  t.equal(res.body.errcode, 'M_UNRECOGNIZED');
});

void t.test('enabling previews without an IP blacklist stops boot, as Synapse', async (t) => {
  await t.rejects(startMediaServer(t, { config: { url_preview_enabled: true } }), {
    name: 'BootError',
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /url_preview_ip_range_blacklist/,
  });
  await t.rejects(
    startMediaServer(t, {
      config: { url_preview_enabled: true, url_preview_ip_range_blacklist: ['10.0.0.0/99'] },
    }),
    { name: 'BootError', message: /10\.0\.0\.0\/99/ },
  );
});
