/**
 * The users file: `user:hash` lines, `#` comments and blank lines ignored. `user` is a localpart or a
 * full user id; the hash is Argon2 (`$argon2id$…`, as `axon hash-password` and libsodium's
 * crypto_pwhash_str write it) or bcrypt (`$2a$`, `$2b$`, `$2y$`).
 */
import bcrypt from 'bcryptjs';
import sodium from 'sodium-native';

export type HashKind = 'argon2' | 'bcrypt';

export interface UsersFile {
  /** Lower-cased localpart → hash. */
  readonly users: ReadonlyMap<string, { readonly hash: string; readonly kind: HashKind }>;
  /** Lines that were skipped, with why (for the operator's log). */
  readonly skipped: readonly string[];
}

export function hashKind(hash: string): HashKind | undefined {
  if (/^\$argon2(id|i)\$/.test(hash)) return 'argon2';
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  return undefined;
}

/** Parses the file; `serverName` decides which full user ids are local (others are skipped). */
export function parseUsersFile(text: string, serverName: string): UsersFile {
  const users = new Map<string, { hash: string; kind: HashKind }>();
  const skipped: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    // Every supported hash starts with "$"; splitting there keeps a server name's port (`@a:host:8448`) intact.
    let colon = line.indexOf(':$');
    if (colon === -1 && !line.startsWith('@')) colon = line.indexOf(':');
    if (colon <= 0) {
      skipped.push(`line ${i + 1}: not a user:hash line`);
      continue;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1).trim();
    const localpart = localpartOf(user, serverName);
    if (localpart === undefined) {
      skipped.push(`line ${i + 1}: ${user} is not a user of ${serverName}`);
      continue;
    }
    const kind = hashKind(hash);
    if (!kind) {
      skipped.push(`line ${i + 1}: ${user} has an unsupported hash (use Argon2 or bcrypt)`);
      continue;
    }
    users.set(localpart, { hash, kind });
  }
  return { users, skipped };
}

/** The lower-cased localpart of `alice` or `@alice:server`, undefined for another server's user. */
export function localpartOf(user: string, serverName: string): string | undefined {
  if (!user.startsWith('@')) return user.toLowerCase();
  const colon = user.indexOf(':');
  if (colon === -1 || user.slice(colon + 1) !== serverName) return undefined;
  return user.slice(1, colon).toLowerCase();
}

export async function verifyPassword(
  password: string,
  entry: { readonly hash: string; readonly kind: HashKind },
): Promise<boolean> {
  if (entry.kind === 'bcrypt') {
    // $2y$ (PHP's name) is the same algorithm as $2b$.
    return bcrypt.compare(password, entry.hash.replace(/^\$2y\$/, '$2b$'));
  }
  const stored = Buffer.alloc(sodium.crypto_pwhash_STRBYTES);
  if (Buffer.byteLength(entry.hash) >= stored.length) return false;
  stored.write(entry.hash);
  return new Promise((resolve) => {
    sodium.crypto_pwhash_str_verify_async(stored, Buffer.from(password, 'utf8'), (err, ok) =>
      resolve(!err && ok),
    );
  });
}
