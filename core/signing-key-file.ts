import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { BootError } from './errors.js';
import {
  formatSigningKeyFile,
  generateSigningKey,
  parseSigningKeyFile,
  type SigningKey,
} from './protocol/signing-key.js';

/** Reads the server's signing key; creates it (mode 0600) on first start, as a fresh install needs one. */
export async function loadOrCreateSigningKey(path: string, logger: Logger): Promise<SigningKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new BootError(
        'AXON_ERR_SIGNING_KEY',
        `cannot read signing key ${path}: ${(err as Error).message}`,
      );
    }
    const key = generateSigningKey();
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, formatSigningKeyFile(key), { mode: 0o600, flag: 'wx' });
    logger.info(`generated a new signing key ${key.keyId} in ${path}`);
    return key;
  }
  try {
    return parseSigningKeyFile(text);
  } catch (err) {
    throw new BootError('AXON_ERR_SIGNING_KEY', `signing key ${path}: ${(err as Error).message}`);
  }
}
