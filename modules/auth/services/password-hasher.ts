/**
 * Password hashing: Argon2id through libsodium (sodium-native), run on libuv's thread pool so a hash never
 * blocks the event loop. Hashes written by Synapse (bcrypt, `$2b$`) still verify, so users moved from
 * Synapse keep their passwords.
 */
import { MatrixError } from '../../../core/errors.js';
import sodium from 'sodium-native';
import bcrypt from 'bcryptjs';

/** libsodium's "interactive" limits: 64 MiB and 2 passes, about 0.1 s on a current core. */
export const DEFAULT_OPSLIMIT = sodium.crypto_pwhash_OPSLIMIT_INTERACTIVE;
export const DEFAULT_MEMLIMIT = sodium.crypto_pwhash_MEMLIMIT_INTERACTIVE;

export interface PasswordHasherOptions {
  readonly opslimit?: number;
  readonly memlimit?: number;
}

export class PasswordHasher {
  private readonly opslimit: number;
  private readonly memlimit: number;

  constructor(options: PasswordHasherOptions = {}) {
    this.opslimit = options.opslimit ?? DEFAULT_OPSLIMIT;
    this.memlimit = options.memlimit ?? DEFAULT_MEMLIMIT;
  }

  /** An Argon2id hash in the PHC string format (`$argon2id$v=19$m=…,t=…,p=1$salt$hash`). */
  hash(password: string): Promise<string> {
    // sodium asserts on an empty password (a 500); refuse it as a client error instead.
    if (password === '')
      return Promise.reject(new MatrixError(400, 'M_WEAK_PASSWORD', 'Password may not be empty'));
    const out = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
    return new Promise((resolve, reject) => {
      sodium.crypto_pwhash_str_async(
        out,
        Buffer.from(password, 'utf8'),
        this.opslimit,
        this.memlimit,
        (err) => {
          if (err) reject(err);
          else resolve(out.toString('utf8').replace(/\0+$/, ''));
        },
      );
    });
  }

  /** Whether `password` matches `hash` (Argon2id, or bcrypt as Synapse wrote it). */
  async verify(password: string, hash: string): Promise<boolean> {
    if (/^\$2[aby]\$/.test(hash)) return bcrypt.compare(password, hash);
    if (!hash.startsWith('$argon2')) return false;
    if (password === '') return false; // sodium asserts on an empty password; no stored hash is of one
    const str = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
    const bytes = Buffer.from(hash, 'utf8');
    if (bytes.length >= str.length) return false;
    bytes.copy(str);
    return new Promise((resolve) => {
      sodium.crypto_pwhash_str_verify_async(str, Buffer.from(password, 'utf8'), (err, ok) =>
        resolve(!err && ok),
      );
    });
  }
}
