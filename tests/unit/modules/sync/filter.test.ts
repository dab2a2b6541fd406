import t from 'tap';
import {
  applyEventFields,
  globMatches,
  limitEvents,
  matchesEventFilter,
  matchesRoom,
  matchesRoomEventFilter,
  splitPath,
} from '../../../../modules/sync/services/filter.js';

void t.test('* matches any sequence; other characters are literal', async (t) => {
  t.ok(globMatches('m.room.*', 'm.room.message'));
  t.ok(globMatches('*', 'anything'));
  t.notOk(globMatches('m.room.*', 'm.roomx'));
  t.notOk(globMatches('m.room.message', 'm.room.messages'));
  t.ok(globMatches('m.*.message', 'm.room.message'));
  t.notOk(globMatches('m.room.mes?age', 'm.room.message'), '? is literal');
});

void t.test('not_types wins over types; senders and not_senders', async (t) => {
  const f = { types: ['m.*'], not_types: ['m.room.member'] };
  t.ok(matchesEventFilter(f, { type: 'm.room.message' }));
  t.notOk(matchesEventFilter(f, { type: 'm.room.member' }));
  t.notOk(matchesEventFilter(f, { type: 'org.custom' }));
  t.ok(matchesEventFilter({ senders: ['@a:x'] }, { type: 't', sender: '@a:x' }));
  t.notOk(matchesEventFilter({ senders: ['@a:x'], not_senders: ['@a:x'] }, { type: 't', sender: '@a:x' }));
  t.ok(matchesEventFilter(undefined, { type: 't' }), 'no filter: everything');
  t.ok(matchesEventFilter({ types: [] }, { type: 't' }) === false, 'an empty types list matches nothing');
});

void t.test('rooms and not_rooms; not_rooms wins', async (t) => {
  t.ok(matchesRoom({ rooms: ['!a:x'] }, '!a:x'));
  t.notOk(matchesRoom({ rooms: ['!a:x'] }, '!b:x'));
  t.notOk(matchesRoom({ rooms: ['!a:x'], not_rooms: ['!a:x'] }, '!a:x'));
});

void t.test('contains_url true, false and absent', async (t) => {
  const withUrl = { type: 'm.room.message', content: { url: 'mxc://x/y' } };
  const without = { type: 'm.room.message', content: { body: 'x' } };
  t.ok(matchesRoomEventFilter({ contains_url: true }, withUrl));
  t.notOk(matchesRoomEventFilter({ contains_url: true }, without));
  t.ok(matchesRoomEventFilter({ contains_url: false }, without));
  t.notOk(matchesRoomEventFilter({ contains_url: false }, withUrl));
  t.ok(matchesRoomEventFilter({}, withUrl));
});

void t.test('limit keeps the newest events', async (t) => {
  const events = [1, 2, 3].map((n) => ({ type: `t${n}` }));
  t.same(limitEvents({ limit: 2 }, events), [{ type: 't2' }, { type: 't3' }]);
  t.same(limitEvents({ limit: 0 }, events), []);
});

void t.test('event_fields: dot paths, escapes, missing paths (spec appendix examples)', async (t) => {
  const event = {
    type: 'm.x',
    content: { body: 'b', 'm.relates_to': { rel_type: 'r' }, other: 1 },
    sender: '@a:x',
  };
  t.same(applyEventFields(event, ['type', 'content.body']), { type: 'm.x', content: { body: 'b' } });
  t.same(applyEventFields(event, ['content.m\\.relates_to.rel_type']), {
    content: { 'm.relates_to': { rel_type: 'r' } },
  });
  t.same(applyEventFields(event, ['content.nothing', 'sender']), { sender: '@a:x' });
  t.same(applyEventFields(event, undefined), event);
  t.same(splitPath('content.m\\.relates_to'), ['content', 'm.relates_to']);
  t.same(splitPath('a\\\\.b'), ['a\\', 'b']);
});
