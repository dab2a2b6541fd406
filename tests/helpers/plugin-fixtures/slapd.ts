/**
 * A real OpenLDAP server for the LDAP provider's tests: slapd with a temporary config and database
 * (slapadd from an LDIF), on ldap://127.0.0.1:<free port>, run under `timeout` so it can never outlive
 * the test by long, and killed in teardown. When slapd is not installed the caller skips, saying so
 * (Debian: `apt-get install -y slapd ldap-utils`).
 */
import { spawn, execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Test } from 'tap';

const SBIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/libexec', '/usr/libexec'];
const SCHEMA_DIRS = ['/etc/ldap/schema', '/etc/openldap/schema', '/usr/local/etc/openldap/schema'];
const MODULE_DIRS = ['/usr/lib/ldap', '/usr/lib64/openldap', '/usr/lib/openldap'];
/** The longest slapd may live, whatever happens to the test process. */
const MAX_LIFETIME_S = 300;

export const LDAP_BASE = 'dc=example,dc=org';
export const LDAP_SERVICE_DN = `cn=matrix-service,${LDAP_BASE}`;
export const LDAP_SERVICE_PASSWORD = 'service-secret';

export interface Slapd {
  readonly url: string;
  readonly base: string;
}

async function firstExisting(paths: readonly string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      await access(p);
      return p;
    } catch {
      // try the next
    }
  }
  return undefined;
}

/** Why slapd cannot run here, or undefined when it can. */
export async function slapdUnavailableReason(): Promise<string | undefined> {
  const slapd = await firstExisting(SBIN_DIRS.map((d) => join(d, 'slapd')));
  const schema = await firstExisting(SCHEMA_DIRS.map((d) => join(d, 'inetorgperson.schema')));
  if (!slapd || !schema) {
    return 'OpenLDAP slapd is not installed (Debian: apt-get install -y slapd ldap-utils); skipping the LDAP server tests';
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slapd did not listen on 127.0.0.1:${port} in time`);
}

/** Starts slapd with the base entries, a service account, and `ldif` (more entries) loaded. */
export async function startSlapd(t: Test, ldif: string): Promise<Slapd> {
  const slapd = await firstExisting(SBIN_DIRS.map((d) => join(d, 'slapd')));
  const slapadd = await firstExisting(SBIN_DIRS.map((d) => join(d, 'slapadd')));
  const schemaDir = await firstExisting(SCHEMA_DIRS);
  if (!slapd || !slapadd || !schemaDir) throw new Error((await slapdUnavailableReason()) ?? 'slapd missing');
  const moduleDir = await firstExisting(MODULE_DIRS.map((d) => join(d, 'back_mdb.la')));

  const dir = await mkdtemp(join(tmpdir(), 'axon-slapd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'db'));
  const conf = join(dir, 'slapd.conf');
  await writeFile(
    conf,
    [
      ...['core', 'cosine', 'nis', 'inetorgperson'].map((s) => `include ${join(schemaDir, `${s}.schema`)}`),
      `pidfile ${join(dir, 'slapd.pid')}`,
      // Like some directories, accept a DN with an empty password as an anonymous bind: the provider must
      // never take that for a successful login.
      'allow bind_anon_dn',
      ...(moduleDir ? [`modulepath ${join(moduleDir, '..')}`, 'moduleload back_mdb'] : []),
      'database mdb',
      `suffix "${LDAP_BASE}"`,
      `rootdn "cn=admin,${LDAP_BASE}"`,
      'rootpw admin-secret',
      `directory ${join(dir, 'db')}`,
      'maxsize 10485760',
      '',
    ].join('\n'),
  );
  const base = `dn: ${LDAP_BASE}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ${LDAP_SERVICE_DN}
objectClass: person
cn: matrix-service
sn: service
userPassword: ${LDAP_SERVICE_PASSWORD}

dn: ou=people,${LDAP_BASE}
objectClass: organizationalUnit
ou: people

`;
  await writeFile(join(dir, 'data.ldif'), base + ldif);
  await promisify(execFile)(slapadd, ['-f', conf, '-l', join(dir, 'data.ldif')]);

  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  // -d 0: stay in the foreground (so killing the child stops it); `timeout` bounds its life.
  const child = spawn('timeout', [String(MAX_LIFETIME_S), slapd, '-f', conf, '-h', `${url}/`, '-d', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  try {
    await waitForPort(port, Date.now() + 10_000);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${stderr}`, { cause: err });
  }
  return { url, base: LDAP_BASE };
}
