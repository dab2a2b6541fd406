/**
 * GET /_matrix/client/versions tells the truth: v1.N is advertised only when every client-server endpoint the
 * spec has added up to v1.N (the `x-addedInMatrixVersion` of each operation in /work/shared/matrix-spec's
 * OpenAPI; v1.0 for those without one) is served, outside the optional parts listed in NOT_SERVED (the
 * README's "Spec versions" names the same). Each endpoint is probed over HTTP without a token: an unbuilt
 * one answers 404/405 M_UNRECOGNIZED, a built one anything else (401, 400, 404 M_NOT_FOUND...).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { SUPPORTED_SPEC_VERSIONS } from '../../../../modules/discovery/services/discovery-service.js';
import { startServer } from '../../../helpers/start-server.js';

const SPEC = '/work/shared/matrix-spec/api/client-server';

/** Optional parts of the spec Axon does not serve: they do not hold a version back. */
const NOT_SERVED: readonly (readonly [string, RegExp])[] = [
  ['third-party identifiers and identity servers', /\/3pid\/|\/requestToken$/],
  ['single sign-on', /\/login\/sso\//],
  ['OAuth 2.0 API (auth_metadata)', /\/auth_metadata$/],
  ['login tokens (login/get_token)', /\/login\/get_token$/],
  ['third-party networks', /\/thirdparty\//],
  ['application services', /\/appservice\//],
  ['VoIP (TURN servers)', /\/voip\//],
  ['server-side search', /\/v3\/search$/],
  ['push gateways (pushers)', /\/pushers/],
  ['user directory', /\/user_directory\//],
  ['reporting content', /\/report(\/|$)/],
  ['server administration', /\/admin\//],
  ['OpenID tokens', /\/openid\//],
  ['policy servers', /policy_server$/],
  ['support contacts', /\/matrix\/support$/],
  ['legacy peeking (/events, /rooms/{roomId}/initialSync)', /\/v3\/events$|\/initialSync$/],
];

interface Operation {
  readonly version: string;
  readonly method: string;
  readonly path: string;
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const file of readdirSync(SPEC).filter((f) => f.endsWith('.yaml'))) {
    const doc = parse(readFileSync(join(SPEC, file), 'utf8')) as {
      servers?: { variables?: { basePath?: { default?: string } } }[];
      paths?: Record<string, Record<string, { 'x-addedInMatrixVersion'?: string; deprecated?: boolean }>>;
    };
    const base = doc.servers?.[0]?.variables?.basePath?.default ?? '';
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      for (const [method, op] of Object.entries(ops)) {
        if (!['get', 'put', 'post', 'delete'].includes(method) || op.deprecated) continue;
        const full = (base + path).trim();
        if (NOT_SERVED.some(([, pattern]) => pattern.test(full))) continue;
        out.push({
          version: op['x-addedInMatrixVersion'] ?? '1.0',
          method: method.toUpperCase(),
          path: full,
        });
      }
    }
  }
  return out;
}

/** The latest version the spec files know: the highest `x-addedInMatrixVersion` anywhere in them. */
function specLatest(): number {
  const texts = readdirSync(SPEC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => readFileSync(join(SPEC, f), 'utf8'));
  return Math.max(
    ...texts.flatMap((text) =>
      [...text.matchAll(/x-addedInMatrixVersion: "1\.(\d+)"/g)].map((m) => Number(m[1])),
    ),
  );
}

const minor = (v: string): number => Number(v.replace(/^v/, '').split('.')[1]);

async function unrecognized(baseUrl: string, op: Operation): Promise<boolean> {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    encodeURIComponent(
      /room/i.test(name) ? '!probe:test.local' : /user/i.test(name) ? '@probe:test.local' : 'probe',
    ),
  );
  const withBody = op.method === 'PUT' || op.method === 'POST';
  const res = await fetch(baseUrl + path, {
    method: op.method,
    headers: withBody ? { 'content-type': 'application/json' } : {},
    body: withBody ? '{}' : undefined,
    redirect: 'manual',
  });
  const text = await res.text();
  return (res.status === 404 || res.status === 405) && text.includes('"M_UNRECOGNIZED"');
}

void t.test(
  'the advertised versions are every v1.x whose endpoints are all served',
  { skip: !existsSync(SPEC) && `${SPEC} is absent` },
  async (t) => {
    const server = await startServer(t, {
      config: { modules: { presence: true }, url_preview_enabled: true, url_preview_ip_range_blacklist: [] },
    });
    const ops = operations();
    const missing = new Map<number, string[]>();
    for (const op of ops) {
      if (!(await unrecognized(server.baseUrl, op))) continue;
      missing.set(minor(op.version), [...(missing.get(minor(op.version)) ?? []), `${op.method} ${op.path}`]);
    }
    const firstGap = Math.min(...missing.keys(), Infinity);
    const served = Math.min(firstGap - 1, specLatest());
    t.same(Object.fromEntries(missing), {}, 'every endpoint outside NOT_SERVED is served');
    const advertised = SUPPORTED_SPEC_VERSIONS.filter((v) => v.startsWith('v1.'));
    t.same(
      advertised,
      Array.from({ length: served }, (_, i) => `v1.${i + 1}`),
      `v1.1 to v1.${served} advertised`,
    );
    const versions = await server.request('GET', '/_matrix/client/versions');
    t.same(versions.body.versions, SUPPORTED_SPEC_VERSIONS);
  },
);
