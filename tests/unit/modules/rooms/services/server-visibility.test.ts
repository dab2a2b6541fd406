/** The per-server history visibility rule (Synapse's filter_events_for_server), as a pure function. */
import t from 'tap';
import { serverMaySee } from '../../../../../modules/rooms/services/server-visibility.js';

void t.test('shared and world_readable: visible whatever the memberships', async (t) => {
  for (const visibility of ['shared', 'world_readable', 'something-unknown']) {
    t.ok(serverMaySee({ visibility, memberships: [] }), visibility);
    t.ok(serverMaySee({ visibility, memberships: ['leave'] }), visibility);
  }
});

void t.test('invited: a joined or invited user of the server', async (t) => {
  t.ok(serverMaySee({ visibility: 'invited', memberships: ['invite'] }));
  t.ok(serverMaySee({ visibility: 'invited', memberships: ['leave', 'join'] }));
  t.notOk(serverMaySee({ visibility: 'invited', memberships: ['leave', 'ban', 'knock'] }));
  t.notOk(serverMaySee({ visibility: 'invited', memberships: [] }));
});

void t.test('joined: a joined user of the server only', async (t) => {
  t.ok(serverMaySee({ visibility: 'joined', memberships: ['invite', 'join'] }));
  t.notOk(serverMaySee({ visibility: 'joined', memberships: ['invite'] }));
  t.notOk(serverMaySee({ visibility: 'joined', memberships: [] }));
});
