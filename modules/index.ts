/**
 * The built-in modules, listed explicitly (never globbed). Order here does not matter: boot order comes from
 * each module's `requires`. Switch them on and off under `modules:` in homeserver.yaml.
 */
import type { AnyModuleDefinition } from '../core/define-module.js';
import auth from './auth/index.js';
import directory from './directory/index.js';
import discovery from './discovery/index.js';
import media from './media/index.js';
import rooms from './rooms/index.js';
import urlPreviews from './url-previews/index.js';

export const builtinModules: readonly AnyModuleDefinition[] = [
  discovery,
  auth,
  rooms,
  directory,
  media,
  urlPreviews,
];
