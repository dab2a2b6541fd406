/**
 * registration-guard: refuses registrations whose username matches a blocked pattern or whose e-mail is in
 * a blocked domain, and shadow-bans those matching a shadow-ban pattern. See README.md.
 */
import { definePlugin, type RegistrationAttempt, type RegistrationVerdict } from '../../core/index.js';
import { registrationGuardConfigSchema, type RegistrationGuardConfig } from './config.js';

export default definePlugin({
  name: 'registration-guard',
  apiVersion: 1,
  config: registrationGuardConfigSchema,
  register(api, config) {
    const decide = registrationDecider(config);
    api.registerSpamChecker({
      checkRegistrationForSpam(attempt) {
        const verdict = decide(attempt);
        if (verdict !== 'ALLOW') {
          api.logger.info(
            { username: attempt.username, ip: attempt.requestInfo[0]?.ip, verdict },
            'registration caught by the guard',
          );
        }
        return verdict;
      },
    });
  },
});

/** The verdict for one registration attempt: DENY wins over SHADOW_BAN. Throws on an invalid pattern. */
export function registrationDecider(
  config: RegistrationGuardConfig,
): (attempt: RegistrationAttempt) => RegistrationVerdict {
  const blocked = compile(config.blocked_username_patterns, 'blocked_username_patterns');
  const shadow = compile(config.shadow_ban_username_patterns, 'shadow_ban_username_patterns');
  const domains = config.blocked_email_domains.map(
    (d) => new RegExp(`^${d.split('*').map(escapeRegExp).join('.*')}$`, 'i'),
  );
  return ({ username, emailThreepid }) => {
    // With no username the server picks one, so only the e-mail can be judged.
    if (username !== undefined && blocked.some((r) => r.test(username))) return 'DENY';
    if (emailThreepid?.medium === 'email') {
      const domain = emailThreepid.address.slice(emailThreepid.address.lastIndexOf('@') + 1);
      if (domains.some((r) => r.test(domain))) return 'DENY';
    }
    if (username !== undefined && shadow.some((r) => r.test(username))) return 'SHADOW_BAN';
    return 'ALLOW';
  };
}

function compile(patterns: readonly string[], key: string): RegExp[] {
  return patterns.map((source, i) => {
    try {
      return new RegExp(source, 'iu');
    } catch (err) {
      throw new Error(`${key}[${i}] is not a valid regular expression: ${(err as Error).message}`, {
        cause: err,
      });
    }
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
