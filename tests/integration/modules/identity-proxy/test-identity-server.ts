/**
 * A small identity server (Identity Service API v2) for tests, over HTTPS with the federation tests' CA:
 * `/3pid/bind` checks the Bearer id_access_token and a session validated by `validate()`, and returns an
 * association signed with a real ed25519 key; `/3pid/unbind` checks the homeserver's X-Matrix signature
 * with the key it is given; the v1 msisdn endpoints play the phone-number delegate. `mode` makes it answer
 * garbage or hang.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { verifyJsonSignature, signJson } from '../../../../core/protocol/signing.js';
import { generateSigningKey } from '../../../../core/protocol/signing-key.js';
import type { TestCa } from '../federation/test-federation.js';
import { readFileSync } from 'node:fs';

export interface TestIdentityServer {
  /** `127.0.0.1:port`, as a client sends it in id_server. */
  readonly name: string;
  readonly bindings: Map<string, string>;
  readonly unbindRequests: unknown[];
  /** SMS the delegate endpoints "sent" (Identity Service v1 msisdn validation, as Synapse uses it). */
  readonly smsSent: { msisdn: string; code: string }[];
  mode: 'normal' | 'garbage' | 'hang' | 'refuse';
  /** A session the client validated at this identity server: sid → {medium, address, client_secret}. */
  validate(sid: string, clientSecret: string, medium: string, address: string): void;
  /** The homeserver's verify key, to check unbind signatures. */
  trust(serverName: string, keyId: string, publicKey: Uint8Array): void;
}

export const ID_ACCESS_TOKEN = 'id-token-123';
export const SMS_CODE = '123456';

export async function startIdentityServer(t: Test, ca: TestCa): Promise<TestIdentityServer> {
  const key = generateSigningKey();
  const sessions = new Map<string, { clientSecret: string; medium: string; address: string }>();
  const trusted = new Map<string, { keyId: string; publicKey: Uint8Array }>();
  const smsSessions = new Map<string, { msisdn: string; clientSecret: string; validated: boolean }>();
  const state: TestIdentityServer = {
    name: '',
    bindings: new Map(),
    unbindRequests: [],
    smsSent: [],
    mode: 'normal',
    validate: (sid, clientSecret, medium, address) => sessions.set(sid, { clientSecret, medium, address }),
    trust: (serverName, keyId, publicKey) => trusted.set(serverName, { keyId, publicKey }),
  };
  const server: Server = createServer(
    { cert: readFileSync(ca.certPath), key: readFileSync(ca.keyPath) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const reply = (status: number, body: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        if (state.mode === 'hang') return;
        if (state.mode === 'garbage') {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end('<html>not json</html>');
          return;
        }
        if (state.mode === 'refuse') return reply(403, { errcode: 'M_TERMS_NOT_SIGNED', error: 'terms' });
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        const url = new URL(req.url ?? '/', 'https://ids');
        if (url.pathname === '/_matrix/identity/api/v1/validate/msisdn/requestToken') {
          const national = String(body['phone_number']).replace(/\D/g, '').replace(/^0/, '');
          const msisdn = body['country'] === 'GB' ? `44${national}` : national;
          const sid = `sms${smsSessions.size + 1}`;
          smsSessions.set(sid, { msisdn, clientSecret: String(body['client_secret']), validated: false });
          state.smsSent.push({ msisdn, code: SMS_CODE });
          return reply(200, { sid, msisdn, intl_fmt: `+${msisdn}` });
        }
        if (url.pathname === '/_matrix/identity/api/v1/validate/msisdn/submitToken') {
          const session = smsSessions.get(String(body['sid']));
          if (!session || session.clientSecret !== body['client_secret'] || body['token'] !== SMS_CODE) {
            return reply(400, { errcode: 'M_INVALID_PARAM', error: 'bad code' });
          }
          session.validated = true;
          return reply(200, { success: true });
        }
        if (url.pathname === '/_matrix/identity/api/v1/3pid/getValidated3pid') {
          const session = smsSessions.get(url.searchParams.get('sid') ?? '');
          if (!session?.validated || session.clientSecret !== url.searchParams.get('client_secret')) {
            return reply(400, { errcode: 'M_SESSION_NOT_VALIDATED', error: 'not validated' });
          }
          return reply(200, { medium: 'msisdn', address: session.msisdn, validated_at: Date.now() });
        }
        if (req.url === '/_matrix/identity/v2/3pid/bind' && req.method === 'POST') {
          if (req.headers.authorization !== `Bearer ${ID_ACCESS_TOKEN}`) {
            return reply(401, { errcode: 'M_UNAUTHORIZED', error: 'bad id_access_token' });
          }
          const session = sessions.get(String(body['sid']));
          if (!session || session.clientSecret !== body['client_secret']) {
            return reply(400, { errcode: 'M_SESSION_NOT_VALIDATED', error: 'not validated' });
          }
          state.bindings.set(`${session.medium}:${session.address}`, String(body['mxid']));
          const now = Date.now();
          return reply(
            200,
            signJson(
              {
                address: session.address,
                medium: session.medium,
                mxid: body['mxid'],
                not_before: now,
                not_after: now + 1e9,
                ts: now,
              },
              state.name,
              key,
            ),
          );
        }
        if (req.url === '/_matrix/identity/v2/3pid/unbind' && req.method === 'POST') {
          const header = req.headers.authorization ?? '';
          const params = Object.fromEntries(
            [...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]] as [string, string]),
          );
          const origin = params['origin'] ?? '';
          const known = trusted.get(origin);
          const signed = {
            method: 'POST',
            uri: req.url,
            origin,
            destination: params['destination'],
            content: body,
            signatures: { [origin]: { [params['key'] ?? '']: params['sig'] ?? '' } },
          };
          if (
            !header.startsWith('X-Matrix ') ||
            !known ||
            params['key'] !== known.keyId ||
            params['destination'] !== state.name ||
            !verifyJsonSignature(signed, origin, known.keyId, known.publicKey)
          ) {
            return reply(401, { errcode: 'M_UNAUTHORIZED', error: 'bad signature' });
          }
          state.unbindRequests.push(body);
          const threepid = body['threepid'] as { medium: string; address: string };
          state.bindings.delete(`${threepid.medium}:${threepid.address}`);
          return reply(200, {});
        }
        reply(404, { errcode: 'M_UNRECOGNIZED', error: 'unknown endpoint' });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  (state as { name: string }).name = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
