/** `axon hash-password`: prints the Argon2id hash of a password read from stdin or a prompt. */
import type { CliCommand } from '../../../core/define-module.js';
import { PasswordHasher } from '../services/password-hasher.js';
import { closePrompts, prompt } from './prompt.js';

export const hashPasswordCommand: CliCommand = {
  summary: 'Print the Argon2id hash of a password (read from stdin, or prompted twice on a terminal)',
  usage: 'hash-password',
  async run(argv) {
    if (argv.includes('-h') || argv.includes('--help')) {
      console.log('usage: axon hash-password   (password from stdin, or prompted)');
      return 0;
    }
    let password: string | undefined;
    try {
      password = await prompt('Password: ', { hidden: true });
      if (password !== undefined && process.stdin.isTTY) {
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
