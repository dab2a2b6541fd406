import t from 'tap';
import { RateLimiter } from '../../../../core/http/rate-limit.js';

function limiter(per_second: number, burst_count: number) {
  let now = 1_000_000;
  const l = new RateLimiter({ per_second, burst_count }, { now: () => now });
  return { l, advance: (ms: number) => void (now += ms) };
}

void t.test('allows burst_count actions at once, then refuses with a retry time', async (t) => {
  const { l } = limiter(0.5, 3);
  for (let i = 0; i < 3; i++) t.equal(l.check('ip').allowed, true);
  const refused = l.check('ip');
  t.equal(refused.allowed, false);
  t.equal(refused.retryAfterMs, 2000, 'one action regained after 1/per_second seconds');
});

void t.test('regains per_second actions per second, capped at the burst', async (t) => {
  const { l, advance } = limiter(1, 2);
  l.check('k');
  l.check('k');
  advance(1000);
  t.equal(l.check('k').allowed, true);
  t.equal(l.check('k').allowed, false);
  advance(60_000);
  t.equal(l.check('k').allowed, true);
  t.equal(l.check('k').allowed, true);
  t.equal(l.check('k').allowed, false, 'never more than burst_count saved up');
});

void t.test('keys are independent', async (t) => {
  const { l } = limiter(0.1, 1);
  t.equal(l.check('a').allowed, true);
  t.equal(l.check('b').allowed, true);
  t.equal(l.check('a').allowed, false);
});

void t.test('update: false asks without spending; record spends regardless', async (t) => {
  const { l } = limiter(0.1, 2);
  t.equal(l.check('k', { update: false }).allowed, true);
  t.equal(l.check('k', { update: false }).allowed, true);
  l.record('k');
  l.record('k');
  t.equal(l.check('k', { update: false }).allowed, false);
  l.reset('k');
  t.equal(l.check('k').allowed, true);
});

void t.test('assert throws 429 M_LIMIT_EXCEEDED with retry_after_ms', async (t) => {
  const { l } = limiter(1, 1);
  l.assert('k');
  t.throws(() => l.assert('k'), {
    name: 'MatrixError',
    status: 429,
    errcode: 'M_LIMIT_EXCEEDED',
    extra: { retry_after_ms: 1000 },
  });
});

void t.test('idle keys are forgotten and the key count is bounded', async (t) => {
  let now = 0;
  const l = new RateLimiter({ per_second: 1, burst_count: 1 }, { now: () => now, maxKeys: 2 });
  l.check('a');
  l.check('b');
  l.check('c');
  t.equal(l.check('a').allowed, true, 'the oldest key was evicted');
  now += 5000;
  t.equal(l.check('b').allowed, true);
});
