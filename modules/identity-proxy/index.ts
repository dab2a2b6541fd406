import { asClass, asValue } from 'awilix';
import nodemailer from 'nodemailer';
import { parseDuration } from '../../core/config/units.js';
import { defineModule } from '../../core/define-module.js';
import { RateLimiter } from '../../core/http/rate-limit.js';
import { IdentityProxyConfigSchema, identityProxySettings, type IdentityProxySettings } from './config.js';
import { threepidRoutes } from './routes/threepid.routes.js';
import { validationRoutes } from './routes/validation.routes.js';
import { IdServerBindings } from './services/id-server-bindings.js';
import {
  DEFAULT_IP_RANGE_BLACKLIST,
  IdentityServerClient,
  loadCaList,
} from './services/identity-server-client.js';
import { MailQueue, type SendMail } from './services/mail-queue.js';
import { MailTemplates } from './services/templates.js';
import { ThreepidService } from './services/threepid-service.js';
import { ValidationService } from './services/validation-service.js';
import { MailQueueStore } from './store/mail-queue-store.js';
import { identityProxyMigrations } from './store/migrations/index.js';
import { IdServerBindingsStore } from './store/id-server-bindings-store.js';
import { UserThreepidsStore } from './store/user-threepids-store.js';
import { ValidationSessionsStore } from './store/validation-sessions-store.js';

declare module '../../core/container.js' {
  interface Cradle {
    identityProxySettings: IdentityProxySettings;
    identityProxyRateLimits: { readonly ip: RateLimiter; readonly address: RateLimiter };
    identityProxySessionsStore: ValidationSessionsStore;
    identityProxyThreepidsStore: UserThreepidsStore;
    identityProxyMailQueueStore: MailQueueStore;
    identityProxyMailQueue: MailQueue;
    identityProxyTemplates: MailTemplates;
    identityProxyValidation: ValidationService;
    identityProxyThreepids: ThreepidService;
    identityProxyIdServerClient: IdentityServerClient;
    identityProxyBindingsStore: IdServerBindingsStore;
    identityProxyIdServerBindings: IdServerBindings;
  }
}

const HOUSEKEEPING_INTERVAL_MS = 3_600_000;
const timers = new WeakMap<object, NodeJS.Timeout>();

/**
 * Third-party identifiers: email validation sent by Axon itself (SMTP through nodemailer, from a persistent
 * queue), 3PIDs on accounts, registration / login / password reset by email through auth's extension points.
 */
export default defineModule({
  name: 'identity-proxy',
  description:
    'Third-party identifiers: email validation, /account/3pid*, registration and password reset by email',
  enabledByDefault: true,
  requires: ['auth'],
  config: IdentityProxyConfigSchema,
  migrations: identityProxyMigrations,
  register({ container, config, logger }) {
    const settings = identityProxySettings(config);
    const log = logger.child({ module: 'identity-proxy' });
    const configDir = container.cradle.configDir;
    container.register({
      identityProxySettings: asValue(settings),
      identityProxyRateLimits: asValue({
        ip: new RateLimiter(config.rc_3pid_validation),
        address: new RateLimiter(config.rc_3pid_validation),
      }),
      identityProxySessionsStore: asClass(ValidationSessionsStore).singleton(),
      identityProxyThreepidsStore: asClass(UserThreepidsStore).singleton(),
      identityProxyMailQueueStore: asClass(MailQueueStore).singleton(),
      identityProxyTemplates: asValue(new MailTemplates(settings.email?.config.template_dir, configDir)),
      identityProxyValidation: asClass(ValidationService).singleton(),
      identityProxyThreepids: asClass(ThreepidService).singleton(),
      identityProxyBindingsStore: asClass(IdServerBindingsStore).singleton(),
      identityProxyIdServerBindings: asClass(IdServerBindings).singleton(),
      identityProxyIdServerClient: asValue(
        new IdentityServerClient({
          blacklist: config.ip_range_blacklist ?? DEFAULT_IP_RANGE_BLACKLIST,
          whitelist: config.ip_range_whitelist,
          timeoutMs: parseDuration(config.identity_server_timeout),
          ca: loadCaList(config.identity_server_custom_ca_list, configDir),
          serverName: container.cradle.serverName,
          signingKey: container.cradle.signingKey,
        }),
      ),
    });
    container.register({
      identityProxyMailQueue: asValue(
        new MailQueue(
          container.cradle.identityProxyMailQueueStore,
          smtpSender(settings),
          log.child({ component: 'mail' }),
        ),
      ),
    });
  },
  routes(router, { cradle }) {
    validationRoutes(router, cradle);
    threepidRoutes(router, cradle);
  },
  async start(cradle) {
    cradle.identityProxyThreepids.connectToAuth();
    cradle.identityProxyMailQueue.start();
    const logger = cradle.logger.child({ module: 'identity-proxy' });
    const clean = setInterval(() => {
      cradle.identityProxyValidation
        .cleanup()
        .catch((err: unknown) => logger.warn({ err }, 'housekeeping failed'));
    }, HOUSEKEEPING_INTERVAL_MS);
    clean.unref();
    timers.set(cradle.identityProxyMailQueue, clean);
  },
  async stop(cradle) {
    clearInterval(timers.get(cradle.identityProxyMailQueue));
    timers.delete(cradle.identityProxyMailQueue);
    await cradle.identityProxyMailQueue.stop();
  },
});

/** nodemailer over SMTP with Synapse's email.* settings; without email configured nothing is ever queued. */
function smtpSender(settings: IdentityProxySettings): SendMail {
  const email = settings.email;
  if (!email) return () => Promise.reject(new Error('email is not configured'));
  const c = email.config;
  const transport = nodemailer.createTransport({
    host: c.smtp_host,
    port: c.smtp_port,
    secure: c.force_tls,
    requireTLS: c.require_transport_security,
    ignoreTLS: !c.enable_tls && !c.require_transport_security,
    tls: { servername: c.tlsname ?? c.smtp_host },
    ...(c.smtp_user ? { auth: { user: c.smtp_user, pass: c.smtp_pass ?? '' } } : {}),
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  });
  return async (mail) => {
    await transport.sendMail({
      from: email.from,
      to: mail.recipient,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  };
}
