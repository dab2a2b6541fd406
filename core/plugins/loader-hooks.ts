/**
 * Module hooks for plugins written outside this repository, registered by resolve-module.ts (through
 * `module.register`) only when such a plugin is configured. They run in Node's module-hooks thread, after
 * tsx's hooks when TypeScript is loaded, and do two things:
 *
 * - `import ... from 'axon'` resolves to this server's public exports (core/index), from any folder: a plugin
 *   beside homeserver.yaml is outside this package, where Node's self-reference does not reach. The mapped
 *   URL goes on down the chain (never short-circuits), so tsx still loads core/index.ts from sources.
 * - A `.ts` or `.js` file outside this package and outside node_modules, in a folder whose package.json
 *   does not declare a `"type"` (or that has none), loads as an ES module: plugins are ES modules, and
 *   without this tsx would compile such a file to CommonJS, where `import 'axon'` becomes a `require` these
 *   hooks never see.
 */
import { readFileSync } from 'node:fs';
import type { InitializeHook, ResolveHook } from 'node:module';
import { dirname, extname, join, relative, isAbsolute, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LoaderHooksData {
  /** URL of this server's public exports, core/index.ts or dist/core/index.js. */
  readonly axonExports: string;
  /** The repository root: its files keep the format their package.json gives them. */
  readonly packageRoot: string;
}

let data: LoaderHooksData = { axonExports: '', packageRoot: '' };

export const initialize: InitializeHook<LoaderHooksData> = (given) => {
  data = given;
};

export const resolve: ResolveHook = async (specifier, context, next) => {
  const result = await next(specifier === 'axon' ? data.axonExports : specifier, context);
  if (result.format === 'commonjs' && result.url.startsWith('file:')) {
    const file = fileURLToPath(result.url);
    if ((extname(file) === '.ts' || extname(file) === '.js') && isPluginFile(file) && !declaresType(file)) {
      return { ...result, format: 'module' };
    }
  }
  return result;
};

function isPluginFile(file: string): boolean {
  const rel = relative(data.packageRoot, file);
  const inPackage = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return !inPackage && !file.split(sep).includes('node_modules');
}

const typeDeclared = new Map<string, boolean>();

/** Whether the nearest package.json above `file` has a "type" field. */
function declaresType(file: string): boolean {
  const dir = dirname(file);
  let known = typeDeclared.get(dir);
  if (known === undefined) {
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined) known = dirname(dir) !== dir && declaresType(dir);
    else {
      try {
        known = typeof (JSON.parse(text) as { type?: unknown }).type === 'string';
      } catch {
        known = false;
      }
    }
    typeDeclared.set(dir, known);
  }
  return known;
}
