/** Boot order from `requires`: every requirement enabled, no cycles; errors name both modules. */
import { BootError } from './errors.js';
import type { AnyModuleDefinition } from './define-module.js';

export function orderModules(
  enabled: readonly AnyModuleDefinition[],
  available: readonly AnyModuleDefinition[],
): AnyModuleDefinition[] {
  const enabledByName = new Map(enabled.map((m) => [m.name, m]));
  const availableNames = new Set(available.map((m) => m.name));
  const problems: string[] = [];
  for (const module of enabled) {
    for (const dep of module.requires ?? []) {
      if (!availableNames.has(dep))
        problems.push(`module "${module.name}" requires "${dep}", which does not exist`);
      else if (!enabledByName.has(dep)) {
        problems.push(
          `module "${module.name}" requires module "${dep}", which is disabled: enable "${dep}" ` +
            `(modules: { ${dep}: true }) or disable "${module.name}"`,
        );
      }
    }
  }
  if (problems.length > 0)
    throw new BootError('AXON_ERR_MODULE_DEPENDENCY_DISABLED', 'module dependencies', problems);

  const ordered: AnyModuleDefinition[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (module: AnyModuleDefinition, chain: string[]): void => {
    const s = state.get(module.name);
    if (s === 'done') return;
    if (s === 'visiting') {
      throw new BootError(
        'AXON_ERR_MODULE_DEPENDENCY_CYCLE',
        `module dependency cycle: ${[...chain, module.name].join(' -> ')}`,
      );
    }
    state.set(module.name, 'visiting');
    for (const dep of module.requires ?? []) visit(enabledByName.get(dep)!, [...chain, module.name]);
    state.set(module.name, 'done');
    ordered.push(module);
  };
  for (const module of enabled) visit(module, []);
  return ordered;
}
