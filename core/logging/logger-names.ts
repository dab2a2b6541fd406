/**
 * Logger names. Axon's loggers are pino children; each has a dotted name in the manner of Python's loggers,
 * derived from its bindings, so that a Synapse log config's `loggers:` can set levels and handlers per part.
 *
 *   root logger                         axon
 *   { module: 'rooms' }                 axon.rooms
 *   { module: 'auth', component: 'auth-login' }   axon.auth.login
 *   { plugin: 'keyword-filter' }        axon.plugins.keyword-filter
 *   { listener: '0:8008' }              axon.http          (request errors)
 *   { name: 'axon.access.http.8008' }   the access log, one line per request
 *   { name: 'axon.storage.SQL' }        every SQL statement, at DEBUG
 */

export const ROOT_NAME = 'axon';

/** The bindings (or fields) that name a logger. */
export function loggerNameOf(fields: Readonly<Record<string, unknown>>): string {
  const { name, plugin, module, component, listener } = fields;
  if (typeof name === 'string') return name;
  if (typeof plugin === 'string') return `${ROOT_NAME}.plugins.${plugin}`;
  if (typeof module === 'string') {
    if (typeof component !== 'string') return `${ROOT_NAME}.${module}`;
    const short = component.startsWith(`${module}-`) ? component.slice(module.length + 1) : component;
    return `${ROOT_NAME}.${module}.${short}`;
  }
  if (typeof component === 'string') return `${ROOT_NAME}.${component}`;
  if (typeof listener === 'string') return `${ROOT_NAME}.http`;
  return ROOT_NAME;
}

/**
 * Synapse's logger names and the Axon logger that does the same job; longest prefix first, and what follows
 * the prefix is kept (`synapse.access.http.8008` → `axon.access.http.8008`). A name under none of these
 * (`twisted`, `synapse.util.caches`) is accepted and simply matches no Axon logger.
 */
const SYNAPSE_PREFIXES: readonly (readonly [string, string])[] = [
  ['synapse.storage.SQL', 'axon.storage.SQL'],
  ['synapse.storage', 'axon.storage'],
  ['synapse.access', 'axon.access'],
  ['synapse.http.matrixfederationclient', 'axon.federation'],
  ['synapse.federation', 'axon.federation'],
  ['synapse.crypto.keyring', 'axon.federation.key-ring'],
  ['synapse.handlers.presence', 'axon.presence'],
  ['synapse.handlers.sync', 'axon.sync'],
  ['synapse.handlers.e2e_keys', 'axon.e2ee'],
  ['synapse.handlers.device', 'axon.e2ee'],
  ['synapse.handlers.auth', 'axon.auth'],
  ['synapse.handlers.register', 'axon.auth'],
  ['synapse.handlers.room_member', 'axon.rooms'],
  ['synapse.handlers.room', 'axon.rooms'],
  ['synapse.handlers.message', 'axon.rooms'],
  ['synapse.handlers.typing', 'axon.typing'],
  ['synapse.handlers.receipts', 'axon.receipts'],
  ['synapse.handlers.directory', 'axon.directory'],
  ['synapse.handlers.identity', 'axon.identity-proxy'],
  ['synapse.rest.media', 'axon.media'],
  ['synapse.media', 'axon.media'],
  ['synapse.push', 'axon.push-rules'],
  ['synapse.module_api', 'axon.plugins'],
  ['synapse.events.spamcheck', 'axon.plugins'],
  ['synapse.http', 'axon.http'],
  ['synapse', 'axon'],
];

/** A `loggers:` key of a log config as the Axon logger name it sets (Axon's own names pass unchanged). */
export function axonLoggerName(configName: string): string {
  for (const [synapse, axon] of SYNAPSE_PREFIXES) {
    if (configName === synapse) return axon;
    if (configName.startsWith(`${synapse}.`)) return axon + configName.slice(synapse.length);
  }
  return configName;
}

/** `axon.access.http.8008`, `axon.access.http`, `axon.access`, `axon`: the name and its ancestors. */
export function nameAndAncestors(name: string): string[] {
  const parts = name.split('.');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('.'));
}
