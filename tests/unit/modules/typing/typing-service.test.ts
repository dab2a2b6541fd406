import t from 'tap';
import type { Test } from 'tap';
import type { StreamChange } from '../../../../core/notifier/notifier.js';
import { InProcessNotifier } from '../../../../core/notifier/in-process.js';
import { TypingService } from '../../../../modules/typing/services/typing-service.js';
import { TypingSyncFeed } from '../../../../modules/typing/services/typing-feed.js';

const room = '!r:test';
const alice = '@alice:test';
const bob = '@bob:test';

function setup(t: Test) {
  const notifier = new InProcessNotifier();
  const published: StreamChange[] = [];
  notifier.subscribe({ all: true }, (c) => published.push(c));
  const joined = new Set([alice, bob]);
  const typingService = new TypingService({
    notifier,
    typingRooms: { isJoined: async (_r, u) => joined.has(u) },
  });
  t.teardown(() => typingService.clear());
  const feed = new TypingSyncFeed({ typingService });
  const window = (from: number, to: number, newRoomIds: string[] = []) => ({
    deviceId: null,
    roomIds: [room],
    newRoomIds,
    from,
    to,
  });
  return { typingService, published, feed, window };
}

void t.test('typing advances the stream and wakes the room', async (t) => {
  const { typingService, published } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  t.same(typingService.typingIn(room), [alice]);
  t.same(published, [{ stream: 'typing', position: 1, roomIds: [room] }]);
});

void t.test('refreshing an ongoing typing notification does not wake anyone', async (t) => {
  const { typingService, published } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  t.equal(published.length, 1);
});

void t.test('typing stops after the timeout', async (t) => {
  const { typingService, published } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 30);
  await new Promise((r) => setTimeout(r, 80));
  t.same(typingService.typingIn(room), []);
  t.equal(published.length, 2, 'the expiry is a change too');
});

void t.test('typing: false stops at once', async (t) => {
  const { typingService } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  await typingService.setTyping(alice, room, alice, false);
  t.same(typingService.typingIn(room), []);
});

void t.test('another user’s typing state cannot be set', async (t) => {
  const { typingService } = setup(t);
  t.match(await typingService.setTyping(alice, room, bob, true, 1000).catch((e: unknown) => e), {
    status: 403,
    errcode: 'M_FORBIDDEN',
  });
});

void t.test('a user who is not joined cannot type', async (t) => {
  const { typingService } = setup(t);
  t.match(
    await typingService.setTyping('@eve:test', room, '@eve:test', true, 1000).catch((e: unknown) => e),
    {
      status: 403,
      errcode: 'M_FORBIDDEN',
    },
  );
});

void t.test('feed: a change in the window yields the full list; an empty list clears', async (t) => {
  const { typingService, feed, window } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  await typingService.setTyping(bob, room, bob, true, 10_000);
  t.same((await feed.changesFor(bob, window(1, 2))).data, {
    [room]: [{ type: 'm.typing', content: { user_ids: [alice, bob] } }],
  });
  t.same((await feed.changesFor(bob, window(2, 2))).data, {}, 'nothing new');
  await typingService.setTyping(alice, room, alice, false);
  await typingService.setTyping(bob, room, bob, false);
  t.same((await feed.changesFor(bob, window(2, 4))).data, {
    [room]: [{ type: 'm.typing', content: { user_ids: [] } }],
  });
});

void t.test('feed: a new room shows current typists; a token from a previous run counts as 0', async (t) => {
  const { typingService, feed, window } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  t.same((await feed.changesFor(bob, window(1, 1, [room]))).data[room], [
    { type: 'm.typing', content: { user_ids: [alice] } },
  ]);
  t.same((await feed.changesFor(bob, window(500, 1))).data[room], [
    { type: 'm.typing', content: { user_ids: [alice] } },
  ]);
});
