/**
 * Mail bodies and the pages the links in them open. Built-in defaults carry Synapse's file names; a file of
 * the same name in `email.template_dir` replaces one. Templates substitute `{{ name }}` (HTML-escaped in
 * .html files); Jinja's other syntax is not supported. Overrides are read once at boot: a missing directory
 * stops boot.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BootError } from '../../../core/errors.js';

const page = (title: string, body: string): string =>
  `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
  `<meta name="viewport" content="width=device-width, initial-scale=1"></head>\n<body>\n${body}\n</body></html>\n`;

const mail = (intro: string, action: string): { html: string; txt: string } => ({
  html: page(
    '{{ app_name }}',
    `<p>Hi,</p>\n<p>${intro}</p>\n<p><a href="{{ link }}">${action}</a></p>\n` +
      '<p>If this was not you, ignore this email: nothing will change.</p>',
  ),
  txt: `Hi,\n\n${intro}\n\n${action}:\n\n{{ link }}\n\nIf this was not you, ignore this email: nothing will change.\n`,
});

const registration = mail(
  'A request was made to register an account on {{ server_name }} with this email address.',
  'Verify your email address to continue registration',
);
const passwordReset = mail(
  'A password reset was requested for your account on {{ server_name }}.',
  'Confirm the reset',
);
const addThreepid = mail(
  'A request was made to add this email address to an account on {{ server_name }}.',
  'Verify your email address',
);

export const DEFAULT_TEMPLATES: Readonly<Record<string, string>> = {
  'registration.html': registration.html,
  'registration.txt': registration.txt,
  'password_reset.html': passwordReset.html,
  'password_reset.txt': passwordReset.txt,
  'add_threepid.html': addThreepid.html,
  'add_threepid.txt': addThreepid.txt,
  'registration_success.html': page(
    'Email verified',
    '<p>Your email has been verified. Return to your client to continue registration.</p>',
  ),
  'registration_failure.html': page('Verification failed', '<p>{{ failure_reason }}</p>'),
  'add_threepid_success.html': page(
    'Email verified',
    '<p>Your email has been verified. Return to your client to finish adding it.</p>',
  ),
  'add_threepid_failure.html': page('Verification failed', '<p>{{ failure_reason }}</p>'),
  'password_reset_confirmation.html': page(
    'Reset your password',
    '<p>Confirm that you asked to reset the password of your account on {{ server_name }}.</p>\n' +
      '<form method="post" action="{{ form_action }}">\n' +
      '<input type="hidden" name="sid" value="{{ sid }}">\n' +
      '<input type="hidden" name="client_secret" value="{{ client_secret }}">\n' +
      '<input type="hidden" name="token" value="{{ token }}">\n' +
      '<button type="submit">Confirm</button>\n</form>',
  ),
  'password_reset_success.html': page(
    'Email verified',
    '<p>Your email has been verified. Return to your client to choose a new password.</p>',
  ),
  'password_reset_failure.html': page('Verification failed', '<p>{{ failure_reason }}</p>'),
};

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export class MailTemplates {
  private readonly templates: Record<string, string> = { ...DEFAULT_TEMPLATES };

  /** `templateDir` relative paths are resolved against the config file's directory. */
  constructor(templateDir: string | null | undefined, configDir: string) {
    if (!templateDir) return;
    const dir = isAbsolute(templateDir) ? templateDir : join(configDir, templateDir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new BootError(
        'AXON_ERR_CONFIG_INVALID',
        `email.template_dir: cannot read ${dir}: ${(err as Error).message}`,
      );
    }
    for (const name of names) {
      if (!Object.hasOwn(DEFAULT_TEMPLATES, name)) continue;
      const file = join(dir, name);
      if (statSync(file).isFile()) this.templates[name] = readFileSync(file, 'utf8');
    }
  }

  render(name: string, vars: Readonly<Record<string, string>>): string {
    const template = this.templates[name];
    if (template === undefined) throw new Error(`no template ${name}`);
    const html = name.endsWith('.html');
    return template.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, key: string) => {
      const value = vars[key] ?? '';
      return html ? escapeHtml(value) : value;
    });
  }
}

/** Synapse's `%(name)s` placeholders in notif_from and subjects. */
export function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/%\((\w+)\)s/g, (m, key: string) => vars[key] ?? m);
}
