/**
 * Media throughput over HTTP against a real kernel (temporary SQLite database and media store): uploads and
 * downloads of a 10 MB file through the client API, and the time to thumbnail a 12-megapixel JPEG the first
 * time (decode + resize + encode + store) and when cached.
 *
 *   npx tsx scripts/bench/media-bench.ts [--n 20] [--size-mb 10]
 *
 * Throughput is MB/s (1 MB = 2^20 bytes) over `n` sequential requests; thumbnail times are milliseconds.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { Kernel } from '../../core/kernel.js';
import { builtinModules } from '../../modules/index.js';
import { createLogger } from '../../core/logger.js';

const { values } = parseArgs({
  options: { n: { type: 'string', default: '20' }, 'size-mb': { type: 'string', default: '10' } },
});
const N = Number(values.n);
const SIZE = Number(values['size-mb']) * 1024 * 1024;

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

/** Registers a user through the UIA dummy flow and returns its access token. */
async function register(base: string): Promise<string> {
  const body = {
    username: `bench${randomBytes(4).toString('hex')}`,
    password: randomBytes(12).toString('hex'),
  };
  const url = `${base}/_matrix/client/v3/register`;
  const init = (b: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(b),
  });
  const challenge = await json(await fetch(url, init(body)));
  const done = await json(
    await fetch(url, init({ ...body, auth: { type: 'm.login.dummy', session: challenge['session'] } })),
  );
  if (typeof done['access_token'] !== 'string')
    throw new Error(`registration failed: ${JSON.stringify(done)}`);
  return done['access_token'];
}

async function upload(base: string, token: string, bytes: Uint8Array, type: string): Promise<string> {
  const res = await fetch(`${base}/_matrix/media/v3/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body: bytes,
  });
  const body = await json(res);
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${JSON.stringify(body)}`);
  return String(body['content_uri']).split('/').pop()!;
}

async function get(base: string, path: string, token: string): Promise<number> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  const bytes = (await res.arrayBuffer()).byteLength;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  return bytes;
}

const mbps = (bytes: number, ms: number): string => ((bytes / 1024 / 1024) * (1000 / ms)).toFixed(1);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-media-bench-'));
  const kernel = await Kernel.boot({
    modules: builtinModules,
    config: {
      server_name: 'bench.local',
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client', 'media'] }] }],
      database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
      media_store_path: join(dir, 'media'),
      signing_key_path: join(dir, 'signing.key'),
      enable_registration: true,
      enable_registration_without_verification: true,
      rc_registration: { per_second: 1e6, burst_count: 1e6 },
      rc_media_create: { per_second: 1e6, burst_count: 1e6 },
    },
    configDir: dir,
    logger: createLogger('silent'),
  });
  try {
    const base = kernel.baseUrl();
    const token = await register(base);

    // Distinct content per upload, so deduplication does not flatter the numbers.
    const files = Array.from({ length: N }, () => randomBytes(SIZE));
    const ids: string[] = [];
    let started = performance.now();
    for (const file of files) ids.push(await upload(base, token, file, 'application/octet-stream'));
    const uploadMs = performance.now() - started;
    files.length = 0; // let 200 MB of test data go before measuring downloads

    started = performance.now();
    let downloaded = 0;
    for (const id of ids)
      downloaded += await get(base, `/_matrix/client/v1/media/download/bench.local/${id}`, token);
    const downloadMs = performance.now() - started;

    const photo = await sharp({
      create: { width: 4000, height: 3000, channels: 3, background: { r: 40, g: 120, b: 200 } },
    })
      .composite([
        {
          input: Buffer.from(randomBytes(64 * 64 * 3)),
          raw: { width: 64, height: 64, channels: 3 },
          tile: true,
        },
      ])
      .jpeg({ quality: 90 })
      .toBuffer();
    const photoId = await upload(base, token, photo, 'image/jpeg');
    const thumbPath = (w: number, h: number, m: string) =>
      `/_matrix/client/v1/media/thumbnail/bench.local/${photoId}?width=${w}&height=${h}&method=${m}`;
    started = performance.now();
    await get(base, thumbPath(640, 480, 'scale'), token);
    const firstThumbMs = performance.now() - started;
    started = performance.now();
    await get(base, thumbPath(96, 96, 'crop'), token);
    const cropThumbMs = performance.now() - started;
    started = performance.now();
    for (let i = 0; i < 20; i++) await get(base, thumbPath(640, 480, 'scale'), token);
    const cachedThumbMs = (performance.now() - started) / 20;

    console.log(`media bench (sqlite, ${N} x ${values['size-mb']} MB, sequential, node ${process.version})`);
    console.log(`  upload    ${mbps(N * SIZE, uploadMs)} MB/s  (${(uploadMs / N).toFixed(1)} ms per file)`);
    console.log(
      `  download  ${mbps(downloaded, downloadMs)} MB/s  (${(downloadMs / N).toFixed(1)} ms per file)`,
    );
    console.log(`  thumbnail 4000x3000 JPEG (${(photo.length / 1024).toFixed(0)} KB):`);
    console.log(`    640x480 scale, first  ${firstThumbMs.toFixed(1)} ms`);
    console.log(`    96x96 crop, first     ${cropThumbMs.toFixed(1)} ms`);
    console.log(`    cached                ${cachedThumbMs.toFixed(2)} ms`);
  } finally {
    await kernel.stop(1000);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
