/** Shared pieces of the media integration tests: a server with media enabled, users, images. */
import sharp from 'sharp';
import type { Test } from 'tap';
import { startServer, type StartOptions, type TestServer } from '../../../helpers/start-server.js';
import { asValue } from 'awilix';
import { MatrixError } from '../../../../core/errors.js';
import { defineModule } from '../../../../core/define-module.js';
import { builtinModules } from '../../../../modules/index.js';

export interface TestUser {
  readonly userId: string;
  readonly accessToken: string;
}

// TEMPORARY until the auth branch lands: tokens are `token:<localpart>`, admins are localparts starting with admin.
const fakeAuth = defineModule({
  name: 'fake-auth',
  description: 'test-only access tokens',
  enabledByDefault: true,
  register({ container }) {
    const serverName = container.cradle.serverName;
    container.register({
      accessTokenResolver: asValue({
        async resolve(token: string) {
          const m = /^token:([a-z0-9]+)$/.exec(token);
          if (!m) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token.');
          return { userId: `@${m[1]}:${serverName}`, deviceId: 'DEV', isGuest: false, accessTokenId: token };
        },
      }),
      authApi: asValue({ isServerAdmin: async (userId: string) => userId.startsWith('@admin') }),
    } as never);
  },
});

let counter = 0;

export async function startMediaServer(t: Test, options: StartOptions = {}): Promise<TestServer> {
  return startServer(t, { ...options, modules: [...builtinModules, fakeAuth] });
}

export async function makeTestUser(_server: TestServer, admin = false): Promise<TestUser> {
  const localpart = `${admin ? 'admin' : 'user'}${++counter}`;
  return { userId: `@${localpart}:${_server.serverName}`, accessToken: `token:${localpart}` };
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
