import t from 'tap';
import { shouldReplace } from '../../../../../modules/e2ee/services/key-backup-service.js';

const s = (is_verified: boolean, first_message_index: number, forwarded_count: number) => ({
  is_verified,
  first_message_index,
  forwarded_count,
  session_data: {},
});

void t.test('a verified key beats an unverified one whatever the indexes', async (t) => {
  t.ok(shouldReplace(s(false, 0, 0), s(true, 9, 9)));
  t.notOk(shouldReplace(s(true, 9, 9), s(false, 0, 0)));
});

void t.test('with equal verification the lower first_message_index wins', async (t) => {
  t.ok(shouldReplace(s(false, 5, 0), s(false, 4, 7)));
  t.notOk(shouldReplace(s(false, 4, 0), s(false, 5, 0)));
});

void t.test(
  'with equal verification and index the lower forwarded_count wins; a tie keeps the stored key',
  async (t) => {
    t.ok(shouldReplace(s(true, 1, 2), s(true, 1, 1)));
    t.notOk(shouldReplace(s(true, 1, 1), s(true, 1, 2)));
    t.notOk(shouldReplace(s(true, 1, 1), s(true, 1, 1)));
  },
);
