/**
 * Finds and imports the module a `plugins:` entry names: a path (`./x`, `../x`, `/x`) relative to the
 * config file's directory or, failing that, to the project root; or else an npm package name. A path may
 * name a file (the extension may be left out) or a folder with an index file.
 *
 * Loading in two steps — locate every entry, then import — lets the loader install the module hooks the
 * plugins need (tsx for TypeScript, loader-hooks.ts for the `axon` name) once, before the first import, and
 * only when a configured plugin needs them: hooks run in Node's module-hooks thread, which costs resident
 * memory (about 10 MiB for the thread, 7 more for tsx, measured on Node 20).
 */
import { stat } from 'node:fs/promises';
import { register } from 'node:module';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { LoaderHooksData } from './loader-hooks.js';

/**
 * true when this server runs from its TypeScript sources (`npm run start:dev`, tests: tsx is loaded and
 * transpiles any .ts file); false when it runs from the esbuild output in dist/ (`npm start`, plain node).
 */
export const RUNNING_FROM_SOURCES = import.meta.url.endsWith('.ts');

/** Where relative plugin paths are tried after the config directory: the repository, or dist/ in it. */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The repository root (package.json, node_modules), whether this file runs from sources or from dist/. */
const PACKAGE_ROOT = fileURLToPath(new URL(RUNNING_FROM_SOURCES ? '../../' : '../../../', import.meta.url));

/** Plugins that ship with Axon import core by relative path, so they need no `axon` name. */
const SHIPPED_SOURCE_DIRS = ['plugins', 'spam-checkers'].map((dir) => join(PACKAGE_ROOT, dir));
const SHIPPED_PLUGIN_DIRS = [
  ...SHIPPED_SOURCE_DIRS,
  ...['plugins', 'spam-checkers'].map((dir) => join(PACKAGE_ROOT, 'dist', dir)),
];

