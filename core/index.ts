/**
 * The public exports for out-of-tree plugins and modules: types, definePlugin, NOT_SPAM.
 * _Added in Axon 0.1._
 */
export * from './plugins/api.js';
export { MatrixError, type MatrixErrcode } from './errors.js';
export type { PduJson, JsonObject, JsonValue } from './protocol/pdu.js';
export { defineModule, type ModuleDefinition } from './define-module.js';
