import t from 'tap';
import { growingLru } from '../../../core/lru.js';

void t.test('growingLru keeps at most `entries`, evicting the least recently used', async (t) => {
  const cache = growingLru<string, number>(3);
  cache.set('a', 1).set('b', 2).set('c', 3);
  t.equal(cache.get('a'), 1, 'a is now the most recent');
  cache.set('d', 4);
  t.same([...cache.keys()].sort(), ['a', 'c', 'd'], 'b, the least recently used, went');
  t.equal(cache.size, 3);
});

void t.test('growingLru passes other options through (ttl)', async (t) => {
  let now = 1000;
  const cache = growingLru<string, number>(10, { ttl: 50, perf: { now: () => now } });
  cache.set('x', 1);
  now += 60;
  t.equal(cache.get('x'), undefined, 'expired');
});
