/** `axon hash-password`: prints the Argon2id hash of a password read from stdin or a prompt. */
import { parseArgs } from 'node:util';
import type { CliCommand } from '../../../core/define-module.js';
import { PasswordHasher } from '../services/password-hasher.js';
import { closePrompts, prompt } from './prompt.js';

export const hashPasswordCommand: CliCommand = {
  summary: 'Print the Argon2id hash of a password (read from stdin, or prompted twice on a terminal)',
  usage: 'hash-password [-p PASSWORD]',
  async run(argv) {
    let values;
    try {
      // -c is accepted for Synapse's habits (hash_password -c homeserver.yaml); Axon has no pepper to read.
      ({ values } = parseArgs({
        args: [...argv],
        options: {
          password: { type: 'string', short: 'p' },
          config: { type: 'string', short: 'c' },
          help: { type: 'boolean', short: 'h' },
        },
      }));
    } catch (err) {
      console.error((err as Error).message);
      return 1;
    }
    if (values.help) {
      console.log('usage: axon hash-password [-p PASSWORD]   (else read from stdin, or prompted twice)');
      return 0;
    }
    let password = values.password;
    try {
      password ??= await prompt('Password: ', { hidden: true });
      if (values.password === undefined && password !== undefined && process.stdin.isTTY) {
        const again = await prompt('Confirm password: ', { hidden: true });
        if (again !== password) {
          console.error('Passwords do not match');
          return 1;
        }
      }
    } finally {
      closePrompts();
    }
    if (!password) {
      console.error('No password given');
      return 1;
    }
    console.log(await new PasswordHasher().hash(password));
    return 0;
  },
};
