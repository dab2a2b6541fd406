/**
 * Token formats. Access tokens look like Synapse's (`syt_<base64 localpart>_<random>_<crc>`), so logs and
 * support tools recognise them; only their sha256 is ever stored.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function randomString(length: number, alphabet = ALPHANUMERIC): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** Synapse-style device ids: ten upper-case letters. */
export function generateDeviceId(): string {
  return randomString(10, UPPER);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function base62(n: number, width: number): string {
  let out = '';
  let v = n >>> 0;
  while (v > 0) {
    out = ALPHANUMERIC[v % 62]! + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

export function crc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** `<prefix>_<b64 localpart>_<20 random alphanumerics (≈119 bits)>_<crc32 base62>`. */
export function generateToken(prefix: 'syt' | 'syr' | 'syl', localpart: string): string {
  const b64 = Buffer.from(localpart, 'utf8').toString('base64url');
  const base = `${prefix}_${b64}_${randomString(20)}`;
  return `${base}_${base62(crc32(base), 6)}`;
}

/** An opaque UIA session id. */
export function generateSessionId(): string {
  return randomBytes(18).toString('base64url');
}
