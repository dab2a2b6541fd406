/** Fetched outliers are checked in auth order: each after the events of the set it cites as auth events. */
import t from 'tap';
import type { PduJson } from '../../../../../core/protocol/pdu.js';
import type { PduAccepted } from '../../../../../core/protocol/pdu-receipt.js';
import { authOrder } from '../../../../../modules/rooms/services/missing-events.js';

function event(id: string, depth: number, auth: string[]): PduAccepted {
  const pdu = { type: 'm.room.member', depth, auth_events: auth, prev_events: [] } as unknown as PduJson;
  return { accepted: true, eventId: id, pdu, redacted: false, signedBy: [] };
}

void t.test('auth events first, whatever the order given or the depths', async (t) => {
  const set = new Map(
    [
      event('$member', 2, ['$power', '$create']),
      event('$power', 9, ['$create']), // a deeper auth event still comes first
      event('$create', 1, []),
      event('$other', 3, ['$unknown-here']),
    ].map((e) => [e.eventId, e]),
  );
  const order = authOrder(set).map((e) => e.eventId);
  t.ok(order.indexOf('$create') < order.indexOf('$power'));
  t.ok(order.indexOf('$power') < order.indexOf('$member'));
  t.equal(order.length, 4, 'every event once; auth events outside the set are not waited for');
});

void t.test('a cycle does not loop', async (t) => {
  const set = new Map([event('$a', 1, ['$b']), event('$b', 2, ['$a'])].map((e) => [e.eventId, e]));
  t.same(
    authOrder(set)
      .map((e) => e.eventId)
      .sort(),
    ['$a', '$b'],
  );
});
