/**
 * A test federation on loopback: a CA made once per test file with openssl, a certificate for localhost and
 * 127.0.0.1 signed by it, and Axon servers named `localhost:PORT` whose federation listener serves HTTPS on
 * that port (their client listener stays plain HTTP on a random port).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import {
  formatSigningKeyFile,
  generateSigningKey,
  type SigningKey,
} from '../../../../core/protocol/signing-key.js';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import { encodeBase64 } from '../../../../core/protocol/base64.js';
import type { FederationRequestError } from '../../../../modules/federation/api.js';
import { startServer, type TestServer } from '../../../helpers/start-server.js';
import { writeTestCa } from '../../../helpers/test-ca.js';
import type { EngineName } from '../../../helpers/with-all-databases.js';

export interface TestCa {
  readonly dir: string;
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly ca: Buffer;
}

/** A CA and a leaf certificate for localhost / 127.0.0.1 / ::1, removed when `t` ends. */
export async function makeTestCa(t: Test): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-ca-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files = await writeTestCa(dir);
  return { dir, ...files, ca: await readFile(files.caPath) };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface FederatedServer extends TestServer {
  readonly federationPort: number;
  readonly signingKey: SigningKey;
  /** `{ "ed25519:…": base64 }`, for trusted_key_servers.verify_keys. */
  readonly verifyKeys: Record<string, string>;
}

/** An Axon server named `localhost:PORT` (or `127.0.0.1:PORT`) with an HTTPS federation listener on PORT, trusting the test CA. */
export async function startFederatedServer(
  t: Test,
  ca: TestCa,
  config: Record<string, unknown> = {},
  /** The host part of the server name: `localhost` or the IP literal `127.0.0.1`. */
  host: 'localhost' | '127.0.0.1' = 'localhost',
  /** To restart a server: its port (hence name), key and database; or an engine for a fresh database. */
  options: {
    federationPort?: number;
    signingKey?: SigningKey;
    database?: DatabaseConfig;
    engine?: EngineName;
  } = {},
): Promise<FederatedServer> {
  // A port picked free can be taken by another test process before we bind it: pick another then.
  for (let attempt = 1; options.federationPort === undefined; attempt++) {
    try {
      return await startFederatedServerOn(t, ca, config, host, {
        ...options,
        federationPort: await freePort(),
      });
    } catch (err) {
      if ((err as { code?: string }).code !== 'AXON_ERR_PORT_IN_USE' || attempt >= 5) throw err;
    }
  }
  return startFederatedServerOn(t, ca, config, host, { ...options, federationPort: options.federationPort });
}

async function startFederatedServerOn(
  t: Test,
  ca: TestCa,
  config: Record<string, unknown>,
  host: 'localhost' | '127.0.0.1',
  options: {
    federationPort: number;
    signingKey?: SigningKey;
    database?: DatabaseConfig;
    engine?: EngineName;
  },
): Promise<FederatedServer> {
  const federationPort = options.federationPort;
  const signingKey = options.signingKey ?? generateSigningKey();
  const keyDir = await mkdtemp(join(tmpdir(), 'axon-key-'));
  t.teardown(() => rm(keyDir, { recursive: true, force: true }));
  const signingKeyPath = join(keyDir, 'signing.key');
  await writeFile(signingKeyPath, formatSigningKeyFile(signingKey), { mode: 0o600 });
  const server = await startServer(t, {
    serverName: `${host}:${federationPort}`,
    ...(options.database ? { database: options.database } : {}),
    ...(options.engine ? { engine: options.engine } : {}),
    config: {
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
        {
          port: federationPort,
          bind_addresses: ['127.0.0.1'],
          tls: true,
          resources: [{ names: ['federation'] }],
        },
      ],
      tls_certificate_path: ca.certPath,
      tls_private_key_path: ca.keyPath,
      signing_key_path: signingKeyPath,
      federation_custom_ca_list: [ca.caPath],
      ip_range_whitelist: ['127.0.0.0/8'],
      trusted_key_servers: [],
      ...config,
    },
  });
  return {
    ...server,
    federationPort,
    signingKey,
    verifyKeys: { [signingKey.keyId]: encodeBase64(signingKey.publicKey) },
  };
}

export interface RawResponse {
  readonly status: number;
  // Tests read arbitrary JSON shapes.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** A raw HTTPS request to a federation listener (for hand-made Authorization headers). */
export function rawFederationRequest(
  ca: TestCa,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      { host: '127.0.0.1', port, method, path, servername: 'localhost', ca: ca.ca, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = text;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The FederationRequestError a request fails with (the test fails if it succeeds). */
export async function failure(p: Promise<unknown>): Promise<FederationRequestError> {
  try {
    await p;
  } catch (err) {
    return err as FederationRequestError;
  }
  throw new Error('the request succeeded');
}
