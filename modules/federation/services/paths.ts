import { isAbsolute, resolve } from 'node:path';

/** A config path, relative paths resolved against the config file's directory. */
export function resolvePathAgainst(configDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(configDir, path);
}
