import type { Migration } from '../../../../core/define-module.js';
import { identityProxyInit } from './001-identity-proxy-init.js';
import { identityProxyIdServerBindings } from './002-identity-proxy-id-server-bindings.js';

export const identityProxyMigrations: readonly Migration[] = [
  identityProxyInit,
  identityProxyIdServerBindings,
];
