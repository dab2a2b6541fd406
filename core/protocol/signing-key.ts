/**
 * The server's ed25519 signing key, in Synapse's file format so a Synapse key file can be reused:
 * one line per key, `ed25519 <version> <unpadded base64 of the 32-byte seed>`.
 */
import sodium from 'sodium-native';
import { decodeBase64, encodeBase64 } from './base64.js';

export interface SigningKey {
  /** `ed25519:<version>`, as it appears in `signatures` and `verify_keys`. */
  readonly keyId: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  /** libsodium's 64-byte secret key (seed + public key). */
  readonly secretKey: Uint8Array;
}

const KEY_VERSION = /^[A-Za-z0-9_]+$/;

export function signingKeyFromSeed(version: string, seed: Uint8Array): SigningKey {
  if (!KEY_VERSION.test(version)) throw new Error(`invalid key version "${version}"`);
  if (seed.length !== sodium.crypto_sign_SEEDBYTES) throw new Error('an ed25519 seed is 32 bytes');
  const publicKey = Buffer.alloc(sodium.crypto_sign_PUBLICKEYBYTES);
  const secretKey = Buffer.alloc(sodium.crypto_sign_SECRETKEYBYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, Buffer.from(seed));
  return { keyId: `ed25519:${version}`, seed, publicKey, secretKey };
}

/** A new key with a random version `a_XXXX`, as Synapse names them. */
export function generateSigningKey(): SigningKey {
  const seed = Buffer.alloc(sodium.crypto_sign_SEEDBYTES);
  sodium.randombytes_buf(seed);
  const versionBytes = Buffer.alloc(3);
  sodium.randombytes_buf(versionBytes);
  const version =
    'a_' +
    encodeBase64(versionBytes)
      .replace(/[^A-Za-z0-9]/g, 'x')
      .slice(0, 4);
  return signingKeyFromSeed(version, seed);
}

/** Parses a key file; the first ed25519 line is the signing key. Throws with a reason on a malformed file. */
export function parseSigningKeyFile(text: string): SigningKey {
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [algorithm, version, seedText, ...rest] = line.split(/\s+/);
    if (algorithm !== 'ed25519' || !version || !seedText || rest.length > 0) {
      throw new Error(`line ${i + 1}: expected "ed25519 <version> <base64 seed>"`);
    }
    const seed = decodeBase64(seedText);
    if (!seed || seed.length !== 32) throw new Error(`line ${i + 1}: the seed is not 32 bytes of base64`);
    return signingKeyFromSeed(version, seed);
  }
  throw new Error('no ed25519 key in the file');
}

export function formatSigningKeyFile(key: SigningKey): string {
  return `ed25519 ${key.keyId.slice('ed25519:'.length)} ${encodeBase64(key.seed)}\n`;
}
