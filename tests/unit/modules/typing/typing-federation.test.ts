/** TypingFederation with fakes: who gets local typing, and which inbound m.typing EDUs are taken. */
import t from 'tap';
import type { Test } from 'tap';
import { InProcessNotifier } from '../../../../core/notifier/in-process.js';
import type { EduHandler } from '../../../../modules/federation/api.js';
import { TypingFederation } from '../../../../modules/typing/services/typing-federation.js';
import { TypingService } from '../../../../modules/typing/services/typing-service.js';

const room = '!r:here';
const alice = '@alice:here';
const bob = '@bob:there';
const carol = '@carol:elsewhere:8448';

function setup(t: Test) {
  const joined = new Set([alice, bob, carol]);
  const typingRooms = { isJoined: async (_r: string, u: string) => joined.has(u) };
  const typingService = new TypingService({ notifier: new InProcessNotifier(), typingRooms });
  t.teardown(() => typingService.clear());
  const sent: { destination: string; content: unknown; key: string | undefined }[] = [];
  const handlers = new Map<string, EduHandler>();
  const logged: string[] = [];
  const logger = { info: (_o: unknown, msg: string) => logged.push(msg), warn: () => {} };
  new TypingFederation({
    serverName: 'here',
    logger: logger as never,
    federationApi: {
      sendEdu: (destination, _type, content, options) =>
        sent.push({ destination, content, key: options?.key }),
      registerEduHandler: (type, handler) => handlers.set(type, handler),
    },
    roomsApi: { members: async () => [...joined] },
    typingService,
    typingRooms,
  }).start();
  const receive = (origin: string, content: unknown) => handlers.get('m.typing')!({ origin, content });
  return { typingService, sent, receive, logged, joined };
}

const settle = () => new Promise((r) => setImmediate(r));

void t.test('a local user’s typing goes to every other server in the room, keyed', async (t) => {
  const { typingService, sent } = setup(t);
  await typingService.setTyping(alice, room, alice, true, 10_000);
  await settle();
  t.same(
    sent.map((s) => s.destination).sort(),
    ['elsewhere:8448', 'there'],
    'each remote server once; never ourselves',
  );
  t.same(sent[0]!.content, { room_id: room, user_id: alice, typing: true });
  t.equal(sent[0]!.key, `typing:${room}:${alice}`);
  sent.length = 0;
  await typingService.setTyping(alice, room, alice, false);
  await settle();
  t.same(
    sent.map((s) => (s.content as { typing: boolean }).typing),
    [false, false],
    'the stop too',
  );
});

void t.test('remote typing is not sent back out', async (t) => {
  const { sent, receive, typingService } = setup(t);
  await receive('there', { room_id: room, user_id: bob, typing: true });
  await settle();
  t.same(typingService.typingIn(room), [bob]);
  t.same(sent, []);
});

void t.test('inbound m.typing: only well formed, of the origin’s user, joined', async (t) => {
  const { receive, typingService, logged, joined } = setup(t);
  joined.delete(carol);
  for (const content of [
    null,
    [],
    { room_id: room, user_id: bob },
    { room_id: room, user_id: bob, typing: 1 },
    { room_id: 5, user_id: bob, typing: true },
    { room_id: room, user_id: bob, typing: true, timeout: -1 },
    { room_id: room, user_id: bob, typing: true, timeout: 'soon' },
  ])
    await receive('there', content);
  await receive('there', { room_id: room, user_id: alice, typing: true }); // our user, claimed by them
  await receive('elsewhere:8448', { room_id: room, user_id: carol, typing: true }); // not joined
  t.same(typingService.typingIn(room), [], 'none taken');
  t.equal(logged.length, 9, 'each drop logged');
});

void t.test('remote typing stops on typing: false or after the EDU’s timeout', async (t) => {
  const { receive, typingService } = setup(t);
  await receive('there', { room_id: room, user_id: bob, typing: true, timeout: 20 });
  t.same(typingService.typingIn(room), [bob]);
  await new Promise((r) => setTimeout(r, 60));
  t.same(typingService.typingIn(room), [], 'expired');
  await receive('there', { room_id: room, user_id: bob, typing: true });
  await receive('there', { room_id: room, user_id: bob, typing: false });
  t.same(typingService.typingIn(room), [], 'stopped');
});
