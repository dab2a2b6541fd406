/**
 * Terminal prompts for the auth commands: a line, or a password without echo. When stdin is not a
 * terminal, answers are read line by line from it (so scripts can pipe them in).
 */
import { createInterface, type Interface } from 'node:readline';

let piped:
  | { rl: Interface; lines: string[]; waiters: ((line: string | undefined) => void)[]; closed: boolean }
  | undefined;

function pipedLine(): Promise<string | undefined> {
  if (!piped) {
    const state = {
      rl: createInterface({ input: process.stdin, terminal: false }),
      lines: [] as string[],
      waiters: [] as ((line: string | undefined) => void)[],
      closed: false,
    };
    state.rl.on('line', (line) => {
      const waiter = state.waiters.shift();
      if (waiter) waiter(line);
      else state.lines.push(line);
    });
    state.rl.on('close', () => {
      state.closed = true;
      for (const w of state.waiters.splice(0)) w(undefined);
    });
    piped = state;
  }
  const state = piped;
  const line = state.lines.shift();
  if (line !== undefined || state.closed) return Promise.resolve(line);
  return new Promise((resolve) => state.waiters.push(resolve));
}

/** Closes stdin reading so the process can exit. */
export function closePrompts(): void {
  piped?.rl.close();
  piped = undefined;
}

export async function prompt(
  question: string,
  options: { hidden?: boolean } = {},
): Promise<string | undefined> {
  if (!process.stdin.isTTY) {
    process.stderr.write(question);
    const line = await pipedLine();
    process.stderr.write('\n');
    return line;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (options.hidden) {
    // Echo nothing after the question: override the interface's output writer.
    const writable = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    writable._writeToOutput = (s: string) => {
      if (!asked) {
        process.stderr.write(s);
        asked = true;
      } else if (s.includes('\n')) process.stderr.write('\n');
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
  }
}
