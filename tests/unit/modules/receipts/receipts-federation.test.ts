/** ReceiptsFederation with fakes: which receipts go out, and which inbound m.receipt entries are taken. */
import t from 'tap';
import type { EduHandler } from '../../../../modules/federation/api.js';
import type { ReceiptListener, ReceiptUpdate } from '../../../../modules/receipts/api.js';
import { ReceiptsFederation } from '../../../../modules/receipts/services/receipts-federation.js';

const room = '!r:here';
const alice = '@alice:here';
const bob = '@bob:there';

function setup() {
  const members = [alice, bob];
  const listeners: ReceiptListener[] = [];
  const stored: unknown[][] = [];
  const held = new Set(['$a', '$b']);
  const sent: { destination: string; content: unknown; key: string | undefined }[] = [];
  const handlers = new Map<string, EduHandler>();
  const logged: string[] = [];
  const receiptsService = {
    onReceipt: (l: ReceiptListener) => listeners.push(l),
    storeRemote: async (...args: unknown[]) => {
      if (!held.has(args[2] as string)) return false;
      stored.push(args);
      return true;
    },
  };
  new ReceiptsFederation({
    serverName: 'here',
    logger: { info: (_o: unknown, msg: string) => logged.push(msg), warn: () => {} } as never,
    federationApi: {
      sendEdu: (destination, _type, content, options) =>
        sent.push({ destination, content, key: options?.key }),
      registerEduHandler: (type, handler) => handlers.set(type, handler),
    },
    roomsApi: {
      members: async (roomId) => (roomId === room ? members : []),
      roomVersion: async (roomId) => (roomId === room ? '10' : undefined),
    },
    receiptsService: receiptsService as never,
  }).start();
  const receive = (origin: string, content: unknown) => handlers.get('m.receipt')!({ origin, content });
  const local = async (update: Partial<ReceiptUpdate>) => {
    for (const l of listeners)
      await l({
        roomId: room,
        userId: alice,
        receiptType: 'm.read',
        eventId: '$a',
        eventStreamOrdering: 1,
        threadId: undefined,
        ts: 5,
        ...update,
      });
  };
  return { sent, stored, receive, logged, local };
}

void t.test('a local public receipt goes to the other servers; private and remote ones do not', async (t) => {
  const { sent, local } = setup();
  await local({ threadId: 'main' });
  t.same(sent, [
    {
      destination: 'there',
      content: {
        [room]: { 'm.read': { [alice]: { event_ids: ['$a'], data: { ts: 5, thread_id: 'main' } } } },
      },
      key: `receipt:${room}:${alice}:main`,
    },
  ]);
  sent.length = 0;
  await local({ receiptType: 'm.read.private' });
  await local({ userId: bob });
  t.same(sent, []);
});

void t.test('inbound m.receipt: each entry checked on its own', async (t) => {
  const { stored, receive, logged } = setup();
  await receive('there', 'nope');
  await receive('there', {
    '!unknown:here': { 'm.read': { [bob]: { event_ids: ['$a'] } } },
    [room]: {
      'm.read': {
        [alice]: { event_ids: ['$a'], data: { ts: 1 } }, // our user, claimed by them
        [bob]: { event_ids: ['$b', '$unknown'], data: { ts: 7, thread_id: 'main' } },
        '@dan:there': { event_ids: [] },
      },
      'org.example.other': { whatever: true },
    },
  });
  t.same(stored, [[bob, room, '$b', 'main', 7]], 'only bob’s, at the last event held here');
  t.equal(logged.length, 4, 'each drop logged');
  await receive('elsewhere', { [room]: { 'm.read': { '@eve:elsewhere': { event_ids: ['$a'] } } } });
  t.equal(stored.length, 1, 'a server with nobody in the room is refused');
});
