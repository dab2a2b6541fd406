/** The resident's authoriser for a remote restricted join (rooms/services/restricted-joins.ts), on hand-built heads. */
import t from 'tap';
import type { MatrixError } from '../../../../../core/errors.js';
import { stateKey, type PduJson } from '../../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../../core/protocol/room-versions.js';
import type { RoomHead } from '../../../../../modules/rooms/services/room-heads.js';
import {
  allowedRooms,
  remoteJoinAuthoriser,
} from '../../../../../modules/rooms/services/restricted-joins.js';

const ALLOWED = '!space:here';

function head(
  version: string,
  joinRule: Record<string, unknown>,
  members: Record<string, string>,
  invite = 0,
): RoomHead {
  const state = new Map<ReturnType<typeof stateKey>, { eventId: string; pdu: PduJson }>();
  const put = (type: string, key: string, content: Record<string, unknown>, sender = '@alice:here') =>
    state.set(stateKey(type, key), {
      eventId: `$${type}${key}`,
      pdu: {
        room_id: '!r:here',
        sender,
        type,
        state_key: key,
        content: content as PduJson['content'],
        origin_server_ts: 0,
        depth: 1,
        prev_events: [],
        auth_events: [],
        hashes: { sha256: '' },
        signatures: {},
      },
    });
  put('m.room.create', '', { creator: '@alice:here', room_version: version });
  put('m.room.power_levels', '', { users: { '@alice:here': 100 }, invite });
  put('m.room.join_rules', '', joinRule);
  for (const [user, membership] of Object.entries(members)) put('m.room.member', user, { membership }, user);
  return {
    roomId: '!r:here',
    version: getRoomVersion(version)!,
    lastStream: 0,
    maxDepth: 1,
    extremities: [],
    stateGroup: null,
    chainLength: 0,
    state,
  };
}
const restricted = { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: ALLOWED }] };
const facts = (joined: string[], known = [ALLOWED]) => ({
  isRoomKnown: async (id: string) => known.includes(id),
  isJoined: async (id: string, user: string) => id === ALLOWED && joined.includes(user),
});
async function errcodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return (err as MatrixError).errcode;
  }
}

void t.test('allowedRooms keeps well-formed m.room_membership conditions only', async (t) => {
  t.same(
    allowedRooms({
      allow: [
        { type: 'm.room_membership', room_id: '!a:x' },
        { type: 'other', room_id: '!b:x' },
        'junk',
        { type: 'm.room_membership' },
      ],
    }),
    ['!a:x'],
  );
  t.same(allowedRooms(undefined), []);
});

void t.test('who vouches, and when nobody needs to', async (t) => {
  const members = { '@alice:here': 'join', '@bob:there': 'invite' };
  t.equal(
    await remoteJoinAuthoriser(
      head('10', restricted, members),
      '@carol:there',
      'here',
      facts(['@carol:there']),
    ),
    '@alice:here',
  );
  t.equal(
    await remoteJoinAuthoriser(
      head('10', { join_rule: 'knock_restricted', allow: restricted.allow }, members),
      '@carol:there',
      'here',
      facts(['@carol:there']),
    ),
    '@alice:here',
    'knock_restricted too',
  );
  t.equal(
    await remoteJoinAuthoriser(head('10', restricted, members), '@bob:there', 'here', facts([])),
    undefined,
    'already invited',
  );
  t.equal(
    await remoteJoinAuthoriser(
      head('10', { join_rule: 'public' }, members),
      '@carol:there',
      'here',
      facts([]),
    ),
    undefined,
    'public',
  );
  t.equal(
    await remoteJoinAuthoriser(head('7', restricted, members), '@carol:there', 'here', facts([])),
    undefined,
    'v7 has no restricted rule',
  );
});

void t.test('the spec’s errors', async (t) => {
  const members = { '@alice:here': 'join' };
  t.equal(
    await errcodeOf(remoteJoinAuthoriser(head('10', restricted, members), '@carol:there', 'here', facts([]))),
    'M_FORBIDDEN',
  );
  t.equal(
    await errcodeOf(
      remoteJoinAuthoriser(
        head('10', restricted, members),
        '@carol:there',
        'here',
        facts(['@carol:there'], []),
      ),
    ),
    'M_UNABLE_TO_AUTHORISE_JOIN',
  );
  t.equal(
    await errcodeOf(
      remoteJoinAuthoriser(
        head('10', restricted, members, 101),
        '@carol:there',
        'here',
        facts(['@carol:there']),
      ),
    ),
    'M_UNABLE_TO_GRANT_JOIN',
  );
  t.equal(
    await errcodeOf(
      remoteJoinAuthoriser(
        head('10', { join_rule: 'restricted', allow: [] }, members),
        '@carol:there',
        'here',
        facts([]),
      ),
    ),
    'M_FORBIDDEN',
    'an empty allow list admits nobody',
  );
  t.equal(
    await errcodeOf(
      remoteJoinAuthoriser(
        head('10', restricted, { '@alice:here': 'join', '@dan:other': 'join' }, 50),
        '@carol:there',
        'other',
        facts(['@carol:there']),
      ),
    ),
    'M_UNABLE_TO_GRANT_JOIN',
    'only a user of this server who may invite vouches',
  );
});
