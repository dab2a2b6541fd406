// Module hooks for test processes (registered by register.mjs): a TypeScript file is transpiled by
// esbuild, file by file, and the output kept on disk under a hash of the file's path and content; an
// import of `./x.js` or `./x.mjs` from TypeScript reaches `./x.ts` or `./x.mts` beside it, as TypeScript's
// NodeNext resolution means. Everything else is Node's own resolution and loading.
//
// It replaces tsx in the test processes because it does less: tsx also resolves tsconfig paths,
// extensionless and directory imports, and hooks CommonJS, none of which this project uses; the
// difference was ~0.6 s of CPU in each of the suite's ~170 test processes.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync, version as esbuildVersion } from 'esbuild';

const TYPESCRIPT = /\.m?ts$/;
const JS_TWIN = /\.(m?)js$/;

let cacheDir = '';
let transformOptions = {};
let optionsKey = '';

/** data: { cacheDir, compilerOptions } from register.mjs. */
export function initialize(data) {
  cacheDir = data.cacheDir;
  mkdirSync(cacheDir, { recursive: true });
  transformOptions = {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    sourcemap: 'inline',
    tsconfigRaw: { compilerOptions: data.compilerOptions },
  };
  optionsKey = `${esbuildVersion}\0${JSON.stringify(transformOptions)}`;
}

/** URL of `x.js` -> URL of `x.ts` when that file exists (remembered per URL: ESM imports repeat a lot). */
const twins = new Map();
function typescriptTwin(url) {
  let twin = twins.get(url);
  if (twin === undefined) {
    const candidate = url.replace(JS_TWIN, '.$1ts');
    twin = existsSync(fileURLToPath(candidate)) ? candidate : null;
    twins.set(url, twin);
  }
  return twin;
}

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (
    parent?.startsWith('file:') &&
    TYPESCRIPT.test(parent) &&
    JS_TWIN.test(specifier) &&
    (specifier.startsWith('./') || specifier.startsWith('../'))
  ) {
    const twin = typescriptTwin(new URL(specifier, parent).href);
    if (twin) return { url: twin, format: 'module', shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !TYPESCRIPT.test(url)) return nextLoad(url, context);
  const file = fileURLToPath(url);
  const source = readFileSync(file, 'utf8');
  const key = createHash('sha256').update(optionsKey).update('\0').update(file).update('\0').update(source);
  const cached = join(cacheDir, `${key.digest('hex').slice(0, 40)}.mjs`);
  let code;
  try {
    code = readFileSync(cached, 'utf8');
  } catch {
    code = transformSync(source, { ...transformOptions, sourcefile: file }).code;
    // Written aside and renamed: test processes running at once never read half a file.
    const partial = `${cached}.${process.pid}.partial`;
    writeFileSync(partial, code);
    renameSync(partial, cached);
  }
  return { format: 'module', source: code, shortCircuit: true };
}
