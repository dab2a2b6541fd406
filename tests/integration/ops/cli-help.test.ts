/** Every command answers --help; --version prints Axon's version and the spec versions it serves. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { SUPPORTED_SPEC_VERSIONS } from '../../../modules/discovery/services/discovery-service.js';
import { PROJECT_ROOT, runCli } from '../../helpers/cli.js';

void t.test('every command has --help, printing its usage and exiting 0', async (t) => {
  for (const command of [
    'generate-config',
    'start',
    'migrate',
    'modules',
    'register-user',
    'hash-password',
  ]) {
    for (const flag of command === 'start' ? ['--help', '-h'] : ['--help']) {
      const res = await runCli([command, flag]);
      t.equal(res.code, 0, `${command} ${flag}: ${res.stderr}`);
      t.match(res.stdout, new RegExp(`^usage: axon ${command}`), `${command} ${flag} prints its usage`);
      t.equal(res.stderr, '');
    }
  }
});

void t.test('--version prints the version and the served spec versions', async (t) => {
  for (const args of [['--version'], ['start', '--version']]) {
    const res = await runCli(args);
    t.equal(res.code, 0);
    t.match(res.stdout, /^Axon 0\.\d+\.\d+/);
    t.match(res.stdout, `Matrix client-server API versions: ${SUPPORTED_SPEC_VERSIONS.join(', ')}`);
  }
});

void t.test('an unknown option is one line naming it, not a stack trace', async (t) => {
  const res = await runCli(['start', '--bogus']);
  t.equal(res.code, 1);
  t.equal(res.stderr.trim(), "axon start: Unknown option '--bogus' (see: axon start --help)");
});

void t.test('`npm start -- --help` (the compiled CLI) prints the usage of start', async (t) => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(TAP_|_TAPJS_|TS_NODE_|NODE_OPTIONS$)/.test(name)),
  );
  const { stdout } = await promisify(execFile)('npm', ['start', '--silent', '--', '--help'], {
    cwd: PROJECT_ROOT,
    env,
  });
  t.match(stdout, /^usage: axon start \[-c FILE\]/m);
});
