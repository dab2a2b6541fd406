import t from 'tap';
import { formatSyncToken, parseSyncToken } from '../../../../modules/sync/services/sync-token.js';

void t.test('round-trips every stream position', async (t) => {
  const token = { events: 42, streams: { account_data: 3, to_device: 9, typing: 0 } };
  const text = formatSyncToken(token);
  t.match(text, /^s42_/, 'starts with s<events>_ so /messages accepts it as from');
  t.same(parseSyncToken(text), token);
});

void t.test('is stable whatever the order of streams', async (t) => {
  t.equal(
    formatSyncToken({ events: 1, streams: { b: 2, a: 1 } }),
    formatSyncToken({ events: 1, streams: { a: 1, b: 2 } }),
  );
});

void t.test('a token with only the events position parses', async (t) => {
  t.same(parseSyncToken('s7'), { events: 7, streams: {} });
});

void t.test('malformed tokens are M_INVALID_PARAM', async (t) => {
  for (const bad of ['', 'x1', 's', 's1_a', 's1_a.x', 's1_A.1', 's-1']) {
    t.throws(() => parseSyncToken(bad), { errcode: 'M_INVALID_PARAM' } as unknown as Error, bad);
  }
});
