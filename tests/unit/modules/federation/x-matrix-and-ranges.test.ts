import t from 'tap';
import {
  certificateVerificationSkipper,
  checkFederationConfig,
  FederationConfigSchema,
  ipRangeFilter,
} from '../../../../modules/federation/config.js';
import { IpRangeFilter } from '../../../../core/http/ip-range-filter.js';
import { formatXMatrix, parseXMatrix } from '../../../../modules/federation/services/x-matrix.js';
import { compileSchema, configAjv } from '../../../../core/validation.js';
import type { FederationConfig } from '../../../../modules/federation/config.js';

void t.test('X-Matrix: what we send parses back', async (t) => {
  const header = formatXMatrix({
    origin: 'a.example:8448',
    destination: 'b.example',
    key: 'ed25519:k1',
    sig: 'ab+/c',
  });
  t.equal(header, 'X-Matrix origin="a.example:8448",destination="b.example",key="ed25519:k1",sig="ab+/c"');
  t.same(parseXMatrix(header), {
    origin: 'a.example:8448',
    destination: 'b.example',
    key: 'ed25519:k1',
    sig: 'ab+/c',
  });
});

void t.test('X-Matrix: RFC 9110 auth-params as the spec allows them', async (t) => {
  t.same(
    parseXMatrix('x-matrix   ORIGIN=a.example:8448 ,\tKey="ed25519:k" , sig="s\\"x" ,unknown=1'),
    { origin: 'a.example:8448', key: 'ed25519:k', sig: 's"x' },
    'case-insensitive names, unquoted values with colons, escapes, whitespace around commas, unknown ignored',
  );
  t.equal(parseXMatrix('Bearer abc'), undefined, 'another scheme');
  t.equal(parseXMatrix('X-Matrix origin="a",key="k"'), undefined, 'no sig');
  t.equal(parseXMatrix('X-Matrix origin="a,key="k",sig="s'), undefined, 'unterminated quote');
  t.equal(parseXMatrix('X-Matrix origin="a" key="k",sig="s"'), undefined, 'missing comma');
  t.equal(parseXMatrix('X-Matrix origin=,key=k,sig=s'), undefined, 'empty origin');
});

void t.test(
  'IP ranges: Synapse’s private default, whitelist wins, mapped IPv4, unspecified always refused',
  async (t) => {
    const defaults = ipRangeFilter({ ip_range_whitelist: [] } as unknown as FederationConfig);
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.1.1',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
      '::',
    ]) {
      t.ok(defaults.isBlocked(a), `${a} refused by default`);
    }
    for (const a of ['8.8.8.8', '2606:4700::1111']) t.notOk(defaults.isBlocked(a), `${a} allowed`);
    t.ok(defaults.isBlocked('not-an-ip'));
    const loopback = new IpRangeFilter(['127.0.0.0/8', '::1/128'], ['127.0.0.0/8']);
    t.notOk(loopback.isBlocked('127.0.0.1'), 'whitelisted loopback');
    t.ok(loopback.isBlocked('::1'));
    const none = new IpRangeFilter([], []);
    t.notOk(none.isBlocked('10.0.0.1'), 'an explicit empty blacklist allows private ranges');
    t.ok(none.isBlocked('0.0.0.0'), 'but never 0.0.0.0');
    t.throws(() => new IpRangeFilter(['10.0.0.0/40'], []), /not an IP address or CIDR/);
  },
);

void t.test('config: Synapse defaults and boot checks', async (t) => {
  const config: Record<string, unknown> = {};
  t.ok(compileSchema(FederationConfigSchema, configAjv)(config));
  t.same(config['trusted_key_servers'], [{ server_name: 'matrix.org' }]);
  t.equal(config['federation_verify_certificates'], true);
  t.same(checkFederationConfig(config as FederationConfig), [
    { serverName: 'matrix.org', verifyKeys: undefined },
  ]);

  const insecure: Record<string, unknown> = { trusted_key_servers: [{ server_name: 'notary.example' }] };
  compileSchema(FederationConfigSchema, configAjv)(insecure);
  t.throws(() => checkFederationConfig(insecure as FederationConfig), /has no verify_keys/);
  (insecure['trusted_key_servers'] as Record<string, unknown>[])[0]!['accept_keys_insecurely'] = true;
  t.ok(checkFederationConfig(insecure as FederationConfig));

  const bad: Record<string, unknown> = {
    trusted_key_servers: [{ server_name: 'n.example', verify_keys: { 'ed25519:a': 'short' } }],
    ip_range_blacklist: ['nonsense'],
    federation_domain_whitelist: ['bad name'],
  };
  compileSchema(FederationConfigSchema, configAjv)(bad);
  let message = '';
  try {
    checkFederationConfig(bad as FederationConfig);
  } catch (err) {
    message = (err as Error).message;
  }
  t.match(message, /verify_keys/, 'every problem at once: the key');
  t.match(message, /nonsense/, 'the range');
  t.match(message, /federation_domain_whitelist/, 'the whitelist');
});

void t.test(
  'federation_certificate_verification_whitelist matches as Synapse: whole names, * wildcard',
  async (t) => {
    const skip = certificateVerificationSkipper(['lon.example.com', '*.onion', '*.Domain.com']);
    t.ok(skip('lon.example.com'));
    t.ok(skip('abc.onion'));
    t.ok(skip('a.b.domain.com'), 'case-insensitive, several labels');
    t.notOk(skip('xlon.example.com'));
    t.notOk(skip('domain.com'));
    t.notOk(skip('lon.example.com.evil'));
    t.notOk(certificateVerificationSkipper([])('anything'));
  },
);