/** This server's public exports, the module `import ... from 'axon'` must reach in a plugin. */
const AXON_EXPORTS = new URL(`../index${RUNNING_FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url).href;

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];
const INDEX_FILES = EXTENSIONS.map((ext) => `index${ext}`);
const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

export type LocateOutcome =
  | { readonly ok: true; readonly url: string; readonly location: string }
  | { readonly ok: false; readonly reason: string };

export type ImportOutcome =
  | { readonly ok: true; readonly exports: Record<string, unknown>; readonly location: string }
  | { readonly ok: false; readonly reason: string };

/** The module hooks the located plugins need before they can be imported. */
export interface LoaderNeeds {
  /** A plugin is TypeScript and no TypeScript loader runs yet (compiled server). */
  readonly typescript: boolean;
  /** A plugin lives outside Axon's shipped plugin folders: it may `import ... from 'axon'`. */
  readonly outOfTree: boolean;
}

export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || isAbsolute(specifier)
  );
}

/** Finds the file (or package) an entry names; never throws (a failure is a reason for the boot error). */
export async function locatePluginModule(
  specifier: string,
  configDir: string,
  projectRoot: string = PROJECT_ROOT,
): Promise<LocateOutcome> {
  if (isPathSpecifier(specifier)) {
    const bases = isAbsolute(specifier) ? [''] : [...new Set([configDir, projectRoot])];
    const tried: string[] = [];
    for (const base of bases) {
      const candidate = base ? resolve(base, specifier) : specifier;
      tried.push(candidate);
      const found = await findFile(candidate);
      const file = found && ((await compiledTwin(found)) ?? found);
      if (file) return { ok: true, url: pathToFileURL(file).href, location: file };
    }
    return { ok: false, reason: `no such file or folder (looked for ${tried.join(' and ')})` };
  }
  try {
    // From this file, as `import(specifier)` here would: Axon's own node_modules.
    return { ok: true, url: import.meta.resolve(specifier), location: specifier };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!message.includes(`'${packageName(specifier)}'`))
      return { ok: false, reason: `cannot load it: ${message}` };
    const local =
      (await findFile(resolve(configDir, specifier))) ?? (await findFile(resolve(projectRoot, specifier)));
    const hint = local ? ` (a path needs a leading "./": did you mean "./${specifier}"?)` : '';
    return { ok: false, reason: `no npm package "${packageName(specifier)}" is installed${hint}` };
  }
}

export function loaderNeeds(urls: readonly string[]): LoaderNeeds {
  const files = urls.filter((url) => url.startsWith('file:')).map((url) => fileURLToPath(url));
  return {
    typescript: !RUNNING_FROM_SOURCES && files.some((f) => TYPESCRIPT_EXTENSIONS.has(extname(f))),
    outOfTree: files.some((f) => !SHIPPED_PLUGIN_DIRS.some((dir) => isInside(f, dir))),
  };
}

let typescriptInstalled = false;
let outOfTreeInstalled = false;

/**
 * Installs, once per process, the hooks `needs` asks for: tsx's loader for TypeScript plugins under the
 * compiled server (under tsx it runs already), and loader-hooks.ts for plugins outside the shipped folders
 * (the `axon` name, and such files load as ES modules).
 */
export async function installLoaderHooks(needs: LoaderNeeds): Promise<void> {
  if (needs.typescript && !typescriptInstalled) {
    typescriptInstalled = true;
    const tsx = await import('tsx/esm/api');
    // No tsconfig: a plugin transpiles the same wherever the server was started from.
    tsx.register({ tsconfig: false });
  }
  if (needs.outOfTree && !outOfTreeInstalled) {
    outOfTreeInstalled = true;
    const data: LoaderHooksData = { axonExports: AXON_EXPORTS, packageRoot: PACKAGE_ROOT };
    register(new URL(`./loader-hooks${RUNNING_FROM_SOURCES ? '.ts' : '.js'}`, import.meta.url), { data });
  }
}

/** Imports a located module; never throws. */
export async function importLocated(url: string, location: string): Promise<ImportOutcome> {
  try {
    const exports = (await import(url)) as Record<string, unknown>;
    return { ok: true, exports, location };
  } catch (err) {
    return { ok: false, reason: `cannot load it: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Locates, prepares the hooks for and imports one entry's module; never throws. */
export async function importPluginModule(
  specifier: string,
  configDir: string,
  projectRoot: string = PROJECT_ROOT,
): Promise<ImportOutcome> {
  const located = await locatePluginModule(specifier, configDir, projectRoot);
  if (!located.ok) return located;
  await installLoaderHooks(loaderNeeds([located.url]));
  return importLocated(located.url, located.location);
}

/** The file a path names: itself, with an extension added, or a folder's index file. */
async function findFile(path: string): Promise<string | undefined> {
  const kind = await kindOf(path);
  if (kind === 'file') return path;
  if (kind === 'dir') {
    for (const index of INDEX_FILES)
      if ((await kindOf(join(path, index))) === 'file') return join(path, index);
    return undefined;
  }
  for (const ext of EXTENSIONS) if ((await kindOf(path + ext)) === 'file') return path + ext;
  return undefined;
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Under the compiled server, the dist/ copy of a shipped plugin's source file (a config in Axon's folder
 * finds `./spam-checkers/x` there before it tries dist/): the sources would bring a second copy of core.
 */
async function compiledTwin(file: string): Promise<string | undefined> {
  if (RUNNING_FROM_SOURCES || !TYPESCRIPT_EXTENSIONS.has(extname(file))) return undefined;
  if (!SHIPPED_SOURCE_DIRS.some((dir) => isInside(file, dir))) return undefined;
  const twin = join(PACKAGE_ROOT, 'dist', relative(PACKAGE_ROOT, file)).replace(/\.ts$/, '.js');
  return (await kindOf(twin)) === 'file' ? twin : undefined;
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('node_modules');
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
