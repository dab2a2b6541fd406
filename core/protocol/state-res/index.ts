/** State resolution: {@link resolveState} and the loader boundary it needs. */
export { resolveState } from './resolve-state.js';
export type { ResolveOptions, StateResLoader } from './types.js';
