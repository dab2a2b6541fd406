/**
 * The public exports for out-of-tree plugins and modules: the plugin API types, definePlugin, NOT_SPAM, and
 * TypeBox's `Type` for a plugin's config schema, so a one-file plugin imports from one place.
 * _Added in Axon 0.1._
 */
export * from './plugins/api.js';
export { Type, type Static, type TSchema } from '@sinclair/typebox';
export { MatrixError, type MatrixErrcode } from './errors.js';
export type { PduJson, JsonObject, JsonValue } from './protocol/pdu.js';
export { defineModule, type ModuleDefinition } from './define-module.js';
