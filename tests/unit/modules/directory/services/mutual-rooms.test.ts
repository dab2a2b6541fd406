import t from 'tap';
import type { Cradle } from '../../../../../core/container.js';
import type { AliasService } from '../../../../../modules/directory/services/alias-service.js';
import type { RoomFacts } from '../../../../../modules/directory/services/room-facts.js';
import { SpacesService } from '../../../../../modules/directory/services/spaces-service.js';

const shared = Array.from({ length: 250 }, (_, i) => `!r${String(i).padStart(3, '0')}:test.local`);
const joined: Record<string, string[]> = {
  '@alice:test.local': [...shared, '!alice-only:test.local'].reverse(),
  '@bob:test.local': [...shared, '!bob-only:test.local'],
};
const roomsApi = {
  joinedRooms: (userId: string) => Promise.resolve(joined[userId] ?? []),
} as unknown as Cradle['roomsApi'];
const service = new SpacesService({
  roomsApi,
  directoryRoomFacts: {} as RoomFacts,
  directoryAliasService: {} as AliasService,
});

void t.test('mutual rooms come in batches of 100 with the total count', async (t) => {
  const seen: string[] = [];
  let from: string | undefined;
  let pages = 0;
  do {
    const page = await service.mutualRooms('@alice:test.local', '@bob:test.local', from);
    t.equal(page.count, 250);
    seen.push(...page.joined);
    from = page.next_batch;
    pages++;
  } while (from !== undefined && pages < 10);
  t.equal(pages, 3);
  t.same(seen, shared);
});

void t.test('a user sharing nothing gets an empty list; bad tokens are 400', async (t) => {
  t.same(await service.mutualRooms('@alice:test.local', '@nobody:test.local'), { joined: [], count: 0 });
  const err = await service
    .mutualRooms('@alice:test.local', '@bob:test.local', 'garbage')
    .catch((e: unknown) => e);
  t.match(err, { status: 400, errcode: 'M_INVALID_PARAM' });
});
