import t from 'tap';
import {
  compareSpaceChildren,
  validOrder,
} from '../../../../../modules/directory/services/space-child-order.js';

const child = (stateKey: string, ts: number, order?: unknown) => ({
  state_key: stateKey,
  origin_server_ts: ts,
  content: order === undefined ? { via: ['example.org'] } : { order, via: ['example.org'] },
});

void t.test('the spec example orders b, a, c, e, d', async (t) => {
  const children = [
    child('!b:example.org', 1640341000000, ' '),
    child('!a:example.org', 1640141000000, 'aaaa'),
    child('!c:example.org', 1640841000000, 'first'),
    child('!e:example.org', 1640641000000),
    child('!d:example.org', 1640741000000),
  ];
  const shuffled = [children[4], children[2], children[0], children[3], children[1]].filter(
    (c) => c !== undefined,
  );
  t.same(
    shuffled.sort(compareSpaceChildren).map((c) => c.state_key),
    ['!b:example.org', '!a:example.org', '!c:example.org', '!e:example.org', '!d:example.org'],
  );
});

void t.test('equal orders fall back to timestamps, then room ids', async (t) => {
  const sorted = [
    child('!z:x', 2, 'same'),
    child('!y:x', 1, 'same'),
    child('!b:x', 5),
    child('!a:x', 5),
  ].sort(compareSpaceChildren);
  t.same(
    sorted.map((c) => c.state_key),
    ['!y:x', '!z:x', '!a:x', '!b:x'],
  );
});

void t.test('invalid orders count as absent', async (t) => {
  t.equal(validOrder('a'.repeat(50)), 'a'.repeat(50));
  t.equal(validOrder('a'.repeat(51)), undefined);
  t.equal(validOrder('tab\there'), undefined);
  t.equal(validOrder('é'), undefined);
  t.equal(validOrder(5), undefined);
  const sorted = [child('!late:x', 9, 'x'.repeat(51)), child('!early:x', 1)].sort(compareSpaceChildren);
  t.same(
    sorted.map((c) => c.state_key),
    ['!early:x', '!late:x'],
  );
});
