import t from 'tap';
import { DurationSchema, parseDuration, parseSize, SizeSchema } from '../../../../core/config/units.js';
import { compileSchema, configAjv } from '../../../../core/validation.js';

void t.test('sizes use Synapse syntax with 1024-based suffixes', async (t) => {
  t.equal(parseSize('50M'), 50 * 1024 * 1024);
  t.equal(parseSize('10K'), 10240);
  t.equal(parseSize('2G'), 2 * 1024 ** 3);
  t.equal(parseSize('1T'), 1024 ** 4);
  t.equal(parseSize(' 3 M '), 3 * 1024 * 1024);
  t.equal(parseSize(1234), 1234);
  t.equal(parseSize('77'), 77);
  t.throws(() => parseSize('5MB'), /invalid size "5MB"/);
  t.throws(() => parseSize('-1'));
});

void t.test('durations use Synapse syntax, bare numbers are milliseconds', async (t) => {
  t.equal(parseDuration(1500), 1500);
  t.equal(parseDuration('1500'), 1500);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('30s'), 30_000);
  t.equal(parseDuration('5m'), 300_000);
  t.equal(parseDuration('1h'), 3_600_000);
  t.equal(parseDuration('24h'), 86_400_000);
  t.equal(parseDuration('2d'), 172_800_000);
  t.equal(parseDuration('90d'), 90 * 86_400_000);
  t.equal(parseDuration('1w'), 604_800_000);
  t.equal(parseDuration('1y'), 365 * 86_400_000);
  t.throws(() => parseDuration('5 minutes'), /invalid duration "5 minutes"/);
  t.throws(() => parseDuration('soon'));
});

void t.test('the schemas accept exactly what the parsers read', async (t) => {
  const size = compileSchema(SizeSchema, configAjv);
  const duration = compileSchema(DurationSchema, configAjv);
  for (const ok of [0, 77, '77', '50M', ' 3 M ']) t.ok(size(ok), `size ${JSON.stringify(ok)}`);
  for (const bad of [-1, 1.5, '5MB', 'big']) t.notOk(size(bad), `size ${JSON.stringify(bad)}`);
  for (const ok of [0, 5000, '250ms', '1y', ' 5 m']) t.ok(duration(ok), `duration ${JSON.stringify(ok)}`);
  for (const bad of [-1, '5 minutes', 'soon']) t.notOk(duration(bad), `duration ${JSON.stringify(bad)}`);
});
