/**
 * A throwaway certificate authority and a leaf certificate for localhost / 127.0.0.1 / ::1, made with
 * openssl: TLS between test or benchmark servers on loopback (federation listeners), verified for real.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface TestCaFiles {
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
}

/** Writes `ca.crt`, `tls.crt` and `tls.key` (EC P-256, valid two days) into `dir`. */
export async function writeTestCa(dir: string, caName = 'Axon test CA'): Promise<TestCaFiles> {
  const run = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-days', '2', '-subj', `/CN=${caName}`, '-keyout', 'ca.key', '-out', 'ca.crt');
  run('req', ...ec, '-subj', '/CN=localhost', '-keyout', 'tls.key', '-out', 'tls.csr');
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n');
  run(
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'tls.crt',
  );
  return { caPath: join(dir, 'ca.crt'), certPath: join(dir, 'tls.crt'), keyPath: join(dir, 'tls.key') };
}
