import t from 'tap';
import { StreamTracker } from '../../../../../modules/rooms/services/stream-tracker.js';

void t.test('the safe position stays below reservations in flight', async (t) => {
  const tracker = new StreamTracker();
  t.equal(tracker.safePosition(10), 10);
  const a = await tracker.reserve(() => Promise.resolve(11));
  const b = await tracker.reserve(() => Promise.resolve(12));
  tracker.release(b); // 12 committed first
  t.equal(tracker.safePosition(12), 10, '11 is still being written');
  tracker.release(a);
  t.equal(tracker.safePosition(12), 12);
});

void t.test('while a reservation is being made the last safe position holds', async (t) => {
  const tracker = new StreamTracker();
  t.equal(tracker.safePosition(5), 5);
  let resolve: (n: number) => void = () => undefined;
  const pending = tracker.reserve(() => new Promise<number>((r) => (resolve = r)));
  t.equal(tracker.safePosition(9), 5, 'the number being reserved is unknown');
  resolve(6);
  t.equal(await pending, 6);
  t.equal(tracker.safePosition(9), 5);
  tracker.release(6);
  t.equal(tracker.safePosition(9), 9);
});
