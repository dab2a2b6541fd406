/**
 * BundleCache: rows come back per parent only while nothing new happened in the parent's room (the notifier's
 * `events` changes), a page is a hit only when every parent is, and a read that raced a change is stored
 * already stale; an entry expires after a while (writes by another process are not heard).
 */
import t from 'tap';
import type { ChangeListener, StreamChange } from '../../../../../core/notifier/notifier.js';
import type { StoredEvent } from '../../../../../modules/rooms/store/event-rows.js';
import { BundleCache } from '../../../../../modules/rooms/services/bundle-cache.js';

function event(eventId: string, roomId: string, relatesTo: string | null = null): StoredEvent {
  return {
    streamOrdering: 1,
    eventId,
    roomId,
    type: 'm.room.message',
    stateKey: null,
    sender: '@a:x',
    depth: 1,
    originServerTs: 1,
    pdu: {
      sender: '@a:x',
      type: 'm.room.message',
      content: {},
      origin_server_ts: 1,
      depth: 1,
      prev_events: [],
      auth_events: [],
      hashes: { sha256: 'x' },
      signatures: {},
    },
    unsigned: undefined,
    redactedBy: null,
    rejectedReason: null,
    stateGroup: null,
    membership: null,
    relatesTo,
    relType: relatesTo === null ? null : 'm.replace',
  };
}

function notifier(): {
  subscribe: (i: unknown, l: ChangeListener) => () => void;
  publish: (c: StreamChange) => void;
} {
  const listeners: ChangeListener[] = [];
  return {
    subscribe: (_interest, listener) => {
      listeners.push(listener);
      return () => undefined;
    },
    publish: (change) => listeners.forEach((l) => l(change)),
  };
}

void t.test('hits while the room is unchanged, misses after any new event there', async (t) => {
  const n = notifier();
  const cache = new BundleCache(n);
  const a = event('$a', '!r');
  const b = event('$b', '!r');
  const edit = event('$edit', '!r', '$a');
  t.equal(cache.get([a, b]), undefined, 'empty');
  cache.set([a, b], { edits: [edit], references: [], threads: [] }, cache.generation('!r'));
  t.same(
    cache.get([a, b])?.edits.map((e) => e.eventId),
    ['$edit'],
  );
  t.same(
    cache.get([b]),
    { edits: [], references: [], threads: [] },
    'a parent without children is a hit too',
  );
  t.equal(cache.get([a, event('$c', '!r')]), undefined, 'one unknown parent: a miss for the page');

  n.publish({ stream: 'typing', position: 5, roomIds: ['!r'] });
  t.ok(cache.get([a]), 'other streams do not matter');
  n.publish({ stream: 'events', position: 6, roomIds: ['!other'] });
  t.ok(cache.get([a]), 'nor other rooms');
  n.publish({ stream: 'events', position: 7, roomIds: ['!r'] });
  t.equal(cache.get([a]), undefined, 'a new event in the room: stale');
});

void t.test('a read that raced a change is stored stale', async (t) => {
  const n = notifier();
  const cache = new BundleCache(n);
  const a = event('$a', '!r');
  const before = cache.generation('!r');
  n.publish({ stream: 'events', position: 1, roomIds: ['!r'] });
  cache.set([a], { edits: [], references: [], threads: [] }, before);
  t.equal(cache.get([a]), undefined);
});

void t.test('without a notifier nothing is kept (nothing would make it stale)', async (t) => {
  const cache = new BundleCache(undefined);
  const a = event('$a', '!r');
  cache.set([a], { edits: [], references: [], threads: [] }, cache.generation('!r'));
  t.equal(cache.get([a]), undefined);
});

void t.test('an entry expires (another process may have written)', async (t) => {
  let now = 1_000;
  const cache = new BundleCache(notifier(), () => now);
  const a = event('$a', '!r');
  cache.set([a], { edits: [], references: [], threads: [] }, cache.generation('!r'));
  now += 9_000;
  t.ok(cache.get([a]), 'fresh enough');
  now += 2_000;
  t.equal(cache.get([a]), undefined, 'too old');
});
