/**
 * The signal path as an operator, systemd or a container runtime uses it: start the real CLI the way an
 * operator does (`npm start`, and the package's `axon` bin), send SIGTERM to the process that was started
 * (not to its process group), and check that the server itself stopped: its pid (from `pid_file`) is gone,
 * and its port can be bound again.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { PROJECT_ROOT } from '../../helpers/cli.js';

const BOOT_TIMEOUT_MS = 120_000;

async function configFolder(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-signals-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'homeserver.yaml'),
    [
      'server_name: signals.test',
      'listeners:',
      '  - port: 0',
      '    bind_addresses: ["127.0.0.1"]',
      '    resources: [{ names: [client] }]',
      'database:',
      '  name: sqlite3',
      '  args: { database: ./homeserver.db }',
      'signing_key_path: ./signing.key',
      'media_store_path: ./media',
      'pid_file: ./axon.pid',
      'log_level: warn',
      '',
    ].join('\n'),
  );
  return dir;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function sigtermStopsServer(
  t: Test,
  command: string,
  args: readonly string[],
  signalGroup = false,
): Promise<void> {
  const dir = await configFolder(t);
  // An operator's environment: none of the test runner's loaders or settings.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TAP_|_TAPJS_|TS_NODE_|NODE_OPTIONS$)/.test(name)),
  );
  const child = spawn(command, [...args, '-c', join(dir, 'homeserver.yaml')], {
    cwd: PROJECT_ROOT,
    env,
    detached: true, // its own process group, so that the SIGTERM below reaches only the started process
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const serverPids: number[] = []; // filled once the server wrote pid_file
  t.teardown(() => {
    for (const pid of serverPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
    if (child.exitCode === null && child.signalCode === null && child.pid)
      process.kill(-child.pid, 'SIGKILL');
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not running within ${BOOT_TIMEOUT_MS} ms:\n${output}`)),
      BOOT_TIMEOUT_MS,
    );
    const onData = (data: Buffer): void => {
      output += data.toString();
      const found = /Axon is running at (http:\/\/\S+)/.exec(output)?.[1];
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before running:\n${output}`));
    });
  });
  const port = Number(new URL(url).port);
  const serverPid = Number((await readFile(join(dir, 'axon.pid'), 'utf8')).trim());
  serverPids.push(serverPid);
  t.ok(alive(serverPid), 'the server is running');
  t.equal((await fetch(`${url}/health`)).status, 200);

  if (signalGroup && child.pid)
    process.kill(-child.pid, 'SIGINT'); // a terminal's Ctrl-C
  else child.kill('SIGTERM');
  t.equal(await exited, 0, 'the started process exits 0 after a graceful stop');
  t.match(output, /SIG(TERM|INT): stopping gracefully/, 'the server itself received the signal');
  t.notMatch(output, /again: exiting without waiting/, 'a signal echoed by npm does not cut the stop short');
  for (let i = 0; i < 50 && alive(serverPid); i++) await new Promise((r) => setTimeout(r, 100));
  t.notOk(alive(serverPid), 'no orphaned server process');
  t.ok(await portFree(port), 'the port is free again');
}

void t.test('SIGTERM to `npm start` stops the server', (t) => sigtermStopsServer(t, 'npm', ['start', '--']));

void t.test('SIGTERM to the `axon` bin stops the server', (t) =>
  sigtermStopsServer(t, process.execPath, [join(PROJECT_ROOT, 'scripts/axon.mjs'), 'start']),
);

void t.test('Ctrl-C (SIGINT to the process group) of `npm start` stops the server gracefully', (t) =>
  sigtermStopsServer(t, 'npm', ['start', '--'], true),
);
