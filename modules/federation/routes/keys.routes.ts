/** `/_matrix/key/v2/server` (our keys) and the notary `/_matrix/key/v2/query`; unauthenticated, as the spec says. */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readJson } from '../../../core/http/body.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { isValidServerName } from '../../../core/protocol/identifiers.js';
import type { NotaryCriteria } from '../services/notary.js';

/** Servers one POST may ask about (each may cost an outbound fetch). */
const MAX_SERVERS_PER_QUERY = 100;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function minimumValidUntil(value: unknown, where: string): number {
  if (value === undefined) return Date.now();
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new MatrixError(
      400,
      where === 'query' ? 'M_INVALID_PARAM' : 'M_BAD_JSON',
      'minimum_valid_until_ts must be an integer',
    );
  }
  return n;
}

export function keysRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/key/v2/server', async (ctx) => {
    ctx.body = cradle.federationOwnKeys.response();
  });
  // The `{keyId}` form, removed in spec v1.6, is what servers before it (Synapse up to 1.75) still ask for;
  // the answer is the same whole set, as Synapse serves it.
  router.get('/_matrix/key/v2/server/:keyId', async (ctx) => {
    ctx.body = cradle.federationOwnKeys.response();
  });

  router.get('/_matrix/key/v2/query/:serverName', async (ctx) => {
    const serverName = ctx.params['serverName'] ?? '';
    if (!isValidServerName(serverName)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid server name');
    const raw = ctx.query['minimum_valid_until_ts'];
    const minimum = minimumValidUntil(Array.isArray(raw) ? raw[0] : raw, 'query');
    ctx.body = await cradle.federationNotary.query(
      new Map([[serverName, { keyIds: [], minimumValidUntilTs: minimum }]]),
    );
  });

  router.post('/_matrix/key/v2/query', async (ctx) => {
    const body = await readJson(ctx);
    if (!isRecord(body)) throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
    const serverKeys = body['server_keys'];
    if (serverKeys === undefined)
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: server_keys');
    if (!isRecord(serverKeys)) throw new MatrixError(400, 'M_BAD_JSON', 'server_keys must be an object');
    const names = Object.keys(serverKeys);
    if (names.length > MAX_SERVERS_PER_QUERY) {
      throw new MatrixError(400, 'M_BAD_JSON', `At most ${MAX_SERVERS_PER_QUERY} servers per query`);
    }
    const criteria = new Map<string, NotaryCriteria>();
    for (const name of names) {
      if (!isValidServerName(name))
        throw new MatrixError(400, 'M_BAD_JSON', `Invalid server name ${JSON.stringify(name)}`);
      const keys = serverKeys[name];
      if (!isRecord(keys)) throw new MatrixError(400, 'M_BAD_JSON', `server_keys.${name} must be an object`);
      let minimum = 0;
      for (const [keyId, c] of Object.entries(keys)) {
        if (!isRecord(c))
          throw new MatrixError(400, 'M_BAD_JSON', `server_keys.${name}.${keyId} must be an object`);
        minimum = Math.max(minimum, minimumValidUntil(c['minimum_valid_until_ts'], 'body'));
      }
      criteria.set(name, {
        keyIds: Object.keys(keys),
        minimumValidUntilTs: Object.keys(keys).length === 0 ? Date.now() : minimum,
      });
    }
    ctx.body = await cradle.federationNotary.query(criteria);
  });
}
