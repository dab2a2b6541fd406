/**
 * A server with every module e2ee works with (auth, rooms, sync, to-device), and a tiny test "device" that
 * makes real ed25519 keys and signs its uploads the way a client does.
 */
import { randomBytes } from 'node:crypto';
import sodium from 'sodium-native';
import type { Test } from 'tap';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import type { AnyModuleDefinition } from '../../../../core/define-module.js';
import { encodeBase64 } from '../../../../core/protocol/base64.js';
import type { SigningKey } from '../../../../core/protocol/signing-key.js';
import { signJson } from '../../../../core/protocol/signing.js';
import accountData from '../../../../modules/account-data/index.js';
import auth from '../../../../modules/auth/index.js';
import discovery from '../../../../modules/discovery/index.js';
import e2ee from '../../../../modules/e2ee/index.js';
import rooms from '../../../../modules/rooms/index.js';
import sync from '../../../../modules/sync/index.js';
import toDevice from '../../../../modules/to-device/index.js';
import { makeUser, openRegistrationConfig, type TestUser } from '../../../helpers/fixtures.js';
import { startServer, type TestServer } from '../../../helpers/start-server.js';

export const e2eeModules = [discovery, auth, rooms, accountData, toDevice, sync, e2ee];

export function startE2eeServer(
  t: Test,
  database?: DatabaseConfig,
  extraModules: readonly AnyModuleDefinition[] = [],
): Promise<TestServer> {
  return startServer(t, {
    ...(database ? { database } : {}),
    config: { ...openRegistrationConfig },
    modules: [...e2eeModules, ...extraModules],
  });
}

/** An ed25519 key pair whose key id is `ed25519:<name>` (a device id or the public key itself). */
export function ed25519Key(name?: string): SigningKey & { publicKeyB64: string } {
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  const seed = randomBytes(sodium.crypto_sign_SEEDBYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  const publicKeyB64 = encodeBase64(publicKey);
  return { keyId: `ed25519:${name ?? publicKeyB64}`, seed, publicKey, secretKey, publicKeyB64 };
}

export function sign<T extends object>(obj: T, userId: string, key: SigningKey): T {
  return signJson(obj, userId, key);
}

/** A user's device with its identity key, able to produce signed uploads. */
export class TestDevice {
  readonly key: ReturnType<typeof ed25519Key>;
  readonly curve25519 = encodeBase64(randomBytes(32));
  private next = 0;

  constructor(readonly user: TestUser) {
    this.key = ed25519Key(user.deviceId);
  }

  get userId(): string {
    return this.user.userId;
  }

  get deviceId(): string {
    return this.user.deviceId;
  }

  deviceKeys(): Record<string, unknown> {
    return sign(
      {
        user_id: this.userId,
        device_id: this.deviceId,
        algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
        keys: {
          [`curve25519:${this.deviceId}`]: this.curve25519,
          [`ed25519:${this.deviceId}`]: this.key.publicKeyB64,
        },
      },
      this.userId,
      this.key,
    );
  }

  /** `count` signed_curve25519 one-time keys with fresh ids. */
  oneTimeKeys(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const id = `AAAA${(this.next++).toString().padStart(4, '0')}`;
      out[`signed_curve25519:${id}`] = sign(
        { key: encodeBase64(randomBytes(32)), ...extra },
        this.userId,
        this.key,
      );
    }
    return out;
  }

  upload(server: TestServer, body: Record<string, unknown>) {
    return server.request('POST', '/_matrix/client/v3/keys/upload', { token: this.user.accessToken, body });
  }
}

export async function makeDevice(server: TestServer, localpart?: string): Promise<TestDevice> {
  return new TestDevice(await makeUser(server, localpart ? { localpart } : {}));
}

/** Master, self-signing and user-signing keys for a user, signed as the spec requires. */
export function crossSigningKeys(userId: string) {
  const master = ed25519Key();
  const selfSigning = ed25519Key();
  const userSigning = ed25519Key();
  const keyObj = (k: ReturnType<typeof ed25519Key>, usage: string) => ({
    user_id: userId,
    usage: [usage],
    keys: { [k.keyId]: k.publicKeyB64 },
  });
  return {
    master,
    selfSigning,
    userSigning,
    body: {
      master_key: keyObj(master, 'master'),
      self_signing_key: sign(keyObj(selfSigning, 'self_signing'), userId, master),
      user_signing_key: sign(keyObj(userSigning, 'user_signing'), userId, master),
    },
  };
}

export async function createRoom(server: TestServer, token: string, body: Record<string, unknown> = {}) {
  const res = await server.request('POST', '/_matrix/client/v3/createRoom', { token, body });
  if (res.status !== 200) throw new Error(`createRoom failed: ${res.status} ${res.text}`);
  return res.body.room_id as string;
}

export async function join(server: TestServer, token: string, roomId: string): Promise<void> {
  const res = await server.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
    token,
    body: {},
  });
  if (res.status !== 200) throw new Error(`join failed: ${res.status} ${res.text}`);
}

export async function leave(server: TestServer, token: string, roomId: string): Promise<void> {
  const res = await server.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/leave`, {
    token,
    body: {},
  });
  if (res.status !== 200) throw new Error(`leave failed: ${res.status} ${res.text}`);
}

export async function syncOnce(server: TestServer, token: string, since?: string) {
  const q = since ? `?since=${encodeURIComponent(since)}&timeout=0` : '?timeout=0';
  const res = await server.request('GET', `/_matrix/client/v3/sync${q}`, { token });
  if (res.status !== 200) throw new Error(`sync failed: ${res.status} ${res.text}`);
  return res.body;
}
