import t from 'tap';
import { streamPositionOf } from '../../../../../modules/e2ee/services/sync-token-position.js';

void t.test('reads a stream position out of a sync token', async (t) => {
  t.equal(streamPositionOf('s12_account_data.3.device_lists.7.to_device.2', 'device_lists'), 7);
  t.equal(streamPositionOf('s12_account_data.3', 'device_lists'), 0, 'a missing stream is at 0');
  t.equal(streamPositionOf('s5', 'device_lists'), 0);
});

void t.test('rejects what is not a sync token', async (t) => {
  for (const bad of ['', 'garbage', 's1_device_lists', 's1_device_lists.x', 't1']) {
    let errcode: unknown;
    try {
      streamPositionOf(bad, 'device_lists');
    } catch (err) {
      errcode = (err as { errcode?: unknown }).errcode;
    }
    t.equal(errcode, 'M_INVALID_PARAM', bad);
  }
});
