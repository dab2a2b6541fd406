/**
 * Login and registration throughput of the auth module, measured over HTTP against a real kernel on a
 * temporary SQLite database (and PostgreSQL when reachable). Registration is the full UIA round trip
 * (401, then m.login.dummy), login is m.login.password; both hash or verify an Argon2id password, which
 * dominates their cost. Access-token resolution (GET /account/whoami) is measured too: it is the hot path
 * of every authenticated request.
 *
 *   npx tsx scripts/bench/auth-bench.ts [--n 50] [--concurrency 8] [--pg postgres://user@host:5432/db]
 *
 * Rate limits are lifted for the run; numbers are requests (operations) per second.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kernel } from '../../core/kernel.js';
import { builtinModules } from '../../modules/index.js';
import { createLogger } from '../../core/logger.js';
import { PasswordHasher } from '../../modules/auth/services/password-hasher.js';
import { benchPgDatabase } from './lib.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '8' },
    pg: {
      type: 'string',
      default: process.env['AXON_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
    },
  },
});
const N = Number(values.n);
const CONCURRENCY = Number(values.concurrency);

const lifted = { per_second: 1e6, burst_count: 1e6 };

async function post(
  base: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function register(base: string, username: string): Promise<void> {
  const body = { username, password: `pw-${username}` };
  const challenge = await post(base, '/_matrix/client/v3/register', body);
  const done = await post(base, '/_matrix/client/v3/register', {
    ...body,
    auth: { type: 'm.login.dummy', session: challenge.body['session'] },
  });
  if (done.status !== 200)
    throw new Error(`register ${username}: ${done.status} ${JSON.stringify(done.body)}`);
}

async function login(base: string, username: string): Promise<void> {
  const r = await post(base, '/_matrix/client/v3/login', {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: username },
    password: `pw-${username}`,
  });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
}

async function whoami(base: string, token: string): Promise<void> {
  const res = await fetch(`${base}/_matrix/client/v3/account/whoami`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`whoami: ${res.status}`);
  await res.arrayBuffer();
}

/** Runs `op(i)` for i in [0, n) with `concurrency` workers; returns operations per second. */
async function measure(n: number, concurrency: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return n / ((performance.now() - started) / 1000);
}

async function benchEngine(
  label: string,
  database: Record<string, unknown>,
  dataDir: string,
): Promise<string[]> {
  const kernel = await Kernel.boot({
    modules: builtinModules,
    config: {
      server_name: 'bench.local',
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] }],
      database,
      signing_key_path: join(dataDir, 'signing.key'),
      log_level: 'silent',
      enable_registration: true,
      enable_registration_without_verification: true,
      rc_registration: lifted,
      rc_login: { address: lifted, account: lifted, failed_attempts: lifted },
    },
    configDir: dataDir,
    logger: createLogger('silent'),
  });
  const base = kernel.baseUrl();
  const run = randomBytes(3).toString('hex');
  const rows: string[] = [];
  try {
    const fmt = (what: string, c: number, rate: number): string =>
      `${label.padEnd(10)} ${what.padEnd(28)} concurrency ${String(c).padStart(2)}  ${rate.toFixed(1).padStart(8)} /s`;
    rows.push(
      fmt('registration (UIA, 2 req)', 1, await measure(N, 1, (i) => register(base, `seq${run}${i}`))),
    );
    rows.push(
      fmt(
        'registration (UIA, 2 req)',
        CONCURRENCY,
        await measure(N, CONCURRENCY, (i) => register(base, `par${run}${i}`)),
      ),
    );
    rows.push(fmt('login m.login.password', 1, await measure(N, 1, (i) => login(base, `seq${run}${i}`))));
    rows.push(
      fmt(
        'login m.login.password',
        CONCURRENCY,
        await measure(N, CONCURRENCY, (i) => login(base, `par${run}${i % N}`)),
      ),
    );
    const token = (
      await post(base, '/_matrix/client/v3/login', {
        type: 'm.login.password',
        identifier: { type: 'm.id.user', user: `seq${run}0` },
        password: `pw-seq${run}0`,
      })
    ).body['access_token'] as string;
    rows.push(fmt('token resolution (whoami)', 1, await measure(N * 20, 1, () => whoami(base, token))));
    rows.push(
      fmt(
        'token resolution (whoami)',
        CONCURRENCY,
        await measure(N * 20, CONCURRENCY, () => whoami(base, token)),
      ),
    );
  } finally {
    await kernel.stop(1000);
  }
  return rows;
}

const dataDir = await mkdtemp(join(tmpdir(), 'axon-bench-'));
try {
  console.log(`auth bench: n=${N} operations per row, concurrency ${CONCURRENCY}, node ${process.version}`);
  // The floor under registration and login: one Argon2id hash or verification each.
  const hasher = new PasswordHasher();
  for (const c of [1, CONCURRENCY]) {
    const rate = await measure(N, c, async () => void (await hasher.hash('bench-password')));
    console.log(
      `${'(no http)'.padEnd(10)} ${'argon2id hash alone'.padEnd(28)} concurrency ${String(c).padStart(2)}  ${rate.toFixed(1).padStart(8)} /s`,
    );
  }
  const rows = await benchEngine(
    'sqlite',
    { name: 'sqlite3', args: { database: join(dataDir, 'bench.db') } },
    dataDir,
  );
  for (const r of rows) console.log(r);
  const pg = await benchPgDatabase(values.pg);
  if (pg) {
    try {
      for (const r of await benchEngine('postgresql', pg.database, dataDir)) console.log(r);
    } finally {
      await pg.drop();
    }
  } else {
    console.log(`postgresql not reachable at ${values.pg}; skipped`);
  }
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
