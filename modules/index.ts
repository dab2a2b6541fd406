/**
 * The built-in modules, listed explicitly (never globbed). Order here does not matter: boot order comes from
 * each module's `requires`. Switch them on and off under `modules:` in homeserver.yaml.
 */
import type { AnyModuleDefinition } from '../core/define-module.js';
import accountData from './account-data/index.js';
import auth from './auth/index.js';
import directory from './directory/index.js';
import discovery from './discovery/index.js';
import e2ee from './e2ee/index.js';
import federation from './federation/index.js';
import identityProxy from './identity-proxy/index.js';
import media from './media/index.js';
import presence from './presence/index.js';
import pushRules from './push-rules/index.js';
import rateLimits from './rate-limits/index.js';
import receipts from './receipts/index.js';
import rooms from './rooms/index.js';
import sync from './sync/index.js';
import toDevice from './to-device/index.js';
import typing from './typing/index.js';
import urlPreviews from './url-previews/index.js';

export const builtinModules: readonly AnyModuleDefinition[] = [
  discovery,
  auth,
  rateLimits,
  rooms,
  directory,
  accountData,
  toDevice,
  sync,
  typing,
  receipts,
  presence,
  pushRules,
  e2ee,
  media,
  urlPreviews,
  federation,
  identityProxy,
];
