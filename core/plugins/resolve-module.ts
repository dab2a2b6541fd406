/**
 * Finds and imports the module a `plugins:` entry names: a path (`./x`, `../x`, `/x`) relative to the
 * config file's directory or, failing that, to the project root; or else an npm package name. A path may
 * name a file (the extension may be left out) or a folder with an index file.
 */
import { stat } from 'node:fs/promises';
import { register } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root (where package.json and node_modules are). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

let aliased = false;

/**
 * Makes `import ... from 'axon'` resolve to this server's public exports (core/index) from anywhere, so a
 * plugin file beside homeserver.yaml — outside this package, where Node's self-reference does not reach —
 * can import the API the way the guide shows. Installed once, as a module resolution hook.
 */
export function aliasAxonPackage(): void {
  if (aliased) return;
  aliased = true;
  // Running from sources (tsx) the public exports are index.ts; from compiled output, index.js.
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const target = new URL(`../index${extension}`, import.meta.url).href;
  const hooks =
    'export async function resolve(specifier, context, next) {' +
    ` return specifier === 'axon' ? { url: ${JSON.stringify(target)}, shortCircuit: true } : next(specifier, context); }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
const INDEX_FILES = EXTENSIONS.map((ext) => `index${ext}`);

export type ImportOutcome =
  | { readonly ok: true; readonly exports: Record<string, unknown>; readonly location: string }
  | { readonly ok: false; readonly reason: string };

export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || isAbsolute(specifier)
  );
}

/** Imports the entry's module; never throws (a failure comes back as a reason for the boot error). */
export async function importPluginModule(
  specifier: string,
  configDir: string,
  projectRoot: string = PROJECT_ROOT,
): Promise<ImportOutcome> {
  aliasAxonPackage();
  if (isPathSpecifier(specifier)) {
    const bases = isAbsolute(specifier) ? [''] : [...new Set([configDir, projectRoot])];
    const tried: string[] = [];
    for (const base of bases) {
      const candidate = base ? resolve(base, specifier) : specifier;
      tried.push(candidate);
      const file = await findFile(candidate);
      if (file) return importFrom(pathToFileURL(file).href, file);
    }
    return { ok: false, reason: `no such file or folder (looked for ${tried.join(' and ')})` };
  }
  const outcome = await importFrom(specifier, specifier);
  if (!outcome.ok && outcome.reason.includes(`'${packageName(specifier)}'`)) {
    const local =
      (await findFile(resolve(configDir, specifier))) ?? (await findFile(resolve(projectRoot, specifier)));
    const hint = local ? ` (a path needs a leading "./": did you mean "./${specifier}"?)` : '';
    return { ok: false, reason: `no npm package "${packageName(specifier)}" is installed${hint}` };
  }
  return outcome;
}

async function importFrom(url: string, location: string): Promise<ImportOutcome> {
  try {
    const exports = (await import(url)) as Record<string, unknown>;
    return { ok: true, exports, location };
  } catch (err) {
    return { ok: false, reason: `cannot load it: ${err instanceof Error ? err.message : String(err)}` };
  }
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

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
