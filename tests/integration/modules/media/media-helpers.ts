/** Shared pieces of the media integration tests: a server with media enabled, users, images. */
import sharp from 'sharp';
import type { Test } from 'tap';
import { startServer, type StartOptions, type TestServer } from '../../../helpers/start-server.js';
import {
  adminRegistrationConfig,
  makeUser,
  openRegistrationConfig,
  type TestUser,
} from '../../../helpers/fixtures.js';

export type { TestUser };

/** A server with open registration (and the shared secret for admins), for real users. */
export async function startMediaServer(t: Test, options: StartOptions = {}): Promise<TestServer> {
  return startServer(t, {
    ...options,
    config: { ...openRegistrationConfig, ...adminRegistrationConfig, ...options.config },
  });
}

export async function makeTestUser(server: TestServer, admin = false): Promise<TestUser> {
  return makeUser(server, { admin });
}

export async function upload(
  server: TestServer,
  user: TestUser,
  body: Uint8Array | string,
  options: { contentType?: string; filename?: string } = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; mediaId: string; body: any }> {
  const query = options.filename ? `?filename=${encodeURIComponent(options.filename)}` : '';
  const res = await server.request('POST', `/_matrix/media/v3/upload${query}`, {
    rawBody: body,
    token: user.accessToken,
    headers: { 'content-type': options.contentType ?? 'application/octet-stream' },
  });
  const uri = typeof res.body?.content_uri === 'string' ? res.body.content_uri : '';
  return { status: res.status, mediaId: uri.split('/').pop() ?? '', body: res.body };
}

/** A real image of the format, with a gradient so scaling is visible. */
export async function makeImage(
  format: 'jpeg' | 'png' | 'gif' | 'webp',
  width: number,
  height: number,
  options: { frames?: number } = {},
): Promise<Buffer> {
  const frames = options.frames ?? 1;
  const raw = Buffer.alloc(width * height * frames * 3);
  for (let f = 0; f < frames; f++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const i = ((f * height + y) * width + x) * 3;
        raw[i] = (x * 255) / width;
        raw[i + 1] = (y * 255) / height;
        raw[i + 2] = (f * 80) % 256;
      }
  const image = sharp(raw, {
    raw: { width, height: height * frames, channels: 3, ...(frames > 1 ? { pageHeight: height } : {}) },
  });
  if (frames > 1) {
    return format === 'gif'
      ? image.gif({ loop: 0, delay: Array(frames).fill(100) as number[] }).toBuffer()
      : image.webp({ loop: 0, delay: Array(frames).fill(100) as number[] }).toBuffer();
  }
  return image.toFormat(format).toBuffer();
}

export async function binary(
  server: TestServer,
  path: string,
  token?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(server.baseUrl + path, {
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, bytes, json };
}
