import t from 'tap';
import { NOT_SPAM, type PduJson } from '../../../../core/index.js';
import keywordFilter, { htmlText } from '../../../../spam-checkers/keyword-filter/index.js';
import { registerWithFakeApi } from '../../../helpers/plugin-fixtures/fake-plugin-api.js';

const message = (content: Record<string, unknown>, extra: Partial<PduJson> = {}): { event: PduJson } => ({
  event: {
    type: 'm.room.message',
    sender: '@alice:example.org',
    room_id: '!room:example.org',
    content: { msgtype: 'm.text', ...content },
    origin_server_ts: 0,
    depth: 1,
    prev_events: [],
    auth_events: [],
    hashes: { sha256: '' },
    signatures: {},
    ...extra,
  },
});

const filter = (config: Record<string, unknown>) => registerWithFakeApi(keywordFilter, config);

void t.test('a blocked word in the body refuses the event with the default error', async (t) => {
  const { spamCheckers } = await filter({ blocked_words: ['casino'] });
  t.same(await spamCheckers.check('checkEventForSpam', message({ body: 'Visit our CASINO today' })), {
    errcode: 'M_FORBIDDEN',
    error: 'This message contains blocked content.',
  });
  t.equal(await spamCheckers.check('checkEventForSpam', message({ body: 'hello there' })), NOT_SPAM);
});

void t.test('words match whole words unless match_substrings is set', async (t) => {
  const whole = await filter({ blocked_words: ['casino'] });
  t.equal(
    await whole.spamCheckers.check('checkEventForSpam', message({ body: 'casinos are fun' })),
    NOT_SPAM,
  );
  t.not(await whole.spamCheckers.check('checkEventForSpam', message({ body: 'casino!' })), NOT_SPAM);
  const sub = await filter({ blocked_words: ['casino'], match_substrings: true });
  t.not(await sub.spamCheckers.check('checkEventForSpam', message({ body: 'casinos are fun' })), NOT_SPAM);
});

void t.test('whole words respect other scripts and compatibility forms', async (t) => {
  const { spamCheckers } = await filter({ blocked_words: ['казино'] });
  t.not(await spamCheckers.check('checkEventForSpam', message({ body: 'наше казино!' })), NOT_SPAM);
  t.equal(await spamCheckers.check('checkEventForSpam', message({ body: 'казинозал' })), NOT_SPAM);
  const latin = await filter({ blocked_words: ['casino'] });
  // Fullwidth letters normalise (NFKC) to plain ones.
  t.not(await latin.spamCheckers.check('checkEventForSpam', message({ body: 'ｃａｓｉｎｏ' })), NOT_SPAM);
});

void t.test('regular expressions match anywhere, case-insensitively', async (t) => {
  const { spamCheckers } = await filter({ blocked_patterns: ['buy\\s+followers', '\\bt\\.me/'] });
  t.not(await spamCheckers.check('checkEventForSpam', message({ body: 'BUY   followers now' })), NOT_SPAM);
  t.not(await spamCheckers.check('checkEventForSpam', message({ body: 'see t.me/xyz' })), NOT_SPAM);
  t.equal(await spamCheckers.check('checkEventForSpam', message({ body: 'followers' })), NOT_SPAM);
});

void t.test('formatted bodies are checked with markup removed, so tags cannot split a word', async (t) => {
  const { spamCheckers } = await filter({ blocked_words: ['casino'] });
  const verdict = await spamCheckers.check(
    'checkEventForSpam',
    message({ body: 'clean', format: 'org.matrix.custom.html', formatted_body: 'cas<b>in</b>&#111; night' }),
  );
  t.not(verdict, NOT_SPAM);
  t.equal(htmlText('<p>a &amp;lt; b &#x41;</p>'), 'a &lt; b A');
  t.equal(htmlText('&#9999999;'), '', 'out-of-range code points are dropped, not thrown');
});

void t.test('edits are checked through m.new_content', async (t) => {
  const { spamCheckers } = await filter({ blocked_words: ['casino'] });
  const edit = message({ body: '* fixed', 'm.new_content': { msgtype: 'm.text', body: 'casino' } });
  t.not(await spamCheckers.check('checkEventForSpam', edit), NOT_SPAM);
});

void t.test('state content is checked unless check_state_events is false', async (t) => {
  const topic = message({ topic: 'the best casino' }, { type: 'm.room.topic', state_key: '' });
  const on = await filter({ blocked_words: ['casino'] });
  t.not(await on.spamCheckers.check('checkEventForSpam', topic), NOT_SPAM);
  const off = await filter({ blocked_words: ['casino'], check_state_events: false });
  t.equal(await off.spamCheckers.check('checkEventForSpam', topic), NOT_SPAM);
});

void t.test('the errcode and error are configurable', async (t) => {
  const { spamCheckers } = await filter({
    blocked_words: ['casino'],
    errcode: 'ORG_EXAMPLE_SPAM',
    error: 'No.',
  });
  t.same(await spamCheckers.check('checkEventForSpam', message({ body: 'casino' })), {
    errcode: 'ORG_EXAMPLE_SPAM',
    error: 'No.',
  });
});

void t.test('room names and topics given at creation are checked', async (t) => {
  const { spamCheckers } = await filter({ blocked_words: ['casino'] });
  const args = (request: Record<string, unknown>) => ({ userId: '@alice:example.org', request });
  t.not(await spamCheckers.check('userMayCreateRoom', args({ name: 'Casino Royale' })), NOT_SPAM);
  t.not(await spamCheckers.check('userMayCreateRoom', args({ topic: 'casino' })), NOT_SPAM);
  t.equal(await spamCheckers.check('userMayCreateRoom', args({ name: 'Book club' })), NOT_SPAM);
  const off = await filter({ blocked_words: ['casino'], check_room_creation: false });
  t.equal(await off.spamCheckers.check('userMayCreateRoom', args({ name: 'casino' })), NOT_SPAM);
});

void t.test('server admins are exempt when exempt_admins is set', async (t) => {
  const { spamCheckers, backends } = await filter({ blocked_words: ['casino'], exempt_admins: true });
  backends.users.set('@alice:example.org', { admin: true });
  t.equal(await spamCheckers.check('checkEventForSpam', message({ body: 'casino' })), NOT_SPAM);
  backends.users.set('@alice:example.org', { admin: false });
  t.not(await spamCheckers.check('checkEventForSpam', message({ body: 'casino' })), NOT_SPAM);
});

void t.test('an invalid pattern fails register() naming it', async (t) => {
  await t.rejects(filter({ blocked_patterns: ['ok', '(unclosed'] }), {
    message: /blocked_patterns\[1\] is not a valid regular expression/,
  });
});

void t.test('with nothing configured it registers nothing and warns', async (t) => {
  const { spamCheckers, logs } = await filter({});
  t.equal(spamCheckers.has('checkEventForSpam'), false);
  t.ok(logs.some((l) => /nothing will be filtered/.test(String(l['msg']))));
});
