// Transpiles the server (core, modules, shipped plugins) to dist/ with esbuild: file for file, no bundling,
// in about a tenth of a second. `npm start` runs the result with plain node, because a TypeScript loader
// (tsx) costs ~34 MiB of resident memory in a module-hooks thread. Type checking stays with `tsc --noEmit`.
//
// Only files whose output changed are rewritten, and outputs of deleted sources removed, so a build never
// pulls a file from under a server already running from dist/ (tests and benchmarks build concurrently).
//
// It also emits the type declarations of the public plugin API (core/index.ts and what it names) to
// dist/types/, which package.json's `exports` give to plugin authors: with TypeScript's compiler, a few
// seconds, so only when one of their sources changed since the last emit (the list is kept in
// dist/types/sources.json). Skipped, with a note, where typescript (a dev dependency) is not installed.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const typesDir = join(dist, 'types');
const sources = ['core', 'modules', 'plugins', 'spam-checkers'];
const verbose = process.argv.includes('--verbose');
// `--no-declarations`: the transpile only, for runs that need dist/ but not dist/types/ (the CLI tests).
const withDeclarations = !process.argv.includes('--no-declarations');

function files(dir, keep = () => true) {
  const out = [];
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path, keep));
    else if (keep(path)) out.push(path);
  }
  return out;
}

const isSource = (path) => path.endsWith('.ts') && !path.endsWith('.d.ts');

function sameContent(path, contents) {
  try {
    return Buffer.from(contents).equals(readFileSync(path));
  } catch {
    return false;
  }
}

async function transpile() {
  const entryPoints = sources.flatMap((s) => files(join(root, s), isSource));
  const { outputFiles } = await build({
    entryPoints,
    outdir: dist,
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    write: false,
  });
  const wanted = new Set();
  let written = 0;
  for (const { path, contents } of outputFiles) {
    wanted.add(path);
    if (sameContent(path, contents)) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, contents);
    written++;
  }
  const stale = files(dist, (path) => !path.startsWith(typesDir + sep) && !wanted.has(path));
  for (const path of stale) rmSync(path);
  return { files: entryPoints.length, written, removed: stale.length };
}

/** Sources (path -> mtime) of the last declaration emit, or undefined if there is none. */
function lastEmit() {
  try {
    return JSON.parse(readFileSync(join(typesDir, 'sources.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

async function emitDeclarations() {
  const previous = lastEmit();
  if (previous && Object.entries(previous).every(([file, ms]) => mtime(join(root, file)) === ms)) {
    return 'declarations up to date';
  }
  // Emitted beside, then moved into place: a concurrent build or type check never sees half a tree.
  const staging = `${typesDir}.${process.pid}`;
  let ts;
  try {
    ts = (await import('typescript')).default;
  } catch {
    return 'declarations skipped (typescript is not installed)';
  }
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: () => {},
    },
  );
  const options = {
    ...config?.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    declarationMap: false,
    sourceMap: false,
    outDir: staging,
    rootDir: root,
  };
  const program = ts.createProgram([join(root, 'core/index.ts')], options);
  const { diagnostics } = program.emit(undefined, undefined, undefined, true);
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`declaration emit failed:\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
  const used = {};
  for (const file of program.getSourceFiles()) {
    const path = relative(root, file.fileName);
    if (!path.startsWith('node_modules') && !path.startsWith('..')) used[path] = mtime(file.fileName);
  }
  writeFileSync(join(staging, 'sources.json'), `${JSON.stringify(used, null, 2)}\n`);
  rmSync(typesDir, { recursive: true, force: true });
  try {
    renameSync(staging, typesDir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // a concurrent build moved the same files in first
  }
  return `declarations of ${Object.keys(used).length} files emitted`;
}

const started = performance.now();
const built = await transpile();
const transpiled = performance.now();
const declarations = withDeclarations ? await emitDeclarations() : 'declarations not asked for';
if (verbose) {
  const ms = (a, b) => Math.round(b - a);
  console.log(
    `built ${built.files} files into ${relative(process.cwd(), dist) || 'dist'} in ${ms(started, transpiled)} ms` +
      ` (${built.written} written, ${built.removed} removed); ${declarations} in ${ms(transpiled, performance.now())} ms`,
  );
}
