/**
 * `axon rotate-signing-key -c homeserver.yaml`: replaces the server's signing key with a fresh one and
 * records the old public key, so it is published under `old_verify_keys` (events signed with it stay
 * verifiable). Run it while the server is stopped; the new key is used from the next start.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { validateConfig } from '../../../core/config/compose.js';
import { loadConfigFile } from '../../../core/config/load.js';
import { createLogger } from '../../../core/logger.js';
import type { AnyModuleDefinition, CliCommand } from '../../../core/define-module.js';
import { encodeBase64 } from '../../../core/protocol/base64.js';
import {
  formatSigningKeyFile,
  generateSigningKey,
  parseSigningKeyFile,
} from '../../../core/protocol/signing-key.js';
import { openDatabase } from '../../../core/storage/database.js';
import { migrateToLatest } from '../../../core/storage/migrate.js';
import { FederationStore } from '../store/federation-store.js';
import { federationKeysMigration } from '../store/migrations/20261207120000_federation_keys.js';

const USAGE = 'usage: axon rotate-signing-key -c homeserver.yaml';

export const rotateSigningKeyCommand: CliCommand = {
  summary: 'Replace the signing key with a new one; the old key stays published under old_verify_keys',
  usage: 'rotate-signing-key -c homeserver.yaml',
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      }));
    } catch (err) {
      console.error(`${(err as Error).message}\n${USAGE}`);
      return 1;
    }
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    if (!values.config) {
      console.error(`rotate-signing-key needs -c FILE\n${USAGE}`);
      return 1;
    }
    const configDir = dirname(resolve(values.config));
    const { kernel } = validateConfig(await loadConfigFile(values.config), []);
    const relative = kernel.signing_key_path ?? `${kernel.server_name}.signing.key`;
    const keyPath = isAbsolute(relative) ? relative : resolve(configDir, relative);
    const old = parseSigningKeyFile(await readFile(keyPath, 'utf8'));
    const fresh = generateSigningKey();

    const db = await openDatabase(kernel.database, configDir);
    try {
      const self = {
        name: 'federation',
        migrations: [federationKeysMigration],
      } as unknown as AnyModuleDefinition;
      await migrateToLatest(db, [self], createLogger('silent'));
      // Recorded before the key file changes: a crash in between leaves the old key in use and published.
      await new FederationStore({ db }).addOldSigningKey({
        keyId: old.keyId,
        verifyKey: encodeBase64(old.publicKey),
        expiredTs: Date.now(),
      });
    } finally {
      await db.destroy();
    }
    const temporary = `${keyPath}.new`;
    await writeFile(temporary, formatSigningKeyFile(fresh), { mode: 0o600 });
    await rename(temporary, keyPath);
    console.log(
      `signing key ${old.keyId} retired (published under old_verify_keys); new key ${fresh.keyId} in ${keyPath}`,
    );
    console.log('restart the server to use it');
    return 0;
  },
};
