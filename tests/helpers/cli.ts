/** Runs the `axon` CLI as a child process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function spawnCli(
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): ChildProcess {
  // tsx resolved from this project, so the CLI can run from any working directory.
  const child = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), `${PROJECT_ROOT}modules/main.ts`, ...args],
    {
      cwd: options.cwd ?? PROJECT_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  if (options.input !== undefined) child.stdin?.end(options.input);
  return child;
}

export async function runCli(
  args: readonly string[],
  options: { cwd?: string; input?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, options);
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
