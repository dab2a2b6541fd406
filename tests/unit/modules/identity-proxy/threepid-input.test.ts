import t from 'tap';
import { MatrixError } from '../../../../core/errors.js';
import {
  canonicalAddress,
  canonicalEmail,
  checkClientSecret,
  checkNextLink,
  checkSendAttempt,
} from '../../../../modules/identity-proxy/services/threepid-input.js';

const errcodeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof MatrixError ? err.errcode : 'not a MatrixError';
  }
};

void t.test('canonicalEmail', async (t) => {
  t.equal(canonicalEmail('  Alice.B+tag@Example.ORG '), 'alice.b+tag@example.org');
  t.equal(canonicalEmail('x@localhost'), 'x@localhost');
  for (const bad of [
    '',
    'a',
    'a@',
    '@b',
    'a@b@c',
    'a b@c.org',
    'a@c_d.org',
    '.a@b.org',
    'a.@b.org',
    'a@[127.0.0.1]',
    '"a"@b.org',
    'a@b..org',
  ]) {
    t.equal(
      errcodeOf(() => canonicalEmail(bad)),
      'M_INVALID_PARAM',
      bad,
    );
  }
  t.equal(
    errcodeOf(() => canonicalEmail(undefined)),
    'M_MISSING_PARAM',
  );
});

void t.test('checkClientSecret', async (t) => {
  t.equal(checkClientSecret('aA0.=_-'), 'aA0.=_-');
  t.equal(
    errcodeOf(() => checkClientSecret('a b')),
    'M_INVALID_PARAM',
  );
  t.equal(
    errcodeOf(() => checkClientSecret('x'.repeat(256))),
    'M_INVALID_PARAM',
  );
  t.equal(
    errcodeOf(() => checkClientSecret(undefined)),
    'M_MISSING_PARAM',
  );
});

void t.test('canonicalAddress, checkNextLink, checkSendAttempt', async (t) => {
  t.same(canonicalAddress('email', 'A@B.org'), { medium: 'email', address: 'a@b.org' });
  t.same(canonicalAddress('msisdn', '447700900001'), { medium: 'msisdn', address: '447700900001' });
  t.equal(
    errcodeOf(() => canonicalAddress('msisdn', '+44 7700')),
    'M_INVALID_PARAM',
  );
  t.equal(
    errcodeOf(() => canonicalAddress('fax', '1')),
    'M_THREEPID_MEDIUM_NOT_SUPPORTED',
  );
  t.equal(checkNextLink(undefined), null);
  t.equal(checkNextLink('https://a.example/x'), 'https://a.example/x');
  t.equal(
    errcodeOf(() => checkNextLink('data:text/html,x')),
    'M_INVALID_PARAM',
  );
  t.equal(
    errcodeOf(() => checkNextLink('not a url')),
    'M_INVALID_PARAM',
  );
  t.equal(checkSendAttempt(0), 0);
  t.equal(
    errcodeOf(() => checkSendAttempt(2 ** 31)),
    'M_INVALID_PARAM',
  );
});
