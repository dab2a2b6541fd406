/**
 * Runs the `axon` CLI as a child process, as an operator would: the compiled CLI (dist/modules/main.js, what
 * `npm start` and the package's `axon` bin run), built once per test process. Plain node starts it with
 * less than half the CPU of the sources under tsx (~0.7 s against ~1.8 s per process).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let built: Promise<void> | undefined;

/**
 * Brings dist/'s JavaScript up to date (scripts/build.mjs: only what changed, safe beside concurrent
 * builds), once per test process; the path of the compiled CLI.
 */
export async function compiledCli(): Promise<string> {
  // Without the declaration emit (a TypeScript compile of the public API, seconds when stale): the CLI
  // does not need it, and several test files build at once.
  built ??= promisify(execFile)(process.execPath, [
    `${PROJECT_ROOT}scripts/build.mjs`,
    '--no-declarations',
  ]).then(() => {});
  await built;
  return `${PROJECT_ROOT}dist/modules/main.js`;
}

export async function spawnCli(
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): Promise<ChildProcess> {
  // An absolute entry, so the CLI can run from any working directory.
  const child = spawn(process.execPath, [await compiledCli(), ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  return child;
}

export async function runCli(
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = await spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

/** Resolves with everything printed once `pattern` appears on stdout (or rejects after `timeoutMs`). */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; saw:\n${seen}`)),
      timeoutMs,
    );
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`exited before ${pattern}; saw:\n${seen}`));
    });
  });
}
