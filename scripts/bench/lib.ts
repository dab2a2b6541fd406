/**
 * What the benchmark scripts share: a real Axon in its own process, started the way `npm start` runs it
 * (esbuild output under dist/, plain node), so the figures are the server's alone — its CPU, its resident
 * memory — and the client in this process does not share its event loop; a keep-alive HTTP client that
 * costs little; registration; percentiles.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import knexFactory from 'knex';
import { stringify } from 'yaml';
import { databaseFromUrl } from '../../core/config/generate.js';
import type { DatabaseConfig } from '../../core/config/schema.js';

const ROOT = resolve(import.meta.dirname, '../..');

export const DEFAULT_PG_URL = process.env['AXON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export type Json = Record<string, unknown>;

/**
 * A fresh PostgreSQL schema at `url` for one benchmark run, dropped by `drop()`; undefined (with the reason
 * printed) when no server answers.
 */
export async function benchPgDatabase(
  url: string,
): Promise<{ database: DatabaseConfig; drop: () => Promise<void> } | undefined> {
  const base = databaseFromUrl(url) as DatabaseConfig;
  const schema = `axon_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = knexFactory({
    client: 'pg',
    connection: { ...base.args, connectionTimeoutMillis: 2000 },
    pool: { min: 0, max: 1 },
  });
  try {
    await admin.raw('select 1');
  } catch (err) {
    console.log(`PostgreSQL not reachable at ${url} (${(err as Error).message}): skipping pg`);
    await admin.destroy();
    return undefined;
  }
  return {
    database: { name: 'pg', args: { ...base.args, schema } },
    drop: async () => {
      await admin.raw('DROP SCHEMA IF EXISTS ?? CASCADE', [schema]);
      await admin.destroy();
    },
  };
}

/**
 * Runs `fn` once per engine asked for (`sqlite`, `pg` or `all`): SQLite on a file in a temporary directory,
 * PostgreSQL on a fresh schema (skipped with a message when unreachable).
 */
export async function forEachEngine(
  engine: string,
  pgUrl: string,
  fn: (engine: 'sqlite' | 'pg', database: DatabaseConfig) => Promise<void>,
): Promise<void> {
  if (engine === 'sqlite' || engine === 'all') {
    const dir = await mkdtemp(join(tmpdir(), 'axon-bench-db-'));
    try {
      await fn('sqlite', { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (engine === 'pg' || engine === 'all') {
    const pg = await benchPgDatabase(pgUrl);
    if (!pg) return;
    try {
      await fn('pg', pg.database);
    } finally {
      await pg.drop();
    }
  }
}

const lifted = { per_second: 1e6, burst_count: 1e6 };

export interface BenchServerOptions {
  readonly database: DatabaseConfig;
  /** Extra config keys (merged over the benchmark defaults). */
  readonly config?: Json;
  /** Listeners beside the client listener (e.g. a TLS federation listener). */
  readonly extraListeners?: readonly Json[];
  /** Extra node flags for the server process (after those of the "start" script), e.g. `--cpu-prof`. */
  readonly nodeArgs?: readonly string[];
}

export interface BenchServer {
  readonly client: BenchClient;
  readonly pid: number;
  /** The server process's resident memory (VmRSS), MiB. */
  rssMiB(): Promise<number>;
  /** The server process's peak resident memory so far (VmHWM), MiB. */
  peakRssMiB(): Promise<number>;
  /** CPU time (user + system, all threads) the server process has used so far, ms. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

/** How `npm start` runs the server: its environment assignments and node flags. */
export interface StartCommand {
  readonly env: Readonly<Record<string, string>>;
  readonly nodeArgs: readonly string[];
}

/**
 * The environment and node flags of package.json's "start" script (`node scripts/build.mjs && [VAR=value ...]
 * [exec] node [flags ...] dist/modules/main.js start`), read from the script itself so a benchmark runs the server exactly
 * as `npm start` does and cannot drift from it. Throws when the script has another shape.
 */
export async function npmStartCommand(): Promise<StartCommand> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const script = pkg.scripts?.start ?? '';
  const run = script
    .split('&&')
    .map((part) => part.trim().split(/\s+/))
    .find((words) => words.includes('dist/modules/main.js'));
  const env: Record<string, string> = {};
  const nodeArgs: string[] = [];
  let i = 0;
  for (; run && i < run.length && /^[A-Z_][A-Z0-9_]*=/.test(run[i] ?? ''); i++) {
    const [name = '', ...value] = (run[i] ?? '').split('=');
    env[name] = value.join('=');
  }
  if (run?.[i] === 'exec') i++; // npm's shell becomes the server (README, "Process management")
  const shapeOk = run?.[i] === 'node' && run.at(-2) === 'dist/modules/main.js' && run.at(-1) === 'start';
  if (run && shapeOk) for (i++; i < run.length - 2; i++) nodeArgs.push(run[i] ?? '');
  if (!run || !shapeOk || nodeArgs.some((a) => !a.startsWith('-'))) {
    throw new Error(
      `package.json "start" is not "[VAR=value ...] [exec] node [flags] dist/modules/main.js start": ${script}`,
    );
  }
  return { env, nodeArgs };
}

let built = false;

/**
 * Starts Axon as `npm start` does (transpiled once per run to dist/, then plain node with the environment and
 * flags of the "start" script) with open registration and rate limits lifted, and waits until it answers.
 */
export async function startBenchServer(options: BenchServerOptions): Promise<BenchServer> {
  if (!built) {
    execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
    built = true;
  }
  const start = await npmStartCommand();
  const dir = await mkdtemp(join(tmpdir(), 'axon-bench-'));
  const port = await freePort();
  const config = {
    server_name: 'bench.local',
    listeners: [
      { port, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
      ...(options.extraListeners ?? []),
    ],
    database: options.database,
    signing_key_path: join(dir, 'signing.key'),
    media_store_path: join(dir, 'media'),
    log_level: 'warn',
    enable_registration: true,
    enable_registration_without_verification: true,
    rc_registration: lifted,
    rc_login: { address: lifted, account: lifted, failed_attempts: lifted },
    // Benchmarks measure the server, not its rate limits (Synapse's side-by-side runs lift them too).
    rc_message: lifted,
    rc_joins: { local: lifted, remote: lifted },
    rc_joins_per_room: lifted,
    rc_invites: { per_room: lifted, per_user: lifted, per_issuer: lifted },
    rc_admin_redaction: lifted,
    rc_key_requests: lifted,
    rc_media_create: lifted,
    rc_presence: { per_user: lifted },
    ...options.config,
  };
  const configPath = join(dir, 'homeserver.yaml');
  await writeFile(configPath, stringify(config));
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...start.nodeArgs,
      ...(options.nodeArgs ?? []),
      join(ROOT, 'dist/modules/main.js'),
      'start',
      '-c',
      configPath,
    ],
    { cwd: dir, env: { ...process.env, ...start.env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const pid = child.pid ?? 0;
  const client = new BenchClient(`http://127.0.0.1:${port}`);
  const stop = async (): Promise<void> => {
    client.close();
    child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    try {
      await client.call('GET', '/_matrix/client/versions');
      return {
        client,
        pid,
        stop,
        rssMiB: async () => {
          const status = await readFile(`/proc/${pid}/status`, 'utf8');
          return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        },
        peakRssMiB: async () => {
          const status = await readFile(`/proc/${pid}/status`, 'utf8');
          return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        },
        cpuMs: async () => {
          // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 per second on Linux).
          const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
          const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          return (Number(fields[11]) + Number(fields[12])) * 10;
        },
      };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error('Axon did not start');
}

export interface BenchUser {
  readonly userId: string;
  readonly token: string;
}

/** node:http with a keep-alive agent: lighter than fetch, so the client disturbs the figures less. */
export class BenchClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(readonly base: string) {}

  call(method: string, path: string, token?: string, body?: unknown): Promise<Json> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolvePromise, reject) => {
      const req = request(
        this.base + path,
        {
          method,
          agent: this.agent,
          headers: {
            ...(payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: Json;
            try {
              json = JSON.parse(text || '{}') as Json;
            } catch {
              reject(new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
              return;
            }
            const uiaChallenge = res.statusCode === 401 && path.endsWith('/register');
            if (res.statusCode !== 200 && !uiaChallenge) {
              reject(new Error(`${method} ${path}: ${res.statusCode} ${JSON.stringify(json)}`));
            } else resolvePromise(json);
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Registers through the UIA dummy flow. */
  async register(localpart: string): Promise<BenchUser> {
    const body = { username: localpart, password: `pw-${randomBytes(8).toString('hex')}` };
    const challenge = await this.call('POST', '/_matrix/client/v3/register', undefined, body);
    const done = await this.call('POST', '/_matrix/client/v3/register', undefined, {
      ...body,
      auth: { type: 'm.login.dummy', session: challenge['session'] },
    });
    return { userId: String(done['user_id']), token: String(done['access_token']) };
  }

  async createRoom(user: BenchUser, body: Json = { preset: 'public_chat' }): Promise<string> {
    return String((await this.call('POST', '/_matrix/client/v3/createRoom', user.token, body))['room_id']);
  }

  async join(user: BenchUser, roomId: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, user.token, {});
  }

  async sendText(user: BenchUser, roomId: string, txnId: string, body: string): Promise<string> {
    const res = await this.call(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`,
      user.token,
      { msgtype: 'm.text', body },
    );
    return String(res['event_id']);
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? NaN;
}

export function ms(n: number): string {
  return `${n.toFixed(2)} ms`;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}
