/**
 * A real SMTP server (the smtp-server package) on 127.0.0.1, port 0, that keeps every message it receives,
 * and helpers to read a validation link out of a message as a user's mail client would.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Test } from 'tap';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  /** The raw message with quoted-printable soft breaks and escapes decoded. */
  readonly text: string;
}

export interface TestSmtp {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Waits until `count` mails arrived in total (default: one more than now). */
  waitFor(count?: number, timeoutMs?: number): Promise<ReceivedMail>;
  /** Refuse the next `n` messages with a temporary failure (the queue must retry). */
  failNext(n: number): void;
}

function decodeQuotedPrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export async function startSmtp(t: Test): Promise<TestSmtp> {
  const mails: ReceivedMail[] = [];
  let failures = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (failures > 0) {
          failures--;
          const err = new Error('try again later') as Error & { responseCode: number };
          err.responseCode = 451;
          callback(err);
          return;
        }
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          text: decodeQuotedPrintable(Buffer.concat(chunks).toString('utf8')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    failNext: (n) => {
      failures = n;
    },
    async waitFor(count = mails.length + 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (mails.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} mails, got ${mails.length}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return mails[count - 1]!;
    },
  };
}

/** The validation link in a mail (first one, from the text part), as path + query against the server. */
export function linkIn(mail: ReceivedMail): {
  path: string;
  sid: string;
  clientSecret: string;
  token: string;
} {
  const match = /https?:\/\/[^\s"<>]+submit_token\?[^\s"<>]+/.exec(mail.text);
  if (!match) throw new Error(`no link in mail:\n${mail.text}`);
  const url = new URL(match[0]);
  return {
    path: url.pathname + url.search,
    sid: url.searchParams.get('sid') ?? '',
    clientSecret: url.searchParams.get('client_secret') ?? '',
    token: url.searchParams.get('token') ?? '',
  };
}

/** homeserver.yaml keys for a server that mails through `smtp`. */
export function emailConfig(smtp: TestSmtp, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    public_baseurl: 'https://hs.test/',
    email: {
      smtp_host: '127.0.0.1',
      smtp_port: smtp.port,
      enable_tls: false,
      notif_from: 'Axon %(app)s <noreply@test.local>',
      app_name: 'AxonTest',
      ...extra,
    },
    rc_3pid_validation: { per_second: 1000, burst_count: 1000 },
  };
}
