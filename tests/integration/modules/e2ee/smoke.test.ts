import t from 'tap';
import { makeDevice, startE2eeServer } from './e2ee-fixtures.js';

void t.test('boot and upload', async (t) => {
  const server = await startE2eeServer(t);
  const alice = await makeDevice(server, 'alice');
  const res = await alice.upload(server, {
    device_keys: alice.deviceKeys(),
    one_time_keys: alice.oneTimeKeys(3),
  });
  t.equal(res.status, 200, res.text);
  t.same(res.body, { one_time_key_counts: { signed_curve25519: 3 } });
});
