import t from 'tap';
import { RECOMMENDED_IP_RANGE_BLACKLIST } from '../../../../../modules/url-previews/config.js';
import { IpRangeFilter } from '../../../../../core/http/ip-range-filter.js';

const filter = new IpRangeFilter(RECOMMENDED_IP_RANGE_BLACKLIST, []);

void t.test(
  'the recommended blacklist blocks private, loopback, link-local, CGNAT and ULA addresses',
  async (t) => {
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '224.0.0.1',
      '::1',
      'fe80::1',
      'fd00::1',
      'fc12::1',
      '2001:db8::1',
      'ff02::1',
    ]) {
      t.ok(filter.isBlocked(address), address);
    }
  },
);

void t.test('unspecified and IPv4-mapped addresses are blocked too', async (t) => {
  for (const address of ['0.0.0.0', '::', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not-an-ip']) {
    t.ok(filter.isBlocked(address), address);
  }
});

void t.test('public addresses pass', async (t) => {
  for (const address of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    t.notOk(filter.isBlocked(address), address);
  }
});

void t.test('the whitelist overrides the blacklist', async (t) => {
  const allowing = new IpRangeFilter(RECOMMENDED_IP_RANGE_BLACKLIST, ['127.0.0.1', '10.10.0.0/16']);
  t.notOk(allowing.isBlocked('127.0.0.1'));
  t.ok(allowing.isBlocked('127.0.0.2'));
  t.notOk(allowing.isBlocked('10.10.3.4'));
  t.ok(allowing.isBlocked('10.11.3.4'));
});

void t.test('invalid ranges are rejected with the entry named', async (t) => {
  t.throws(() => new IpRangeFilter(['10.0.0.0/33'], []), /10\.0\.0\.0\/33/);
  t.throws(() => new IpRangeFilter(['example.com'], []), /example\.com/);
  t.throws(() => new IpRangeFilter([], ['1.2.3.4/8/9']), /1\.2\.3\.4\/8\/9/);
});
