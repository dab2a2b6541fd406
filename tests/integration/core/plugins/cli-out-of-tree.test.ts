/**
 * Plugins written outside the repository, as an operator writes them: one file beside homeserver.yaml in a
 * temporary folder, importing `'axon'` by name. The real CLI runs as a child process (`npm start`, which
 * builds and runs the compiled dist/ with plain node, and `npm run start:dev`, which runs the sources through
 * tsx), and the test speaks HTTP to it to see the plugin act. One server boot per command.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { PROJECT_ROOT } from '../../../helpers/cli.js';
import { request, type TestResponse } from '../../../helpers/start-server.js';

const SERVER_NAME = 'cli-plugins.test';
const BOOT_TIMEOUT_MS = 120_000;

/** Writes homeserver.yaml (with `pluginsYaml`) and `files` into a fresh folder outside the repository. */
async function operatorFolder(t: Test, pluginsYaml: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-cli-plugins-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(
    configPath,
    [
      `server_name: ${SERVER_NAME}`,
      'listeners:',
      '  - port: 0',
      '    bind_addresses: ["127.0.0.1"]',
      '    resources: [{ names: [client] }]',
      'database:',
      '  name: sqlite3',
      '  args: { database: ./homeserver.db }',
      'signing_key_path: ./signing.key',
      'media_store_path: ./media',
      'log_level: warn',
      'enable_registration: true',
      'enable_registration_without_verification: true',
      'rc_registration: { per_second: 1000, burst_count: 1000 }',
      pluginsYaml,
      '',
    ].join('\n'),
  );
  return configPath;
}

/**
 * Runs `npm <args> -- -c configPath` in its own process group and resolves with the server's base URL once
 * it says it is running; the group is stopped with SIGTERM when the test ends.
 */
async function startCli(t: Test, npmArgs: readonly string[], configPath: string): Promise<string> {
  // An operator's environment: none of the test runner's loaders or settings.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TAP_|_TAPJS_|TS_NODE_|NODE_OPTIONS$)/.test(name)),
  );
  const child = spawn('npm', [...npmArgs, '--', '-c', configPath], {
    cwd: PROJECT_ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(-child.pid, 'SIGTERM');
    }
    await exited;
  });
  let output = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "Axon is running" within ${BOOT_TIMEOUT_MS} ms:\n${output}`)),
      BOOT_TIMEOUT_MS,
    );
    const onData = (data: Buffer): void => {
      output += data.toString();
      const url = /Axon is running at (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it was running:\n${output}`));
    });
  });
}

/** Registers through the dummy UIA flow; the response of the completing request. */
async function register(baseUrl: string, username: string): Promise<TestResponse> {
  const body = { username, password: 'correct horse battery staple' };
  const challenge = await request(baseUrl, 'POST', '/_matrix/client/v3/register', { body });
  if (challenge.status !== 401) return challenge;
  return request(baseUrl, 'POST', '/_matrix/client/v3/register', {
    body: { ...body, auth: { type: 'm.login.dummy', session: challenge.body.session } },
  });
}

/** The one-file spam checker of plugins/README.md and its `plugins:` block, taken from the guide verbatim. */
async function guideExample(): Promise<{ code: string; yaml: string }> {
  const guide = await readFile(join(PROJECT_ROOT, 'plugins/README.md'), 'utf8');
  const section = guide.slice(guide.indexOf('## A complete spam checker in one file'));
  const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code || !yaml) throw new Error('the guide lost its one-file example');
  return { code, yaml };
}

/** A registration guard with a TypeBox config, as JavaScript (TypeScript is the same file with types). */
const registrationGuard = (name: string): string => `import { definePlugin, Type } from 'axon';

export default definePlugin({
  name: '${name}',
  apiVersion: 1,
  config: Type.Object({ blocked_prefix: Type.String() }),
  register(api, config) {
    api.registerSpamChecker({
      checkRegistrationForSpam: ({ username }) =>
        username !== undefined && username.startsWith(config.blocked_prefix) ? 'DENY' : 'ALLOW',
    });
  },
});
`;

void t.test('npm start: plugins beside homeserver.yaml, in one server', async (t) => {
  // One `npm start` (a build, then the compiled server) for both plugins: the guide's .mts spam checker
  // (messages) and a .mjs registration guard (registrations) answer different callbacks.
  const { code, yaml } = await guideExample();
  t.match(code, /from 'axon'/);
  t.match(yaml, /^plugins:\n/, "the guide's block is a plugins: list, so one more entry can follow");
  const configPath = await operatorFolder(
    t,
    `${yaml.trimEnd()}\n  - module: ./registration-guard.mjs\n    config: { blocked_prefix: bot- }`,
    {
      'no-casino.mts': code,
      'registration-guard.mjs': registrationGuard('registration-guard-js'),
    },
  );
  const baseUrl = await startCli(t, ['start'], configPath);

  await t.test("the guide's .mts spam checker refuses a message", async (t) => {
    const alice = await register(baseUrl, 'alice');
    t.equal(alice.status, 200, alice.text);
    const token = alice.body.access_token as string;
    const room = await request(baseUrl, 'POST', '/_matrix/client/v3/createRoom', { token, body: {} });
    t.equal(room.status, 200, room.text);
    const send = (txn: string, body: string) =>
      request(
        baseUrl,
        'PUT',
        `/_matrix/client/v3/rooms/${encodeURIComponent(room.body.room_id)}/send/m.room.message/${txn}`,
        { token, body: { msgtype: 'm.text', body } },
      );
    const casino = await send('t1', 'Big JACKPOT tonight');
    t.equal(casino.status, 403);
    t.same(casino.body, { errcode: 'M_FORBIDDEN', error: 'No casinos here.' });
    const fine = await send('t2', 'book club at 8');
    t.equal(fine.status, 200, fine.text);
  });

  await t.test('a .mjs registration guard refuses a registration', async (t) => {
    const bot = await register(baseUrl, 'bot-1');
    t.equal(bot.status, 403);
    t.same(bot.body, { errcode: 'M_FORBIDDEN', error: 'Registration has been rejected' });
    t.equal((await register(baseUrl, 'carol')).status, 200, 'other names pass');
  });
});

void t.test(
  'npm run start:dev: a .ts plugin in a folder without package.json refuses a registration',
  async (t) => {
    const configPath = await operatorFolder(
      t,
      'plugins:\n  - module: ./registration-guard.ts\n    config: { blocked_prefix: bot- }',
      { 'registration-guard.ts': registrationGuard('registration-guard-ts') },
    );
    const baseUrl = await startCli(t, ['run', 'start:dev'], configPath);
    const bot = await register(baseUrl, 'bot-2');
    t.equal(bot.status, 403);
    t.same(bot.body, { errcode: 'M_FORBIDDEN', error: 'Registration has been rejected' });
  },
);

void t.test('the package\'s "axon" bin runs the compiled CLI from any folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'axon-bin-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(PROJECT_ROOT, 'scripts/axon.mjs'), 'modules'],
    { cwd: dir },
  );
  t.match(stdout, /^auth\s+on\s/m);
});
